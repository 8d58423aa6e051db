/**
 * The leader's side of replication on one Partition, driven directly: followers' fetch offsets
 * move the high watermark over the maximal ISR, acks=all waits for it, ISR shrink and expand go
 * through an AlterPartition the test answers as a controller would, and the HW never moves back.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ErrorCode } from '@gregor/protocol';
import { FakeClock, MemoryFileSystem, PartitionLog } from '@gregor/log';
import type { PartitionRegistration } from '@gregor/metadata';
import { type IsrChange, type IsrChangeOutcome, Partition } from '@gregor/broker';
import { batch } from './helpers.js';

const LAG_MS = 1000;
const TOPIC_ID = '11111111-2222-4333-8444-555555555555';

interface Harness {
  partition: Partition;
  clock: FakeClock;
  /** ISR changes sent to the controller and not answered yet. */
  pending: { change: IsrChange; answer: (outcome: IsrChangeOutcome) => void }[];
  /** Answers the oldest pending change as a controller that accepts it (new partition epoch). */
  commitNext(): IsrChange;
  registration(isr: number[], leaderEpoch?: number): PartitionRegistration;
}

function harness(replicas = [0, 1, 2], isr = replicas, eligible: (id: number) => boolean = () => true, highWatermarkMinIsr = 0): Harness {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const log = PartitionLog.open({ fs, dir: '/data/t-0', clock });
  const pending: Harness['pending'] = [];
  let partitionEpoch = 0;
  const partition = new Partition({
    topic: 't', topicId: TOPIC_ID, partitionIndex: 0, log, fs, dir: '/data/t-0', nodeId: 0, clock,
    producerBatchesRetained: 5, producerSnapshotsRetained: 2, producerIdExpirationMs: 86_400_000, replicaLagTimeMaxMs: LAG_MS,
    alterPartition: (change) => new Promise((answer) => pending.push({ change, answer })),
    isReplicaIsrEligible: eligible,
    highWatermarkMinIsr: () => highWatermarkMinIsr,
  });
  const h: Harness = {
    partition,
    clock,
    pending,
    commitNext() {
      const next = pending.shift();
      if (next === undefined) throw new Error('no pending ISR change');
      partitionEpoch += 1;
      next.answer({ errorCode: 0, leaderId: 0, leaderEpoch: next.change.leaderEpoch, isr: [...next.change.newIsr], partitionEpoch });
      return next.change;
    },
    registration: (currentIsr, leaderEpoch = 0) => ({
      replicas, isr: currentIsr, removingReplicas: [], addingReplicas: [], elr: [], lastKnownElr: [], leader: 0, leaderRecoveryState: 0, leaderEpoch, partitionEpoch,
    }),
  };
  partition.makeLeader(h.registration(isr));
  return h;
}

function append(partition: Partition, values: string[], acks = -1, minInsyncReplicas = 1): ReturnType<Partition['appendRecordsToLeader']> {
  return partition.appendRecordsToLeader(batch(values), { requiredAcks: acks, maxMessageBytes: 1 << 20, minInsyncReplicas, decompressedBytesMax: 1 << 20 });
}

/** A Fetch from follower `id` at `offset`, as the Fetch handler reports it. */
function fetchFrom(partition: Partition, id: number, offset: number): boolean {
  return partition.updateFollowerFetchState(id, offset, 0, partition.logEndOffset);
}

