/**
 * Delivery to the state machines above the quorum (Kafka's `ListenerContext`): each registered
 * listener has a position, the next offset it expects. A new listener first gets the newest
 * snapshot, if any (`handleLoadSnapshot`), then the committed batches of the log after it, in
 * order, each once (`handleCommit`); a listener whose position falls below the log start (a
 * snapshot was fetched from the leader and the log restarted after it) gets that snapshot next.
 * `handleLeaderChange` follows every change of leader or epoch, except that a listener on the
 * leader hears of its leadership only once it has been given every record before the epoch's
 * start, so it never acts as leader on stale state. `handleQuorumHighWatermark` (ours, not
 * Kafka's, optional) follows every change of the quorum high watermark a leader made known, after
 * the commits below it that this node holds: a listener waiting to reach it (the metadata loader)
 * hears of it even when no commit follows.
 *
 * Callbacks run synchronously inside the client's event handling; a listener may call `append` or
 * `createSnapshot` from them (a delivery they cause runs after the current one, never nested).
 */
import assert from 'node:assert/strict';
import type { LeaderAndEpoch } from './errors.js';
import type { RaftLog } from './raft-log.js';
import { type RaftBatch, toRaftBatch } from './records.js';
import type { SnapshotReader } from './snapshots.js';

export interface RaftListener {
  /** Committed batches in offset order (control batches included, with `control` set and no records). */
  handleCommit(batches: RaftBatch[]): void;
  /** Replace the state with this snapshot's; the batches that follow continue after `snapshotId.endOffset`. */
  handleLoadSnapshot(reader: SnapshotReader): void;
  handleLeaderChange(leader: LeaderAndEpoch): void;
  /** The quorum high watermark a leader made known in this lifetime moved to `offset` (`RaftClient.knownQuorumHighWatermark`). */
  handleQuorumHighWatermark?(offset: number): void;
}

export interface RaftLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

export const silentRaftLogger: RaftLogger = { info: () => {}, warn: () => {}, error: () => {} };

export interface DeliverySource {
  readonly log: RaftLog;
  readonly highWatermark: number;
  readonly knownQuorumHighWatermark: number | undefined;
  readonly leaderAndEpoch: LeaderAndEpoch;
  /** On the leader: its epoch's start offset; listeners learn of the leadership once past it. */
  readonly localLeaderEpochStartOffset: number | undefined;
  readonly readMaxBytes: number;
  readonly logger: RaftLogger;
}

class ListenerContext {
  /** Next offset expected; undefined before the first delivery. */
  nextOffset: number | undefined;
  lastLeader: LeaderAndEpoch | undefined;
  lastQuorumHighWatermark: number | undefined;
  constructor(readonly listener: RaftListener) {}
}

export class ListenerDelivery {
  private contexts: ListenerContext[] = [];
  private delivering = false;
  private deliverAgain = false;

  constructor(private readonly source: DeliverySource) {}

  register(listener: RaftListener): void {
    if (this.contexts.some((context) => context.listener === listener)) return;
    this.contexts.push(new ListenerContext(listener));
    this.deliver();
  }

  unregister(listener: RaftListener): void {
    this.contexts = this.contexts.filter((context) => context.listener !== listener);
  }

  /** The positions of the listeners (tests, and retention: nothing they still need is deleted). */
  positions(): Array<number | undefined> {
    return this.contexts.map((context) => context.nextOffset);
  }

  /** Brings every listener up to the high watermark and the current leader. Never nested. */
  deliver(): void {
    if (this.delivering) {
      this.deliverAgain = true;
      return;
    }
    this.delivering = true;
    try {
      do {
        this.deliverAgain = false;
        for (const context of [...this.contexts]) {
          if (!this.contexts.includes(context)) continue;
          this.deliverTo(context);
        }
      } while (this.deliverAgain);
    } finally {
      this.delivering = false;
    }
  }

  private deliverTo(context: ListenerContext): void {
    const { log } = this.source;
    for (;;) {
      if (!this.contexts.includes(context)) return;
      // A callback may have moved the log start (a snapshot and retention): check before each read.
      const latest = log.latestSnapshotId;
      if ((context.nextOffset === undefined || context.nextOffset < log.logStartOffset) && latest) {
        assert.ok(latest.endOffset >= log.logStartOffset, 'the log starts at or before the newest snapshot');
        const reader = log.readSnapshot(latest);
        context.nextOffset = latest.endOffset;
        this.call(context, 'handleLoadSnapshot', () => context.listener.handleLoadSnapshot(reader));
        continue;
      }
      context.nextOffset ??= log.logStartOffset;
      if (context.nextOffset >= this.source.highWatermark) break;
      const highWatermark = this.source.highWatermark;
      const read = log.read(context.nextOffset, highWatermark, this.source.readMaxBytes);
      if (read.records.length === 0) break;
      const batches: RaftBatch[] = [];
      for (let position = 0; position < read.records.length; ) {
        const batch = toRaftBatch(read.records, position);
        position += batch.sizeInBytes;
        if (batch.lastOffset >= highWatermark) break;
        batches.push(batch);
      }
      if (batches.length === 0) break;
      context.nextOffset = batches[batches.length - 1].lastOffset + 1;
      this.call(context, 'handleCommit', () => context.listener.handleCommit(batches));
    }
    this.maybeFireQuorumHighWatermark(context);
    this.maybeFireLeaderChange(context);
  }

  private maybeFireQuorumHighWatermark(context: ListenerContext): void {
    const known = this.source.knownQuorumHighWatermark;
    const { listener } = context;
    if (known === undefined || known === context.lastQuorumHighWatermark || !this.contexts.includes(context)) return;
    assert.ok(context.lastQuorumHighWatermark === undefined || known > context.lastQuorumHighWatermark, 'the quorum high watermark a leader made known never goes back');
    context.lastQuorumHighWatermark = known;
    if (listener.handleQuorumHighWatermark) this.call(context, 'handleQuorumHighWatermark', () => listener.handleQuorumHighWatermark?.(known));
  }

  private maybeFireLeaderChange(context: ListenerContext): void {
    const leader = this.source.leaderAndEpoch;
    const last = context.lastLeader;
    if (last && last.leaderId === leader.leaderId && last.epoch === leader.epoch) return;
    const epochStart = this.source.localLeaderEpochStartOffset;
    if (epochStart !== undefined && (context.nextOffset ?? 0) < epochStart) return;
    context.lastLeader = { ...leader };
    this.call(context, 'handleLeaderChange', () => context.listener.handleLeaderChange({ ...leader }));
  }

  private call(context: ListenerContext, callback: string, run: () => void): void {
    try {
      run();
    } catch (error) {
      this.source.logger.error(`listener ${callback} threw; delivery continues`, { error: String(error), nextOffset: context.nextOffset });
    }
  }
}
