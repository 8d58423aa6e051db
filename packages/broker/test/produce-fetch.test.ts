import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { BATCH_HEADER_BYTES, Compression, decodeBatch, encodeBatch, forEachBatch, writeBatchCrc } from '@gregor/records';
import type { Body } from '@gregor/broker';
import { MemoryFileSystem } from '@gregor/log';
import { batch, bumpLeaderEpoch, createTopic, fetchPartition, fetchRequest, openTestBroker, produce, type TestBroker } from './helpers.js';

function values(records: Buffer): string[] {
  const result: string[] = [];
  forEachBatch(records, (position) => {
    for (const record of decodeBatch(records, position).records()) result.push(record.value?.toString() ?? 'null');
  });
  return result;
}

describe('produce and fetch', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('returns the produced bytes from fetch with offsets assigned', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'events');
    const first = await produce(test.broker, 'events', 0, batch(['a', 'b']));
    const second = await produce(test.broker, 'events', 0, batch(['c']));
    expect(first).toMatchObject({ errorCode: 0, baseOffset: 0, logStartOffset: 0 });
    expect(second).toMatchObject({ errorCode: 0, baseOffset: 2 });
    const fetched = await fetchPartition(test.broker, 'events', 0, 0);
    expect(fetched).toMatchObject({ errorCode: 0, highWatermark: 3, lastStableOffset: 3, logStartOffset: 0 });
    expect(values(fetched.records)).toEqual(['a', 'b', 'c']);
  });

  it('answers acks=all once the high watermark passes the batch and acks=0 with no response', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    expect(await produce(test.broker, 't', 0, batch(['x']), -1)).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(test.broker, 't', 0, batch(['y']), 0)).toBeNull();
    expect(test.broker.partition('t', 0)?.highWatermark).toBe(2);
  });

  it('refuses acks=all with NOT_ENOUGH_REPLICAS when the ISR is below min.insync.replicas, appending nothing', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'min.insync.replicas', value: '2' }]);
    expect(await produce(test.broker, 't', 0, batch(['x']), -1)).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
    expect(await produce(test.broker, 't', 0, batch(['x']), 1)).toMatchObject({ errorCode: 0, baseOffset: 0 });
  });

  it('refuses a batch with a bad CRC and appends nothing for that partition', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const good = batch(['ok']);
    const bad = batch(['bad']);
    bad[bad.length - 1] ^= 0xff;
    const response = await produce(test.broker, 't', 0, Buffer.concat([good, bad]));
    expect(response).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE, baseOffset: -1 });
    expect(response?.recordErrors).toEqual([{ batchIndex: 1, batchIndexErrorMessage: expect.any(String) }]);
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
  });

  it('refuses truncated record sets and batches over max.message.bytes', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'max.message.bytes', value: '100' }]);
    const big = batch(['x'.repeat(200)]);
    expect(await produce(test.broker, 't', 0, big)).toMatchObject({ errorCode: ErrorCode.MESSAGE_TOO_LARGE });
    const small = batch(['y']);
    expect(await produce(test.broker, 't', 0, small.subarray(0, small.length - 3))).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    expect(await produce(test.broker, 't', 0, null)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    const magicOne = Buffer.from(small);
    magicOne[16] = 1;
    expect(await produce(test.broker, 't', 0, magicOne)).toMatchObject({ errorCode: ErrorCode.UNSUPPORTED_FOR_MESSAGE_FORMAT });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
  });

  it('decompresses compressed batches to validate them: a bomb or a corrupt payload is refused, a good one stored', async () => {
    test = await openTestBroker({ producedBatchDecompressedBytesMax: 1024 * 1024 });
    await createTopic(test.broker, 't');
    const bomb = encodeBatch({ records: [{ key: null, value: Buffer.alloc(4 * 1024 * 1024) }], compression: Compression.gzip });
    expect(bomb.length).toBeLessThan(16 * 1024);
    expect(await produce(test.broker, 't', 0, bomb)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    const corrupt = encodeBatch({ records: [{ key: null, value: Buffer.from('x'.repeat(500)) }], compression: Compression.zstd });
    corrupt.fill(0x55, BATCH_HEADER_BYTES + 4, corrupt.length - 2);
    writeBatchCrc(corrupt, 0, corrupt.length);
    expect(await produce(test.broker, 't', 0, corrupt)).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
    const good = encodeBatch({ records: [{ key: null, value: Buffer.alloc(512 * 1024) }], compression: Compression.lz4 });
    expect(await produce(test.broker, 't', 0, good)).toMatchObject({ errorCode: 0, baseOffset: 0 });
  });

  it('refuses a record set larger than a segment with RECORD_LIST_TOO_LARGE', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'segment.bytes', value: '300' }]);
    const set = Buffer.concat([batch(['a'.repeat(100)]), batch(['b'.repeat(100)]), batch(['c'.repeat(100)])]);
    expect(await produce(test.broker, 't', 0, set)).toMatchObject({ errorCode: ErrorCode.RECORD_LIST_TOO_LARGE });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(0);
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION for a missing topic and INVALID_REQUIRED_ACKS for acks=2', async () => {
    test = await openTestBroker();
    expect(await produce(test.broker, 'missing', 0, batch(['a']))).toMatchObject({ errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION });
    await createTopic(test.broker, 't');
    expect(await produce(test.broker, 't', 0, batch(['a']), 2)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUIRED_ACKS });
  });

  it('stamps the broker time on LogAppendTime topics', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'stamped', 1, [{ name: 'message.timestamp.type', value: 'LogAppendTime' }]);
    const response = await produce(test.broker, 'stamped', 0, batch(['a'], { timestamp: 5 }));
    expect(response).toMatchObject({ errorCode: 0, logAppendTimeMs: test.clock.now() });
    const fetched = await fetchPartition(test.broker, 'stamped', 0, 0);
    expect(decodeBatch(fetched.records, 0).maxTimestamp).toBe(test.clock.now());
  });

  it('answers KAFKA_STORAGE_ERROR when the disk fails a write, and keeps serving', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({}, fs);
    await createTopic(test.broker, 't');
    fs.failNext('write', Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }));
    expect(await produce(test.broker, 't', 0, batch(['lost']))).toMatchObject({ errorCode: ErrorCode.KAFKA_STORAGE_ERROR });
    expect(await produce(test.broker, 't', 0, batch(['kept']))).toMatchObject({ errorCode: 0 });
    expect(values((await fetchPartition(test.broker, 't', 0, 0)).records)).toContain('kept');
  });

  it('answers OFFSET_OUT_OF_RANGE beyond the log end offset', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    await produce(test.broker, 't', 0, batch(['a']));
    expect(await fetchPartition(test.broker, 't', 0, 5)).toMatchObject({ errorCode: ErrorCode.OFFSET_OUT_OF_RANGE });
    expect((await fetchPartition(test.broker, 't', 0, 1)).records.length).toBe(0);
  });

  it('returns at least one batch even when it is larger than maxBytes, and respects maxBytes after it', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    await produce(test.broker, 't', 0, batch(['x'.repeat(500)]));
    await produce(test.broker, 't', 0, batch(['y'.repeat(500)]));
    const fetched = await fetchPartition(test.broker, 't', 0, 0, { maxBytes: 100, partitionMaxBytes: 100 });
    expect(values(fetched.records)).toEqual(['x'.repeat(500)]);
  });

  it('gives only the first partition its oversized batch once the response budget is spent', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 2);
    await produce(test.broker, 't', 0, batch(['x'.repeat(500)]));
    await produce(test.broker, 't', 1, batch(['y'.repeat(500)]));
    const request = fetchRequest('t', 0, 0, { maxBytes: 100, partitionMaxBytes: 1000 });
    request.topics[0].partitions.push({ ...request.topics[0].partitions[0], partition: 1 });
    const response = (await test.broker.handle(ApiKey.Fetch, 11, request)) as Body;
    const [first, second] = response.responses[0].partitions;
    expect(values(first.records)).toEqual(['x'.repeat(500)]);
    expect(second).toMatchObject({ errorCode: 0, highWatermark: 1 });
    expect(second.records.length).toBe(0);
  });

  it('addresses topics by id from Fetch v13', async () => {
    test = await openTestBroker();
    const created = await createTopic(test.broker, 't');
    await produce(test.broker, 't', 0, batch(['a']));
    const request = fetchRequest('t', 0, 0);
    request.topics[0].topicId = created.topicId;
    const response = (await test.broker.handle(ApiKey.Fetch, 13, request)) as Body;
    expect(response.responses[0].topicId).toBe(created.topicId);
    expect(values(response.responses[0].partitions[0].records)).toEqual(['a']);
    request.topics[0].topicId = '11111111-1111-4111-8111-111111111111';
    const unknown = (await test.broker.handle(ApiKey.Fetch, 13, request)) as Body;
    expect(unknown.responses[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_ID);
  });
});