const flush = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('partition replication state (leader side)', () => {
  it('answers acks=all only once every ISR member has fetched past the batch', async () => {
    const { partition } = harness();
    const appended = append(partition, ['a', 'b']);
    expect(appended).toMatchObject({ errorCode: 0, baseOffset: 0, lastOffset: 1 });
    let answer: number | undefined;
    void partition.waitForReplication(2, 2, 10_000).then((code) => { answer = code; });
    fetchFrom(partition, 1, 2);
    expect(partition.highWatermark).toBe(0);
    fetchFrom(partition, 2, 1);
    expect(partition.highWatermark).toBe(1);
    await flush();
    expect(answer).toBeUndefined();
    fetchFrom(partition, 2, 2);
    expect(partition.highWatermark).toBe(2);
    await flush();
    expect(answer).toBe(ErrorCode.NONE);
  });

  it('keeps a lagging follower in the HW until the controller commits its removal, then refuses acks=all below min.insync.replicas', async () => {
    const h = harness([0, 1], [0, 1]);
    const { partition, clock } = h;
    fetchFrom(partition, 1, 0);
    append(partition, ['a']);
    let afterAppend: number | undefined;
    void partition.waitForReplication(1, 2, 60_000).then((code) => { afterAppend = code; });
    clock.advance(LAG_MS / 2);
    expect(partition.maybeShrinkIsr()).toEqual([]);
    clock.advance(LAG_MS);
    expect(partition.maybeShrinkIsr()).toEqual([1]);
    expect(h.pending.map((entry) => entry.change.newIsr)).toEqual([[0]]);
    // A removal in flight still counts: the HW waits for the old ISR.
    expect(partition.maximalIsr).toEqual([0, 1]);
    expect(partition.highWatermark).toBe(0);
    expect(partition.maybeShrinkIsr()).toEqual([]);
    h.commitNext();
    await flush();
    expect(partition.isr).toEqual([0]);
    expect(partition.highWatermark).toBe(1);
    expect(afterAppend).toBe(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    const refused = append(partition, ['b'], -1, 2);
    expect(refused).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
    expect(partition.logEndOffset).toBe(1);
    expect(append(partition, ['b'], 1, 2)).toMatchObject({ errorCode: 0, baseOffset: 1 });
  });

  it('holds the high watermark while the ISR is under min.insync.replicas, so a replica that left stays a safe leader (KIP-966)', async () => {
    const h = harness([0, 1, 2], [0, 1, 2], () => true, 2);
    const { partition, clock } = h;
    append(partition, ['a', 'b']);
    fetchFrom(partition, 1, 2);
    fetchFrom(partition, 2, 2);
    expect(partition.highWatermark).toBe(2);
    // Followers 1 and 2 stop fetching; acks=1 appends go on.
    append(partition, ['c'], 1);
    clock.advance(LAG_MS * 2);
    expect(partition.maybeShrinkIsr()).toEqual([1, 2]);
    h.commitNext();
    await flush();
    expect(partition.isr).toEqual([0]);
    // Alone, the leader holds every record, but the HW does not move: 1 and 2, eligible leader
    // replicas now, hold everything below it.
    expect(partition.highWatermark).toBe(2);
    append(partition, ['d'], 1);
    expect(partition.highWatermark).toBe(2);
    // Follower 1 catches up and rejoins: the ISR is at min ISR again and the HW moves.
    fetchFrom(partition, 1, 4);
    expect(h.pending.map((entry) => entry.change.newIsr)).toEqual([[0, 1]]);
    h.commitNext();
    await flush();
    expect(partition.isr).toEqual([0, 1]);
    expect(partition.highWatermark).toBe(4);
  });

  it('proposes a follower that reaches the HW for the ISR and counts it for the HW before the controller answers', async () => {
    const h = harness([0, 1], [0]);
    const { partition } = h;
    append(partition, ['a', 'b', 'c']);
    expect(partition.highWatermark).toBe(3);
    fetchFrom(partition, 1, 1);
    expect(h.pending).toEqual([]);
    fetchFrom(partition, 1, 3);
    expect(h.pending.map((entry) => entry.change.newIsr)).toEqual([[0, 1]]);
    expect(partition.maximalIsr).toEqual([0, 1]);
    append(partition, ['d']);
    expect(partition.highWatermark).toBe(3);
    fetchFrom(partition, 1, 4);
    expect(partition.highWatermark).toBe(4);
    h.commitNext();
    await flush();
    expect(partition.isr).toEqual([0, 1]);
    expect(partition.hasPendingIsrChange).toBe(false);
  });

  it('lets a follower rejoin only once it holds everything from the start of the leader\'s epoch', async () => {
    const h = harness([0, 1], [0]);
    const { partition } = h;
    append(partition, ['a', 'b']);
    // A new leader epoch starts at offset 2; the HW is already 2.
    partition.makeLeader(h.registration([0], 1));
    expect(partition.leaderEpochStartOffset).toBe(2);
    fetchFrom(partition, 1, 2);
    expect(h.pending.map((entry) => entry.change.newIsr)).toEqual([[0, 1]]);
  });

  it('does not propose an ineligible (fenced or shutting down) replica', () => {
    const h = harness([0, 1], [0], (id) => id !== 1);
    append(h.partition, ['a']);
    fetchFrom(h.partition, 1, 1);
    expect(h.pending).toEqual([]);
  });

  it('ignores fetch state from replica ids that are not assigned followers', () => {
    const { partition } = harness([0, 1], [0, 1]);
    append(partition, ['a']);
    expect(fetchFrom(partition, 7, 1)).toBe(false);
    expect(fetchFrom(partition, 0, 1)).toBe(false);
    expect(partition.highWatermark).toBe(0);
    expect(fetchFrom(partition, 1, 1)).toBe(true);
    expect(partition.highWatermark).toBe(1);
  });

  it('answers parked acks=all NOT_LEADER_OR_FOLLOWER when leadership moves, and REQUEST_TIMED_OUT after the timeout', async () => {
    const h = harness([0, 1], [0, 1]);
    const { partition, clock } = h;
    append(partition, ['a']);
    let timedOut: number | undefined;
    void partition.waitForReplication(1, 1, 500).then((code) => { timedOut = code; });
    clock.advance(500);
    await flush();
    expect(timedOut).toBe(ErrorCode.REQUEST_TIMED_OUT);
    let moved: number | undefined;
    void partition.waitForReplication(1, 1, 60_000).then((code) => { moved = code; });
    partition.makeFollower({ ...h.registration([1], 1), leader: 1 });
    await flush();
    expect(moved).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(append(partition, ['b'])).toMatchObject({ errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
    expect(partition.leaderError(-1)).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    expect(partition.leaderError(0)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(partition.leaderError(2)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
  });

  it('ignores an AlterPartition answer once an image has settled the partition another way', async () => {
    const h = harness([0, 1], [0, 1]);
    const { partition, clock } = h;
    fetchFrom(partition, 1, 0);
    append(partition, ['a']);
    clock.advance(LAG_MS + 1);
    expect(partition.maybeShrinkIsr()).toEqual([1]);
    // The image changes the partition first (say, a new leader epoch with the same ISR).
    partition.makeLeader(h.registration([0, 1], 1));
    h.commitNext();
    await flush();
    expect(partition.isr).toEqual([0, 1]);
  });
});

type Operation =
  | { kind: 'append'; count: number }
  | { kind: 'fetch'; replica: number; back: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'shrink' }
  | { kind: 'answer'; accept: boolean }
  | { kind: 'newEpoch' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.record({ kind: fc.constant('append' as const), count: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('fetch' as const), replica: fc.integer({ min: 1, max: 2 }), back: fc.integer({ min: 0, max: 3 }) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1, max: LAG_MS }) }),
  fc.record({ kind: fc.constant('shrink' as const) }),
  fc.record({ kind: fc.constant('answer' as const), accept: fc.boolean() }),
  fc.record({ kind: fc.constant('newEpoch' as const) }),
);

describe('the high watermark', () => {
  it('never moves back, never passes the log end offset, and only moves to what the whole maximal ISR holds', async () => {
    await fc.assert(fc.asyncProperty(fc.array(operation, { maxLength: 60 }), async (operations) => {
      const h = harness([0, 1, 2], [0, 1, 2]);
      const { partition, clock } = h;
      const fetched = new Map<number, number>();
      let leaderEpoch = 0;
      for (const op of operations) {
        const before = partition.highWatermark;
        const maximalIsr = [...partition.maximalIsr];
        if (op.kind === 'append') append(partition, Array.from({ length: op.count }, (_, index) => `v${index}`), 1);
        else if (op.kind === 'fetch') {
          // A follower only ever fetches forward, up to the leader's end.
          const offset = Math.max(fetched.get(op.replica) ?? 0, partition.logEndOffset - op.back);
          fetched.set(op.replica, offset);
          fetchFrom(partition, op.replica, offset);
        } else if (op.kind === 'advance') clock.advance(op.ms);
        else if (op.kind === 'shrink') partition.maybeShrinkIsr();
        else if (op.kind === 'newEpoch') {
          leaderEpoch += 1;
          // The image confirms whatever ISR was committed last.
          partition.makeLeader(h.registration([...partition.isr], leaderEpoch));
          h.pending.length = 0;
        } else if (h.pending.length > 0) {
          if (op.accept) h.commitNext();
          else h.pending.shift()?.answer({ errorCode: ErrorCode.INVALID_UPDATE_VERSION });
          await flush();
        }
        const after = partition.highWatermark;
        expect(after).toBeGreaterThanOrEqual(before);
        expect(after).toBeLessThanOrEqual(partition.logEndOffset);
        if (after > before) {
          // Every member of the maximal ISR (as it was or is now) that the HW counted held it.
          for (const id of new Set([...maximalIsr, ...partition.maximalIsr])) {
            if (id === 0 || !partition.maximalIsr.includes(id)) continue;
            expect(fetched.get(id) ?? -1).toBeGreaterThanOrEqual(after);
          }
        }
      }
    }), { numRuns: Number(process.env.GREGOR_MODEL_RUNS ?? 200) });
  });
});
