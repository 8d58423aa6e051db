/**
 * What must hold in every run of the quorum, checked as the run goes and at its end:
 * - at most one leader per epoch (from every node's role, sampled after each step, and from the
 *   LeaderChange records committed in the log);
 * - a committed record is never lost or changed: every node's committed records agree with one
 *   global history, offset by offset, and every append acknowledged as committed is in it;
 * - the high watermark never goes back within one lifetime of a node;
 * - after healing, every node's committed log converges to the same one, and the quorum is live
 *   (checked by the simulation, which reports through `violation`).
 * Violations are collected as sentences; the first one is enough to fail a seed.
 */
export interface CommittedRecord {
  /** The value, or `<control:Type>` for a control record. */
  value: string;
  epoch: number;
}

export class QuorumChecker {
  readonly violations: string[] = [];
  /** Every committed record seen on any node, by offset. */
  readonly history = new Map<number, CommittedRecord>();
  /** The leader of each epoch, from roles and LeaderChange records. */
  readonly leaders = new Map<number, number>();
  private readonly highWatermarks = new Map<string, number>();
  /** Offsets acknowledged to the workload, with their values. */
  readonly acknowledged = new Map<number, string>();

  constructor(private readonly now: () => number) {}

  violation(message: string): void {
    if (this.violations.length < 20) this.violations.push(`at ${this.now()} ms: ${message}`);
  }

  get ok(): boolean {
    return this.violations.length === 0;
  }

  /** `nodeId` is the leader of `epoch` (its role, or a LeaderChange record naming it). */
  observeLeader(epoch: number, nodeId: number, how: string): void {
    const known = this.leaders.get(epoch);
    if (known === undefined) this.leaders.set(epoch, nodeId);
    else if (known !== nodeId) this.violation(`two leaders in epoch ${epoch}: ${known} and ${nodeId} (${how})`);
  }

  /** `nodeId` delivered a committed record. */
  observeCommit(nodeId: number, offset: number, record: CommittedRecord): void {
    const known = this.history.get(offset);
    if (!known) this.history.set(offset, record);
    else if (known.value !== record.value || known.epoch !== record.epoch) {
      this.violation(`node ${nodeId} committed ${record.value}@${record.epoch} at offset ${offset}, where ${known.value}@${known.epoch} was committed`);
    }
  }

  /** The workload's append of `values` was acknowledged with `lastOffset`. */
  observeAcknowledged(lastOffset: number, values: readonly string[]): void {
    values.forEach((value, index) => {
      const offset = lastOffset - values.length + 1 + index;
      this.acknowledged.set(offset, value);
      const known = this.history.get(offset);
      if (known && known.value !== value) this.violation(`append of ${value} acknowledged at offset ${offset}, where ${known.value} is committed`);
    });
  }

  /** A node's high watermark, sampled; `lifetime` names one incarnation of the node. */
  observeHighWatermark(lifetime: string, highWatermark: number): void {
    const previous = this.highWatermarks.get(lifetime) ?? 0;
    if (highWatermark < previous) this.violation(`high watermark of ${lifetime} went back from ${previous} to ${highWatermark}`);
    this.highWatermarks.set(lifetime, Math.max(previous, highWatermark));
  }

  /** At the end: every acknowledged append is in the history with its value. */
  checkAcknowledged(): void {
    for (const [offset, value] of this.acknowledged) {
      const known = this.history.get(offset);
      if (!known) this.violation(`acknowledged append ${value} at offset ${offset} is not committed on any node`);
      else if (known.value !== value) this.violation(`acknowledged append ${value} at offset ${offset} became ${known.value}`);
    }
  }
}