describe('long-poll fetch', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('is woken by a produce', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const pending = fetchPartition(test.broker, 't', 0, 0, { maxWaitMs: 10_000, minBytes: 1 });
    let settled = false;
    void pending.then(() => { settled = true; });
    await Promise.resolve();
    expect(settled).toBe(false);
    await produce(test.broker, 't', 0, batch(['wake']));
    const fetched = await pending;
    expect(values(fetched.records)).toEqual(['wake']);
    expect(test.broker.fetchWaiters).toBe(0);
  });

  it('times out on the fake clock with what is there', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const pending = fetchPartition(test.broker, 't', 0, 0, { maxWaitMs: 500, minBytes: 1 });
    let settled = false;
    void pending.then(() => { settled = true; });
    test.clock.advance(499);
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    test.clock.advance(1);
    const fetched = await pending;
    expect(fetched.records.length).toBe(0);
    expect(fetched.errorCode).toBe(0);
  });

  it('waits for minBytes across several appends', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const one = batch(['a']).length;
    const pending = fetchPartition(test.broker, 't', 0, 0, { maxWaitMs: 10_000, minBytes: one * 2 + 1 });
    let settled = false;
    void pending.then(() => { settled = true; });
    await produce(test.broker, 't', 0, batch(['a']));
    await produce(test.broker, 't', 0, batch(['b']));
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    await produce(test.broker, 't', 0, batch(['c']));
    expect(values((await pending).records)).toEqual(['a', 'b', 'c']);
  });
});

