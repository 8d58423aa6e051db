import path from 'node:path';
import { Compression } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, PartitionLog } from '../src/index.js';
import { type Backend, backends, batchOf, readAll, simpleBatch } from './helpers.js';

const HOUR = 3_600_000;

describe.each(backends)('retention and compaction on %s', (_name, makeBackend) => {
  let backend: Backend;
  let dir: string;
  let clock: FakeClock;
  beforeEach(() => {
    backend = makeBackend();
    dir = path.join(backend.dir, 'topic-0');
    clock = new FakeClock(100 * HOUR);
  });
  afterEach(() => backend.cleanup());

  const open = (config = {}) => PartitionLog.open({ fs: backend.fs, dir, config, clock });

  it('deletes closed segments older than retentionMs, never the active one, and moves the log start', () => {
    const log = open({ retentionMs: 10 * HOUR, segmentMs: HOUR });
    for (let hour = 0; hour < 6; hour++) log.append(simpleBatch(2, (80 + hour * 4) * HOUR));
    const before = log.segmentBaseOffsets();
    expect(before.length).toBe(6);
    // Now 100h: segments stamped 80h, 84h are older than 90h.
    expect(log.applyRetention()).toBe(3);
    expect(log.logStartOffset).toBe(6);
    clock.advance(1000 * HOUR);
    log.applyRetention();
    expect(log.segmentCount).toBe(1);
    expect(log.logStartOffset).toBe(10);
    expect(readAll(log, 10).map((record) => record.offset)).toEqual([10, 11]);
    log.close();
  });

  it('deletes the oldest closed segments while the log exceeds retentionBytes', () => {
    const batch = simpleBatch(2);
    const log = open({ retentionBytes: batch.length * 3, segmentBytes: batch.length * 2, retentionMs: -1 });
    for (let i = 0; i < 10; i++) log.append(simpleBatch(2));
    expect(log.segmentCount).toBe(5);
    log.applyRetention();
    expect(log.sizeBytes).toBeLessThanOrEqual(batch.length * 3 + batch.length * 2);
    expect(log.sizeBytes).toBeGreaterThan(batch.length * 2);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    log.close();
  });

  it('does not delete by retention when cleanupPolicy is compact', () => {
    const log = open({ retentionMs: 1, segmentMs: 1, cleanupPolicy: 'compact' });
    for (let i = 0; i < 3; i++) log.append(simpleBatch(1, i * 10));
    expect(log.applyRetention()).toBe(0);
    log.close();
  });

  function keyed(pairs: [string, string | null][], timestamp: number, compression: number = Compression.none): Buffer {
    return batchOf(pairs.map(([key, value]) => ({ key, value, timestamp })), { compression });
  }

  it('compaction keeps the latest value per key with original offsets and reads across cleaned segments', () => {
    const log = open({ cleanupPolicy: 'compact', segmentBytes: 250, deleteRetentionMs: HOUR });
    const now = clock.now();
    log.append(keyed([['a', 'a1'], ['b', 'b1']], now));
    log.append(keyed([['a', 'a2'], ['c', 'c1']], now, Compression.gzip));
    log.append(keyed([['b', 'b2'], ['d', 'd1']], now));
    log.append(keyed([['a', 'a3']], now));
    log.append(keyed([['e', 'e1']], now));
    log.roll();
    log.append(keyed([['a', 'a-active']], now));
    const stats = log.compact();
    expect(stats.recordsRemoved).toBe(3);
    const after = readAll(log, 0).map((record) => `${record.offset}:${record.key}=${record.value}`);
    expect(after).toEqual(['3:c=c1', '4:b=b2', '5:d=d1', '6:a=a3', '7:e=e1', '8:a=a-active']);
    expect(log.logEndOffset).toBe(9);
    expect(log.append(keyed([['z', 'z']], now)).baseOffset).toBe(9);
    expect(backend.fs.readdir(dir).some((name) => name.endsWith('.cleaned') || name.endsWith('.swap'))).toBe(false);
    log.close();
    const reopened = open({ cleanupPolicy: 'compact' });
    expect(readAll(reopened, 0).map((record) => record.offset)).toEqual([3, 4, 5, 6, 7, 8, 9]);
    reopened.close();
  });

  it('compaction keeps a recent tombstone and drops it after deleteRetentionMs', () => {
    const log = open({ cleanupPolicy: 'compact', segmentBytes: 200, deleteRetentionMs: HOUR });
    const now = clock.now();
    log.append(keyed([['a', 'a1'], ['b', 'b1']], now));
    log.append(keyed([['a', null]], now));
    log.roll();
    log.append(keyed([['c', 'c1']], now));
    log.compact();
    expect(readAll(log, 0).map((record) => `${record.key}=${record.value}`)).toEqual(['b=b1', 'a=null', 'c=c1']);
    clock.advance(2 * HOUR);
    log.compact();
    expect(readAll(log, 0).map((record) => `${record.key}=${record.value}`)).toEqual(['b=b1', 'c=c1']);
    log.close();
  });

  it('a crash after the cleaned files are written but before the swap loses nothing', () => {
    const log = open({ cleanupPolicy: 'compact' });
    const now = clock.now();
    log.append(keyed([['a', 'a1']], now));
    log.append(keyed([['a', 'a2']], now));
    log.roll();
    log.close();
    // Leftover files of an interrupted compaction: a .cleaned log (not committed) must be ignored.
    backend.fs.writeFileAtomic(path.join(dir, '00000000000000000000.log.cleaned'), Buffer.from('garbage'));
    const reopened = open({ cleanupPolicy: 'compact' });
    expect(readAll(reopened, 0).map((record) => record.value)).toEqual(['a1', 'a2']);
    expect(backend.fs.exists(path.join(dir, '00000000000000000000.log.cleaned'))).toBe(false);
    reopened.close();
  });

  it('a committed swap file is completed on open and its indexes rebuilt', () => {
    const log = open({ cleanupPolicy: 'compact' });
    const now = clock.now();
    log.append(keyed([['a', 'a1']], now));
    log.append(keyed([['a', 'a2']], now));
    log.roll();
    log.close();
    // Simulate a crash right after the commit rename: the swap holds the cleaned log (only a2).
    const cleaned = keyed([['a', 'a2']], now);
    cleaned.writeBigInt64BE(1n, 0);
    backend.fs.writeFileAtomic(path.join(dir, '00000000000000000000.log.swap'), cleaned);
    const reopened = open({ cleanupPolicy: 'compact' });
    expect(readAll(reopened, 0).map((record) => `${record.offset}:${record.value}`)).toEqual(['1:a2']);
    reopened.close();
  });

  it('skips a compaction pass when no segment was closed and no tombstone expired since the last', () => {
    const log = open({ cleanupPolicy: 'compact', deleteRetentionMs: HOUR });
    const now = clock.now();
    log.append(keyed([['a', 'a1']], now));
    log.append(keyed([['a', 'a2']], now));
    log.roll();
    expect(log.compact().recordsRemoved).toBe(1);
    log.append(keyed([['a', 'a3']], now));
    expect(log.compact().segmentsRewritten).toBe(0);
    log.roll();
    expect(log.compact().segmentsRewritten).toBe(1);
    log.close();
  });

  it('a pass cleans only the oldest segments whose keys fit in compactionKeysMax, the next continues', () => {
    const log = open({ cleanupPolicy: 'compact', segmentBytes: 150, compactionKeysMax: 2 });
    const now = clock.now();
    log.append(keyed([['a', 'a1'], ['a', 'a2']], now));
    log.append(keyed([['b', 'b1'], ['b', 'b2']], now));
    log.append(keyed([['c', 'c1'], ['c', 'c2']], now));
    log.roll();
    expect(log.segmentCount).toBe(4);
    const stats = log.compact();
    expect(stats.complete).toBe(false);
    expect(readAll(log, 0).map((record) => record.value)).toEqual(['a2', 'b2', 'c1', 'c2']);
    // The next pass starts where the key map stopped, so the log is eventually fully compacted.
    expect(log.compact().recordsRemoved).toBe(1);
    expect(readAll(log, 0).map((record) => record.value)).toEqual(['a2', 'b2', 'c2']);
    expect(log.compact().segmentsRewritten).toBe(0);
    log.close();
  });
});
