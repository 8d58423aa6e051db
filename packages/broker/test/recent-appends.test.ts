/**
 * A leader answers its followers' Fetches for what it has just appended from memory
 * (RecentAppends): checked against the log's own read of the segment files, with random appends
 * (owned and not), follower fetch offsets, byte and offset limits, rolls and truncations.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, MemoryFileSystem, PartitionLog } from '@gregor/log';
import { forEachBatch } from '@gregor/records';
import { Partition } from '@gregor/broker';
import { RecentAppends } from '../src/recent-appends.js';
import { batch } from './helpers.js';

const TOPIC_ID = '11111111-2222-4333-8444-555555555555';

function leader(recentAppendsMaxBytes: number, segmentBytes = 1 << 20): { partition: Partition; log: PartitionLog } {
  const fs = new MemoryFileSystem();
  const clock = new FakeClock();
  const log = PartitionLog.open({ fs, dir: '/data/t-0', clock, config: { segmentBytes } });
  const partition = new Partition({
    topic: 't', topicId: TOPIC_ID, partitionIndex: 0, log, fs, dir: '/data/t-0', nodeId: 0, clock,
    producerBatchesRetained: 5, producerSnapshotsRetained: 2, producerIdExpirationMs: 86_400_000, replicaLagTimeMaxMs: 30_000,
    recentAppendsMaxBytes,
    alterPartition: () => new Promise(() => {}),
    isReplicaIsrEligible: () => true,
  });
  partition.makeLeader({ replicas: [0, 1, 2], isr: [0, 1, 2], removingReplicas: [], addingReplicas: [], elr: [], lastKnownElr: [], leader: 0, leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0 });
  return { partition, log };
}

function append(partition: Partition, values: string[], bytesOwned: boolean, appended?: Set<ArrayBufferLike>): void {
  const records = batch(values);
  appended?.add(records.buffer);
  const outcome = partition.appendRecordsToLeader(records, { requiredAcks: 1, maxMessageBytes: 1 << 20, minInsyncReplicas: 1, decompressedBytesMax: 1 << 20, bytesOwned });
  expect(outcome.errorCode).toBe(0);
}

function batchOffsets(records: Buffer): number[] {
  const offsets: number[] = [];
  forEachBatch(records, (position) => offsets.push(Number(records.readBigInt64BE(position))));
  return offsets;
}

describe('a leader\'s recent appends', () => {
  it('answer a follower\'s Fetch with whole batches the log holds, as its segment files do (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('append' as const), values: fc.array(fc.string({ maxLength: 300 }), { minLength: 1, maxLength: 4 }), owned: fc.boolean() }),
      fc.record({ kind: fc.constant('fetch' as const), follower: fc.constantFrom(1, 2), back: fc.nat(6), maxBytes: fc.integer({ min: 1, max: 4000 }) }),
      fc.record({ kind: fc.constant('roll' as const) }),
    );
    let servedFromMemory = 0;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 3000 }), fc.array(step, { maxLength: 40 }), (cacheBytes, steps) => {
        const { partition, log } = leader(cacheBytes, 4096);
        const appended = new Set<ArrayBufferLike>();
        for (const s of steps) {
          if (s.kind === 'append') append(partition, s.values, s.owned, appended);
          else if (s.kind === 'roll') log.roll();
          else {
            // A follower fetches at a batch boundary at or below the LEO, as followers do.
            const starts = [...batchOffsets(log.read(log.logStartOffset, { maxBytes: 1 << 30 }).records), log.logEndOffset];
            const offset = starts[Math.max(0, starts.length - 1 - s.back)];
            const answer = partition.read(offset, s.maxBytes, true, true);
            const fromFile = log.read(offset, { maxBytes: s.maxBytes, minOneBatch: true });
            expect(answer.errorCode).toBe(0);
            // The same bytes as the file from the same offset: the file's answer, or a prefix of whole batches of it.
            expect(fromFile.records.subarray(0, answer.records.length).equals(answer.records)).toBe(true);
            expect(answer.records.length > 0).toBe(fromFile.records.length > 0);
            if (answer.records.length > 0) {
              expect(batchOffsets(answer.records)[0]).toBe(offset);
              expect(batchOffsets(fromFile.records)).toEqual(expect.arrayContaining(batchOffsets(answer.records)));
            }
            if (appended.has(answer.records.buffer)) servedFromMemory++;
            partition.updateFollowerFetchState(s.follower, offset, 0, partition.logEndOffset);
          }
          expect(partition.recentAppendsBytes).toBeLessThanOrEqual(cacheBytes);
        }
      }),
      { numRuns: 150 },
    );
    // The runs did exercise the memory path, not only the file.
    expect(servedFromMemory).toBeGreaterThan(20);
  });

  it('serves a caught-up follower from memory and lets go once every ISR follower has fetched', () => {
    const { partition, log } = leader(1 << 20);
    append(partition, ['a', 'b'], true);
    expect(partition.recentAppendsBytes).toBeGreaterThan(0);
    const fromMemory = partition.read(0, 1 << 20, true, true).records;
    // A view of the appended bytes, not a read of the file into a new buffer.
    const second = partition.read(0, 1 << 20, true, true).records;
    expect(second.buffer).toBe(fromMemory.buffer);
    expect(fromMemory.equals(log.read(0, { maxBytes: 1 << 20 }).records)).toBe(true);
    partition.updateFollowerFetchState(1, 2, 0, partition.logEndOffset);
    expect(partition.recentAppendsBytes).toBeGreaterThan(0);
    partition.updateFollowerFetchState(2, 2, 0, partition.logEndOffset);
    expect(partition.recentAppendsBytes).toBe(0);
  });

  it('keeps nothing a caller may reuse, and nothing once the log\'s tail changes', () => {
    const { partition } = leader(1 << 20);
    append(partition, ['a'], false);
    expect(partition.recentAppendsBytes).toBe(0);
    append(partition, ['b'], true);
    expect(partition.recentAppendsBytes).toBeGreaterThan(0);
    partition.makeFollower({ replicas: [0, 1, 2], isr: [1, 2], removingReplicas: [], addingReplicas: [], elr: [], lastKnownElr: [], leader: 1, leaderRecoveryState: 0, leaderEpoch: 1, partitionEpoch: 1 });
    expect(partition.recentAppendsBytes).toBe(0);
  });
});

describe('RecentAppends', () => {
  it('holds a contiguous run within its byte limit, oldest dropped first, and starts over on a gap or a new segment', () => {
    const recent = new RecentAppends(100);
    const set = (offset: number, size: number): Buffer => {
      const bytes = Buffer.alloc(size);
      bytes.writeBigInt64BE(BigInt(offset), 0);
      return bytes;
    };
    recent.add(0, 2, set(0, 40), 0);
    recent.add(2, 3, set(2, 40), 0);
    expect(recent.read(0, 1000, 3, 0)?.length).toBe(80);
    expect(recent.read(0, 79, 3, 0)?.length).toBe(40);
    expect(recent.read(0, 1000, 2, 0)?.length).toBe(40);
    expect(recent.read(1, 1000, 3, 0)).toBeNull();
    expect(recent.read(2, 1000, 3, 1)).toBeNull();
    recent.add(3, 4, set(3, 40), 0);
    expect(recent.bytes).toBe(80);
    expect(recent.read(0, 1000, 4, 0)).toBeNull();
    recent.add(9, 10, set(9, 10), 0);
    expect(recent.bytes).toBe(10);
    recent.add(10, 11, set(10, 10), 5);
    expect(recent.bytes).toBe(10);
    recent.add(11, 12, set(11, 200), 5);
    expect(recent.bytes).toBe(0);
  });
});
