/**
 * The controller's metadata log over the raft client: `append(epoch, records)` is raft's
 * `scheduleAtomicAppend` (Kafka's form: offsets known at once, the batch written within
 * `controller.quorum.append.linger.ms`, `committed` settling on commit or on lost leadership), and
 * `nextOffset()` the offset the next append gets on the leader (lingering appends counted).
 *
 * Single-threaded; the controller calls it from its event queue.
 */
import type { RaftClient } from '@gregor/cluster';
import type { ControllerLog } from '@gregor/metadata';

export class RaftControllerLog implements ControllerLog {
  constructor(private readonly raft: RaftClient) {}

  nextOffset(): number {
    return this.raft.isLeader ? this.raft.nextAppendOffset : this.raft.logEndOffset;
  }

  append(epoch: number, records: readonly Buffer[]): { baseOffset: number; committed: Promise<void> } {
    const { baseOffset, committed } = this.raft.scheduleAtomicAppend(epoch, records);
    return { baseOffset, committed };
  }
}
