/**
 * The report of `gregor perf matrix`: the rows as a Markdown table (what docs/benchmarks.md
 * shows), as JSON, and as a self-contained SVG bar chart (throughput of each configuration beside
 * the raw-disk write of the same bytes, latency p50 / p99 as labels). Pure functions: no I/O.
 */

export interface MatrixRow {
  /** Which factor of seed 004's comparison the row varies: 'acks', 'batching' or 'compression'. */
  group: string;
  label: string;
  acks: number;
  batchBytes: number;
  lingerMs: number;
  compression: string;
  records: number;
  recordBytes: number;
  seconds: number;
  recordsPerSecond: number;
  /** Payload (keys and values) per second. */
  megabytesPerSecond: number;
  /** Bytes the log grew by (in-process runs; null over the network) per second. */
  logMegabytesPerSecond: number | null;
  /** Log bytes over payload bytes: what compression saved (null over the network). */
  logBytesRatio: number | null;
  latencyMsP50: number;
  latencyMsP99: number;
  /** Raw `fs.writeSync` of the same bytes in batch-sized writes, in this run. */
  rawDiskMegabytesPerSecond: number;
}

export interface MatrixReport {
  startedAt: string;
  target: string;
  machine: { cpus: number; cpuModel: string; node: string; platform: string };
  records: number;
  recordBytes: number;
  partitions: number;
  /** Records sent first with the base settings and not reported (JIT warm-up). */
  warmupRecords: number;
  rows: MatrixRow[];
}

const fixed = (n: number | null, digits: number) => (n === null ? '–' : n.toFixed(digits));
const thousands = (n: number) => Math.round(n).toLocaleString('en-US');
const acksName = (acks: number) => (acks === -1 ? 'all' : String(acks));

export function markdownTable(report: MatrixReport): string {
  const header = ['factor', 'configuration', 'records/s', 'MB/s payload', 'MB/s log', 'log/payload', 'p50 ms', 'p99 ms', 'raw disk MB/s', 'log ÷ raw'];
  const rows = report.rows.map((r) => [
    r.group,
    r.label,
    thousands(r.recordsPerSecond),
    fixed(r.megabytesPerSecond, 1),
    fixed(r.logMegabytesPerSecond, 1),
    fixed(r.logBytesRatio, 2),
    fixed(r.latencyMsP50, 1),
    fixed(r.latencyMsP99, 1),
    fixed(r.rawDiskMegabytesPerSecond, 0),
    r.logMegabytesPerSecond === null ? '–' : fixed(r.logMegabytesPerSecond / r.rawDiskMegabytesPerSecond, 3),
  ]);
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map((_, i) => (i < 2 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

export function configurationLabel(row: Pick<MatrixRow, 'acks' | 'batchBytes' | 'lingerMs' | 'compression'>): string {
  return `acks=${acksName(row.acks)} batch=${row.batchBytes / 1024}K linger=${row.lingerMs}ms ${row.compression}`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A horizontal bar chart: one bar per row (payload MB/s), its rates, latencies and raw-disk figure beside it. */
export function svgChart(report: MatrixReport): string {
  const width = 1200;
  const left = 290;
  const right = 480;
  const rowHeight = 28;
  const top = 96;
  const height = top + report.rows.length * rowHeight + 44;
  const plotWidth = width - left - right;
  const max = Math.max(1, ...report.rows.map((r) => r.megabytesPerSecond));
  const scale = (v: number) => (v / max) * plotWidth;
  const colors: Record<string, string> = { acks: '#1f6feb', batching: '#8250df', compression: '#1a7f37', full: '#57606a' };
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="system-ui, sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="16" font-weight="600">gregor perf matrix: ${thousands(report.records)} records of ${report.recordBytes} B per configuration, ${report.partitions} partition(s)</text>`,
    `<text x="16" y="46" fill="#57606a">${escapeXml(`${report.target}; ${report.machine.cpus} × ${report.machine.cpuModel}; Node ${report.machine.node}; ${report.startedAt}`)}</text>`,
    `<text x="16" y="64" fill="#57606a">bar: payload MB/s; p50 / p99: send to acknowledgement; raw disk: fs.writeSync of as many bytes in batch-sized writes, measured in the same run</text>`,
  ];
  let legendX = 16;
  for (const group of [...new Set(report.rows.map((r) => r.group))]) {
    parts.push(`<rect x="${legendX}" y="74" width="10" height="10" fill="${colors[group] ?? '#57606a'}"/><text x="${legendX + 14}" y="83">${escapeXml(group)}</text>`);
    legendX += 24 + group.length * 7;
  }
  report.rows.forEach((row, i) => {
    const y = top + i * rowHeight;
    const bar = Math.max(1, scale(row.megabytesPerSecond));
    parts.push(`<text x="${left - 8}" y="${y + 17}" text-anchor="end">${escapeXml(row.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y + 5}" width="${bar.toFixed(1)}" height="${rowHeight - 10}" fill="${colors[row.group] ?? '#57606a'}" rx="3"/>`);
    parts.push(`<text x="${left + bar + 6}" y="${y + 17}">${escapeXml(`${fixed(row.megabytesPerSecond, 1)} MB/s · ${thousands(row.recordsPerSecond)} rec/s · p50 ${fixed(row.latencyMsP50, 1)} / p99 ${fixed(row.latencyMsP99, 1)} ms · raw disk ${fixed(row.rawDiskMegabytesPerSecond, 0)} MB/s`)}</text>`);
  });
  const axisY = top + report.rows.length * rowHeight + 6;
  parts.push(`<line x1="${left}" y1="${top}" x2="${left}" y2="${axisY}" stroke="#8c959f"/>`);
  parts.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotWidth}" y2="${axisY}" stroke="#8c959f"/>`);
  parts.push(`<text x="${left}" y="${axisY + 18}" fill="#57606a">0</text>`);
  parts.push(`<text x="${left + plotWidth}" y="${axisY + 18}" text-anchor="middle" fill="#57606a">${fixed(max, 1)} MB/s</text>`);
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** The p-th percentile (0..100) of sorted values, nearest rank. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1];
}
