import path from 'node:path';
import { readBatchHeader } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendChannel, FakeClock, InvalidRecordError, OffsetOutOfRangeError, PartitionLog, RecordTooLargeError, rollChannel, UnexpectedAppendOffsetError } from '../src/index.js';
import { type Backend, backends, batchOf, readAll, recordsOf, simpleBatch } from './helpers.js';

describe.each(backends)('PartitionLog on %s', (_name, makeBackend) => {
  let backend: Backend;
  let dir: string;
  beforeEach(() => {
    backend = makeBackend();
    dir = path.join(backend.dir, 'topic-0');
  });
  afterEach(() => backend.cleanup());

  const open = (config = {}, extra = {}) => PartitionLog.open({ fs: backend.fs, dir, config, clock: new FakeClock(), ...extra });

  it('assigns contiguous offsets by patching baseOffset without breaking the CRC', () => {
    const log = open();
    expect(log.append(simpleBatch(3)).baseOffset).toBe(0);
    const second = log.append(simpleBatch(2));
    expect(second).toMatchObject({ baseOffset: 3, lastOffset: 4, recordCount: 2 });
    expect(log.logEndOffset).toBe(5);
    const read = log.read(0);
    expect(recordsOf(read.records).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4]);
    log.close();
  });

  it('appends several batches in one buffer and returns the offsets of all of them', () => {
    const log = open();
    const result = log.append(Buffer.concat([simpleBatch(2), simpleBatch(4), simpleBatch(1)]));
    expect(result).toMatchObject({ baseOffset: 0, lastOffset: 6, recordCount: 7 });
    expect(recordsOf(log.read(0).records).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4, 5, 6]);
    log.close();
  });

  it('reads from the batch holding the offset and stops at maxBytes with whole batches', () => {
    const log = open();
    for (let i = 0; i < 10; i++) log.append(simpleBatch(5));
    const batchSize = simpleBatch(5).length;
    const read = log.read(12, { maxBytes: batchSize * 2 + 10 });
    expect(read.firstOffset).toBe(10);
    expect(read.nextOffset).toBe(20);
    expect(read.records.length).toBe(batchSize * 2);
    log.close();
  });

  it('returns the first batch even when larger than maxBytes only with minOneBatch', () => {
    const log = open();
    log.append(simpleBatch(5));
    expect(log.read(0, { maxBytes: 10 }).records.length).toBe(simpleBatch(5).length);
    expect(log.read(0, { maxBytes: 10, minOneBatch: false }).records.length).toBe(0);
    log.close();
  });

  it('stops before the batch holding maxOffset (the high watermark)', () => {
    const log = open();
    for (let i = 0; i < 4; i++) log.append(simpleBatch(2));
    const read = log.read(0, { maxOffset: 4 });
    expect(recordsOf(read.records).map((record) => record.offset)).toEqual([0, 1, 2, 3]);
    expect(log.read(4, { maxOffset: 4 }).records.length).toBe(0);
    log.close();
  });

  it('answers offsets outside [logStart, LEO] with OffsetOutOfRangeError and the LEO with nothing', () => {
    const log = open();
    log.append(simpleBatch(2));
    expect(() => log.read(3)).toThrow(OffsetOutOfRangeError);
    expect(() => log.read(-1)).toThrow(OffsetOutOfRangeError);
    expect(log.read(2).records.length).toBe(0);
    log.close();
  });

  it('rolls by segmentBytes and reads across segments', () => {
    const log = open({ segmentBytes: 300 });
    for (let i = 0; i < 12; i++) log.append(simpleBatch(3));
    expect(log.segmentCount).toBeGreaterThan(3);
    let offset = 0;
    const seen: number[] = [];
    while (offset < log.logEndOffset) {
      const read = log.read(offset);
      seen.push(...recordsOf(read.records).map((record) => record.offset));
      offset = read.nextOffset;
    }
    expect(seen).toEqual(Array.from({ length: 36 }, (_, i) => i));
    const names = backend.fs.readdir(dir).filter((name) => name.endsWith('.log'));
    expect(names[0]).toBe('00000000000000000000.log');
    log.close();
  });

  it('rolls by segmentMs measured on batch timestamps', () => {
    const log = open({ segmentMs: 1000 });
    log.append(simpleBatch(1, 10_000));
    log.append(simpleBatch(1, 10_500));
    expect(log.segmentCount).toBe(1);
    log.append(simpleBatch(1, 11_001));
    expect(log.segmentCount).toBe(2);
    log.close();
  });

  it('rolls when the offset index is full', () => {
    const log = open({ segmentIndexBytes: 24, indexIntervalBytes: 1 });
    for (let i = 0; i < 10; i++) log.append(simpleBatch(1));
    expect(log.segmentCount).toBeGreaterThan(2);
    expect(recordsOf(log.read(0, { maxBytes: 10_000 }).records).length).toBeGreaterThan(0);
    log.close();
  });

  it('keeps offsets in follower mode and rejects offsets below the LEO', () => {
    const log = open();
    const result = log.append(batchOf([{ key: null, value: 'a', timestamp: 1 }], { baseOffset: 10, partitionLeaderEpoch: 3 }), { assignOffsets: false });
    expect(result.baseOffset).toBe(10);
    expect(log.logEndOffset).toBe(11);
    expect(log.leaderEpochs.entries()).toEqual([{ epoch: 3, startOffset: 10 }]);
    expect(() => log.append(batchOf([{ key: null, value: 'b', timestamp: 1 }], { baseOffset: 5 }), { assignOffsets: false })).toThrow(UnexpectedAppendOffsetError);
    log.close();
  });

  it('stamps the leader epoch on batches and records it in the epoch cache', () => {
    const log = open();
    log.append(simpleBatch(2), { leaderEpoch: 4 });
    log.append(simpleBatch(2), { leaderEpoch: 4 });
    log.append(simpleBatch(2), { leaderEpoch: 6 });
    expect(log.leaderEpochs.entries()).toEqual([
      { epoch: 4, startOffset: 0 },
      { epoch: 6, startOffset: 4 },
    ]);
    expect(readBatchHeader(log.read(4).records, 0).partitionLeaderEpoch).toBe(6);
    expect(log.leaderEpochs.endOffsetFor(4, log.logEndOffset)).toEqual({ epoch: 4, endOffset: 4 });
    log.close();
  });

  it('overwrites timestamps with LogAppendTime when configured', () => {
    const clock = new FakeClock(5_000_000);
    const log = PartitionLog.open({ fs: backend.fs, dir, clock, config: { messageTimestampType: 'LogAppendTime' } });
    const result = log.append(simpleBatch(2, 1));
    expect(result.logAppendTime).toBe(5_000_000);
    expect(recordsOf(log.read(0).records).map((record) => record.timestamp)).toEqual([5_000_000, 5_000_000]);
    log.close();
  });

  it('rejects malformed appends with typed errors and writes nothing', () => {
    const log = open({ maxMessageBytes: 200 });
    const good = simpleBatch(1);
    const badCrc = Buffer.from(good);
    badCrc[badCrc.length - 1] ^= 1;
    expect(() => log.append(badCrc)).toThrow(InvalidRecordError);
    // A caller that vouches for its bytes may skip the check (the log then trusts it).
    expect(() => log.append(Buffer.from(badCrc), { verifyCrc: false })).not.toThrow();
    log.truncateFullyAndStartAt(0);
    expect(() => log.append(good.subarray(0, 30))).toThrow(InvalidRecordError);
    expect(() => log.append(Buffer.alloc(0))).toThrow(InvalidRecordError);
    expect(() => log.append(simpleBatch(20))).toThrow(RecordTooLargeError);
    expect(log.logEndOffset).toBe(0);
    expect(log.sizeBytes).toBe(0);
    log.close();
  });

  it('reopens cleanly with the same offsets, timestamps and data', () => {
    const log = open({ segmentBytes: 400 });
    for (let i = 0; i < 10; i++) log.append(simpleBatch(2, 100 + i));
    log.close();
    const reopened = open({ segmentBytes: 400 }, { hadCleanShutdown: true });
    expect(reopened.logEndOffset).toBe(20);
    expect(reopened.offsetForTimestamp(105)).toBe(10);
    expect(reopened.append(simpleBatch(1)).baseOffset).toBe(20);
    reopened.close();
  });

  it('truncateTo drops later segments and bytes and fixes the epoch cache', () => {
    const log = open({ segmentBytes: 300 });
    for (let i = 0; i < 12; i++) log.append(simpleBatch(2), { leaderEpoch: i < 6 ? 1 : 2 });
    log.truncateTo(7);
    expect(log.logEndOffset).toBe(6);
    expect(log.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }]);
    expect(log.append(simpleBatch(1)).baseOffset).toBe(6);
    expect(readAll(log, 4).map((record) => record.offset)).toEqual([4, 5, 6]);
    log.close();
    const reopened = open({ segmentBytes: 300 });
    expect(reopened.logEndOffset).toBe(7);
    reopened.close();
  });

  it('truncateTo at or past the log end keeps every record but drops an epoch that starts at the log end', () => {
    const log = open();
    log.append(simpleBatch(2), { leaderEpoch: 1 });
    // A leader of epoch 2 that wrote nothing before it lost the leadership.
    log.leaderEpochs.assign(2, log.logEndOffset);
    expect(log.truncateTo(5)).toBe(false);
    expect(log.truncateTo(2)).toBe(false);
    expect(log.logEndOffset).toBe(2);
    expect(log.leaderEpochs.entries()).toEqual([{ epoch: 1, startOffset: 0 }]);
    log.close();
  });

  it('truncateFullyAndStartAt empties the log and starts at the offset', () => {
    const log = open();
    log.append(simpleBatch(3), { leaderEpoch: 1 });
    log.truncateFullyAndStartAt(100);
    expect(log.logStartOffset).toBe(100);
    expect(log.logEndOffset).toBe(100);
    expect(log.leaderEpochs.entries()).toEqual([]);
    expect(log.append(simpleBatch(1)).baseOffset).toBe(100);
    expect(backend.fs.readdir(dir)).toContain('00000000000000000100.log');
    log.close();
  });

  it('deleteRecordsBefore moves the log start and deletes wholly older segments', () => {
    const log = open({ segmentBytes: 300 });
    for (let i = 0; i < 12; i++) log.append(simpleBatch(2));
    const segmentsBefore = log.segmentCount;
    expect(log.deleteRecordsBefore(9)).toBe(9);
    expect(log.segmentCount).toBeLessThan(segmentsBefore);
    expect(() => log.read(8)).toThrow(OffsetOutOfRangeError);
    expect(recordsOf(log.read(9).records)[0].offset).toBe(8);
    expect(log.offsetForTimestamp(-2)).toBe(9);
    log.close();
  });

  it('finds offsets by timestamp with non-monotonic timestamps', () => {
    const log = open({ indexIntervalBytes: 1 });
    const stamps = [10, 30, 20, 50, 40, 60];
    for (const stamp of stamps) log.append(batchOf([{ key: null, value: 'x', timestamp: stamp }]));
    expect(log.offsetForTimestamp(25)).toBe(1);
    expect(log.offsetForTimestamp(45)).toBe(3);
    expect(log.offsetForTimestamp(60)).toBe(5);
    expect(log.offsetForTimestamp(61)).toBeUndefined();
    expect(log.offsetForTimestamp(-1)).toBe(6);
    log.close();
  });

  it('flushMessages syncs after that many records', () => {
    if (!backend.memory) return;
    const log = open({ flushMessages: 3 });
    log.append(simpleBatch(2));
    expect(log.recoveryPoint).toBe(0);
    log.append(simpleBatch(2));
    expect(log.recoveryPoint).toBe(4);
    backend.memory.crash();
    const reopened = open();
    expect(reopened.logEndOffset).toBe(4);
    reopened.close();
  });

  it('publishes gregor:log:append and gregor:log:roll on diagnostics channels', () => {
    const events: string[] = [];
    const onAppend = (message: unknown) => events.push(`append ${(message as { baseOffset: number }).baseOffset}`);
    const onRoll = (message: unknown) => events.push(`roll ${(message as { baseOffset: number }).baseOffset}`);
    appendChannel.subscribe(onAppend);
    rollChannel.subscribe(onRoll);
    try {
      const log = open();
      log.append(simpleBatch(2));
      log.roll();
      log.append(simpleBatch(1));
      log.close();
    } finally {
      appendChannel.unsubscribe(onAppend);
      rollChannel.unsubscribe(onRoll);
    }
    expect(events).toEqual(['append 0', 'roll 2', 'append 2']);
  });

  it('writes the same offset index whether or not the log was reopened in between', () => {
    // (The time index gains Kafka's closing entry at each close, so only the offset index is compared.)
    const config = { indexIntervalBytes: 150 };
    const write = (name: string, reopenAt: number) => {
      const partitionDir = path.join(backend.dir, name);
      let log = PartitionLog.open({ fs: backend.fs, dir: partitionDir, config, clock: new FakeClock() });
      for (let i = 0; i < 20; i++) {
        if (i === reopenAt) {
          log.close();
          log = PartitionLog.open({ fs: backend.fs, dir: partitionDir, config, clock: new FakeClock(), hadCleanShutdown: true });
        }
        log.append(simpleBatch(1 + (i % 3), 1000 + i));
      }
      log.close();
      return backend.fs.readFile(path.join(partitionDir, '00000000000000000000.index')).toString('hex');
    };
    const continuous = write('a-0', -1);
    expect(continuous.length).toBeGreaterThan(32);
    expect(write('b-0', 7)).toEqual(continuous);
    expect(write('c-0', 12)).toEqual(continuous);
  });

  it('reads into a caller buffer when it is large enough, and allocates otherwise', () => {
    const log = open();
    for (let i = 0; i < 3; i++) log.append(simpleBatch(2));
    const into = Buffer.alloc(4096);
    const read = log.read(0, { into });
    expect(read.records.buffer).toBe(into.buffer);
    expect(recordsOf(read.records).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4, 5]);
    const small = Buffer.alloc(8);
    expect(log.read(0, { into: small }).records.buffer).not.toBe(small.buffer);
    log.close();
  });

  it('an injected write or sync error surfaces as a typed error and leaves the log consistent', () => {
    const memory = backend.memory;
    if (!memory) return;
    const log = open();
    log.append(simpleBatch(2));
    memory.failNext('write');
    expect(() => log.append(simpleBatch(2))).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(log.logEndOffset).toBe(2);
    expect(log.append(simpleBatch(1)).baseOffset).toBe(2);
    memory.failNext('sync');
    expect(() => log.flush()).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(log.recoveryPoint).toBe(0);
    log.flush();
    expect(log.recoveryPoint).toBe(3);
    expect(readAll(log, 0).map((record) => record.offset)).toEqual([0, 1, 2]);
    log.close();
  });

  it('truncating inside the batch that holds the log start leaves an empty log at the log start', () => {
    const log = open();
    log.append(simpleBatch(2));
    log.deleteRecordsBefore(1);
    log.truncateTo(1);
    expect([log.logStartOffset, log.logEndOffset]).toEqual([1, 1]);
    expect(log.append(simpleBatch(1)).baseOffset).toBe(1);
    log.close();
  });

  it('answers empty, never with a later segment, when the first batch is over maxBytes without minOneBatch', () => {
    const log = open({ segmentBytes: 200 });
    log.append(simpleBatch(1));
    log.append(simpleBatch(8));
    log.append(simpleBatch(1));
    expect(log.segmentCount).toBe(3);
    const read = log.read(1, { maxBytes: 100, minOneBatch: false });
    expect(read.records.length).toBe(0);
    expect(read.nextOffset).toBe(1);
    expect(log.read(1, { maxBytes: 100, maxOffset: 5 }).records.length).toBe(0);
    log.close();
  });
});