describe('list offsets', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('finds earliest, latest, max timestamp and by timestamp', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    await produce(test.broker, 't', 0, batch(['a', 'b'], { timestamp: 1000 }));
    await produce(test.broker, 't', 0, batch(['c'], { timestamp: 3000 }));
    await produce(test.broker, 't', 0, batch(['d'], { timestamp: 2000 }));
    const ask = async (timestamp: number): Promise<Body> => {
      const response = (await test.broker.handle(ApiKey.ListOffsets, 7, { replicaId: -1, isolationLevel: 0, topics: [{ name: 't', partitions: [{ partitionIndex: 0, currentLeaderEpoch: -1, timestamp }] }] })) as Body;
      return response.topics[0].partitions[0];
    };
    expect(await ask(-2)).toMatchObject({ errorCode: 0, offset: 0 });
    expect(await ask(-1)).toMatchObject({ errorCode: 0, offset: 4 });
    expect(await ask(-3)).toMatchObject({ errorCode: 0, offset: 2, timestamp: 3000 });
    expect(await ask(1500)).toMatchObject({ errorCode: 0, offset: 2, timestamp: 3000 });
    expect(await ask(1000)).toMatchObject({ errorCode: 0, offset: 0, timestamp: 1000 });
    expect(await ask(9999)).toMatchObject({ errorCode: 0, offset: -1, timestamp: -1 });
    bumpLeaderEpoch(test.broker, 't', 0, 2);
    await produce(test.broker, 't', 0, batch(['e'], { timestamp: 5000 }));
    expect(await ask(1000)).toMatchObject({ offset: 0, leaderEpoch: 0 });
    expect(await ask(5000)).toMatchObject({ offset: 4, leaderEpoch: 2 });
    expect(await ask(-1)).toMatchObject({ offset: 5, leaderEpoch: 2 });
  });
});
