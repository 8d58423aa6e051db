/**
 * The replica comparison the multi-process tests end with: real partition logs written by
 * @gregor/log on disk, copied as a follower's replica would be (the same bytes), then damaged the
 * ways a replication bug would leave them. Each damage below the high watermark is reported;
 * identical replicas, and differences above the high watermark, are not.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { nodeFileSystem, PartitionLog } from '@gregor/log';
import { encodeBatch, patchPartitionLeaderEpoch } from '@gregor/records';
import { readStoredBatches, recordsBelow, replicaDivergences, type StoredBatch } from './replica-logs.js';
import { TempDirs } from './support.js';

const dirs = new TempDirs();
afterEach(() => dirs.removeAll());

/** A leader's log of 12 batches of 3 records (offsets 0-35), in two leader epochs, over several segments. */
async function leaderLog(): Promise<string> {
  const dir = path.join(await dirs.create('gregor-replica-logs-'), 'topic-0');
  const log = PartitionLog.open({ fs: nodeFileSystem, dir, config: { segmentBytes: 400 } });
  for (let batch = 0; batch < 12; batch++) {
    const records = [0, 1, 2].map((i) => ({ value: Buffer.from(`record-${batch * 3 + i}`) }));
    log.append(encodeBatch({ records, timestamp: 1_700_000_000_000 }), { leaderEpoch: batch < 6 ? 3 : 5 });
  }
  log.close();
  return dir;
}

/** Copies of the leader's partition directory, as the followers' replicas are byte for byte. */
async function replicas(count: number): Promise<string[]> {
  const leader = await leaderLog();
  const copies = [leader];
  for (let i = 1; i < count; i++) {
    const copy = path.join(await dirs.create('gregor-replica-logs-'), 'topic-0');
    fs.cpSync(leader, copy, { recursive: true });
    copies.push(copy);
  }
  return copies;
}

const compare = (replicaDirs: string[], highWatermark: number) =>
  replicaDivergences(new Map(replicaDirs.map((dir, index) => [index + 1, readStoredBatches(dir).batches] as const)), highWatermark);

/** Rewrites the segment holding `offset` through `change`, which gets the segment's bytes and the batch's position in them. */
function changeBatch(dir: string, offset: number, change: (segment: Buffer, batch: StoredBatch) => Buffer): void {
  const batch = readStoredBatches(dir).batches.find((b) => b.baseOffset <= offset && offset <= b.lastOffset) as StoredBatch;
  const file = path.join(dir, batch.file);
  fs.writeFileSync(file, change(fs.readFileSync(file), batch));
}

describe('replicaDivergences', () => {
  it('finds none between replicas holding the same bytes, spread over several segments', async () => {
    const copies = await replicas(3);
    const stored = readStoredBatches(copies[0] as string);
    expect(stored.problems).toEqual([]);
    expect(new Set(stored.batches.map((b) => b.file)).size).toBeGreaterThan(2);
    expect(stored.batches.map((b) => b.partitionLeaderEpoch)).toEqual([3, 3, 3, 3, 3, 3, 5, 5, 5, 5, 5, 5]);
    expect(compare(copies, 36)).toEqual([]);
    expect(recordsBelow(stored.batches, 36).map((r) => r.value)).toEqual(Array.from({ length: 36 }, (_, i) => `record-${i}`));
  });

  it('reports a batch missing from one replica (the gap, and where it differs from the others)', async () => {
    const copies = await replicas(3);
    changeBatch(copies[2] as string, 12, (segment, batch) => Buffer.concat([segment.subarray(0, batch.position), segment.subarray(batch.position + batch.bytes.length)]));
    const divergences = compare(copies, 36);
    expect(divergences.join('\n')).toMatch(/node 3: offsets 15-17 .* follows offsets 9-11/);
    expect(divergences.join('\n')).toMatch(/batch 4 below the high watermark: node 3 has offsets 15-17 .*node 1 has offsets 12-14/);
    expect(divergences.some((d) => d.startsWith('batch') && d.includes('node 2 has'))).toBe(false);
  });

  it('reports a batch with another leader epoch, though its CRC holds (the epoch is outside it)', async () => {
    const copies = await replicas(2);
    changeBatch(copies[1] as string, 20, (segment, batch) => {
      patchPartitionLeaderEpoch(segment, batch.position, 4);
      return segment;
    });
    expect(compare(copies, 36)).toEqual([expect.stringMatching(/batch 6 below the high watermark: node 2 has offsets 18-20 epoch 4 .*node 1 has offsets 18-20 epoch 5/)]);
  });

  it('reports a flipped byte in a record as a failed CRC and other bytes', async () => {
    const copies = await replicas(2);
    changeBatch(copies[1] as string, 0, (segment, batch) => {
      segment[batch.position + batch.bytes.length - 2] ^= 0x01;
      return segment;
    });
    const divergences = compare(copies, 36);
    expect(divergences).toHaveLength(2);
    expect(divergences[0]).toMatch(/node 2: the batch at offsets 0-2 .* fails its CRC/);
    expect(divergences[1]).toMatch(/batch 0 below the high watermark: node 2 has offsets 0-2 .*\(other bytes\)/);
  });

  it('reports a replica ending below the high watermark, and ignores what differs at or above it', async () => {
    const copies = await replicas(2);
    const last = readStoredBatches(copies[1] as string).batches.at(-1) as StoredBatch;
    changeBatch(copies[1] as string, 33, (segment, batch) => segment.subarray(0, batch.position));
    expect(last.baseOffset).toBe(33);
    expect(compare(copies, 33)).toEqual([]);
    expect(compare(copies, 34)).toEqual([
      'node 2: the log ends at 33, below the high watermark 34',
      expect.stringMatching(/^batch 11 below the high watermark: node 2 has none, node 1 has offsets 33-35/),
    ]);
  });
});
