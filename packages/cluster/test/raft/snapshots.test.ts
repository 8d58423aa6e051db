import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { batchesIn, readBatchHeader } from '@gregor/records';
import { describe, expect, it } from 'vitest';
import { InvalidSnapshotError, SnapshotPolicy, SnapshotReader, snapshotFileName } from '../../src/index.js';
import { openNode, RecordingListener } from './support.js';

const DIR = '/meta/__cluster_metadata-0';

async function soleVoterWith(values: string[], options: { fs?: MemoryFileSystem; config?: object } = {}) {
  const node = await openNode({ nodeId: 1, voters: [1], fs: options.fs, config: options.config });
  let last = 0;
  for (const value of values) last = await node.raft.append([Buffer.from(value)]);
  return { ...node, last };
}

describe('snapshots', () => {
  it('are written in Kafka format: <endOffset>-<epoch>.checkpoint, a header batch, the values, a footer batch', async () => {
    const { raft, fs, last } = await soleVoterWith(['a', 'b', 'c']);
    expect(last).toBe(3);
    const writer = raft.createSnapshot(last, 1);
    if (!writer) throw new Error('expected a writer');
    writer.append([Buffer.from('state-1'), Buffer.from('state-2')]);
    expect(fs.exists(`${DIR}/00000000000000000004-0000000001.checkpoint`)).toBe(false);
    expect(writer.freeze()).toEqual({ endOffset: 4, epoch: 1 });
    expect(snapshotFileName({ endOffset: 4, epoch: 1 })).toBe('00000000000000000004-0000000001.checkpoint');
    const bytes = fs.readFile(`${DIR}/00000000000000000004-0000000001.checkpoint`);
    const headers = [...batchesIn(bytes)].map(({ position }) => readBatchHeader(bytes, position));
    expect(headers.map((header) => [header.baseOffset, header.isControl, header.partitionLeaderEpoch])).toEqual([
      [0, true, 1],
      [1, false, 1],
      [3, true, 1],
    ]);
    const reader = new SnapshotReader({ endOffset: 4, epoch: 1 }, bytes);
    expect([...reader.values()].map(String)).toEqual(['state-1', 'state-2']);
    expect(raft.createSnapshot(last, 1)).toBeNull();
    await raft.close();
  });

  it('a restart loads the newest snapshot, then only the log after it', async () => {
    const fs = new MemoryFileSystem();
    const { raft, clock } = await soleVoterWith(['a', 'b'], { fs });
    const first = raft.createSnapshot(2, 1);
    first?.append([Buffer.from('a+b')]);
    first?.freeze();
    await raft.append([Buffer.from('c')]);
    const second = raft.createSnapshot(3, 1);
    second?.append([Buffer.from('a+b+c')]);
    second?.freeze();
    await raft.append([Buffer.from('d')]);
    raft.kill();
    fs.crash();
    const { raft: restarted } = await openNode({ nodeId: 1, voters: [1], fs, clock });
    const listener = new RecordingListener();
    restarted.register(listener);
    expect(listener.snapshots).toEqual([{ endOffset: 4, epoch: 1, values: ['a+b+c'] }]);
    expect(listener.values).toEqual(['d']);
    expect(listener.batches[0].baseOffset).toBe(4);
    await restarted.close();
  });

  it('are refused for an offset not committed or an epoch the log does not have there', async () => {
    const { raft } = await soleVoterWith(['a']);
    expect(() => raft.createSnapshot(5, 1)).toThrow(InvalidSnapshotError);
    expect(() => raft.createSnapshot(1, 7)).toThrow(InvalidSnapshotError);
    expect(() => raft.createSnapshot(-1, 0)).toThrow(InvalidSnapshotError);
    await raft.close();
  });

  it('let retention delete the log below the newest snapshot and the snapshots before it', async () => {
    const config = { metadataLogSegmentBytes: 200, metadataMaxRetentionBytes: 0 };
    const { raft, fs, clock } = await soleVoterWith(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'], { config });
    const segmentsBefore = fs.readdir(DIR).filter((name) => name.endsWith('.log'));
    expect(segmentsBefore.length).toBeGreaterThan(2);
    raft.createSnapshot(4, 1)?.freeze();
    raft.createSnapshot(7, 1)?.freeze();
    expect(raft.logStartOffset).toBe(8);
    const names = fs.readdir(DIR);
    expect(names.filter((name) => name.endsWith('.checkpoint'))).toEqual(['00000000000000000008-0000000001.checkpoint']);
    expect(names.filter((name) => name.endsWith('.log')).length).toBeLessThan(segmentsBefore.length);
    raft.kill();
    // Reopened, the log starts at the snapshot: nothing below it is read.
    const { raft: restarted } = await openNode({ nodeId: 1, voters: [1], fs, clock, config });
    expect(restarted.logStartOffset).toBe(8);
    const listener = new RecordingListener();
    restarted.register(listener);
    expect(listener.snapshots.map((snapshot) => snapshot.endOffset)).toEqual([8]);
    expect(listener.values).toEqual(['h']);
    await restarted.close();
  });

  it('a snapshot left partial by a crash is deleted when the log opens', async () => {
    const fs = new MemoryFileSystem();
    const { raft, clock } = await soleVoterWith(['a'], { fs });
    const writer = raft.createSnapshot(1, 1);
    writer?.append([Buffer.from('half')]);
    raft.kill();
    fs.crash();
    expect(fs.readdir(DIR).some((name) => name.endsWith('.checkpoint.part'))).toBe(true);
    const { raft: restarted } = await openNode({ nodeId: 1, voters: [1], fs, clock });
    expect(fs.readdir(DIR).filter((name) => name.includes('.checkpoint'))).toEqual([]);
    expect(restarted.latestSnapshotId).toBeUndefined();
    await restarted.close();
  });

  it('are due after metadata.log.max.record.bytes.between.snapshots committed bytes, or after the interval with anything committed', () => {
    const clock = new FakeClock(0);
    const policy = new SnapshotPolicy({ metadataLogMaxRecordBytesBetweenSnapshots: 1000, metadataLogMaxSnapshotIntervalMs: 60_000 }, clock);
    clock.advance(120_000);
    expect(policy.isDue).toBe(false);
    policy.onCommit({ sizeInBytes: 999 });
    clock.advance(0);
    policy.onSnapshot();
    policy.onCommit({ sizeInBytes: 999 });
    expect(policy.isDue).toBe(false);
    policy.onCommit({ sizeInBytes: 1 });
    expect(policy.isDue).toBe(true);
    policy.onSnapshot();
    policy.onCommit({ sizeInBytes: 10 });
    clock.advance(59_999);
    expect(policy.isDue).toBe(false);
    clock.advance(1);
    expect(policy.isDue).toBe(true);
  });
});
