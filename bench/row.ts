/** One line of a benchmark table: our figure, and the baseline measured in the same run. */
export interface Row {
  name: string;
  value: number;
  unit: string;
  /** What the same work costs without Gregor (raw fs.writeSync, raw loopback TCP...), same unit. */
  baseline?: number;
  baselineName?: string;
  note?: string;
}
