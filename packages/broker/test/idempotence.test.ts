import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { MemoryFileSystem } from '@gregor/log';
import { ProducerStateManager, type Body } from '@gregor/broker';
import { batch, createTopic, openTestBroker, produce, type TestBroker } from './helpers.js';

async function initProducerId(test: TestBroker): Promise<{ producerId: number; producerEpoch: number }> {
  const response = (await test.broker.handle(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 })) as Body;
  expect(response.errorCode).toBe(0);
  return { producerId: response.producerId, producerEpoch: response.producerEpoch };
}

describe('idempotent producer', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('answers a retried batch with its original offsets and does not append it twice', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    const first = batch(['a', 'b'], { ...producer, baseSequence: 0 });
    const second = batch(['c'], { ...producer, baseSequence: 2 });
    expect(await produce(test.broker, 't', 0, Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(test.broker, 't', 0, Buffer.from(second))).toMatchObject({ errorCode: 0, baseOffset: 2 });
    // The responses were lost; the producer retries both.
    expect(await produce(test.broker, 't', 0, Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(test.broker, 't', 0, Buffer.from(second))).toMatchObject({ errorCode: 0, baseOffset: 2 });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(3);
  });

  it('remembers the last batch across a reopen (snapshot at close)', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    const first = batch(['a'], { ...producer, baseSequence: 0 });
    await produce(test.broker, 't', 0, Buffer.from(first));
    await test.reopen();
    expect(test.fs.readdir('/data/t-0').filter((name) => name.endsWith('.snapshot'))).toEqual(['00000000000000000001.snapshot']);
    expect(await produce(test.broker, 't', 0, Buffer.from(first))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(test.broker, 't', 0, batch(['b'], { ...producer, baseSequence: 1 }))).toMatchObject({ errorCode: 0, baseOffset: 1 });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(2);
  });

  it('rebuilds producer state by replaying the log when there is no snapshot (crash)', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({}, fs);
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    const batches = [0, 1, 2].map((sequence) => batch([`v${sequence}`], { ...producer, baseSequence: sequence }));
    for (const data of batches) await produce(test.broker, 't', 0, Buffer.from(data));
    test.broker.partition('t', 0)?.log.flush();
    // No close: no snapshot, no clean-shutdown marker. Drop the old broker's objects and reopen.
    test.broker.kill();
    test = await openTestBroker({}, fs);
    for (const [sequence, data] of batches.entries()) {
      expect(await produce(test.broker, 't', 0, Buffer.from(data))).toMatchObject({ errorCode: 0, baseOffset: sequence });
    }
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(3);
  });

  it('snapshots at each roll and replays only the tail after the newest snapshot (crash)', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({}, fs);
    await createTopic(test.broker, 't', 1, [{ name: 'segment.bytes', value: '200' }]);
    const producer = await initProducerId(test);
    const batches = Array.from({ length: 8 }, (_, sequence) => batch([`value-${sequence}`.padEnd(60, '.')], { ...producer, baseSequence: sequence }));
    for (const data of batches) await produce(test.broker, 't', 0, Buffer.from(data));
    const snapshots = fs.readdir('/data/t-0').filter((name) => name.endsWith('.snapshot'));
    expect(snapshots.length).toBe(2);
    const segments = test.broker.partition('t', 0)?.log.segmentBaseOffsets() ?? [];
    expect(snapshots.map((name) => Number(name.slice(0, 20))).every((offset) => segments.includes(offset))).toBe(true);
    test.broker.partition('t', 0)?.log.flush();
    test.broker.kill();
    test = await openTestBroker({}, fs);
    // Kafka's snapshot keeps each producer's last batch; the batches after it come back from the
    // replayed tail. So every batch from the one just below the newest snapshot on is remembered.
    const newest = Math.max(...snapshots.map((name) => Number(name.slice(0, 20))));
    expect(newest).toBeGreaterThan(1);
    for (let sequence = newest - 1; sequence < 8; sequence++) {
      expect(await produce(test.broker, 't', 0, Buffer.from(batches[sequence]))).toMatchObject({ errorCode: 0, baseOffset: sequence });
    }
    expect(await produce(test.broker, 't', 0, batch(['next'], { ...producer, baseSequence: 8 }))).toMatchObject({ errorCode: 0, baseOffset: 8 });
  });

  it('refuses a sequence gap with OUT_OF_ORDER_SEQUENCE_NUMBER', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    await produce(test.broker, 't', 0, batch(['a'], { ...producer, baseSequence: 0 }));
    expect(await produce(test.broker, 't', 0, batch(['c'], { ...producer, baseSequence: 2 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(1);
  });

  it('fences an older epoch and refuses an unknown producer that does not start at 0', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    const bumped = (await test.broker.handle(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 1, ...producer })) as Body;
    expect(bumped).toMatchObject({ errorCode: 0, producerId: producer.producerId, producerEpoch: 1 });
    await produce(test.broker, 't', 0, batch(['new'], { producerId: producer.producerId, producerEpoch: 1, baseSequence: 0 }));
    expect(await produce(test.broker, 't', 0, batch(['old'], { ...producer, baseSequence: 5 }))).toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(await produce(test.broker, 't', 0, batch(['x'], { producerId: 999, producerEpoch: 0, baseSequence: 7 }))).toMatchObject({ errorCode: ErrorCode.UNKNOWN_PRODUCER_ID });
  });

  it('forgets a producer after producer.id.expiration.ms without batches', async () => {
    test = await openTestBroker({ producerIdExpirationMs: 60_000, producerIdExpirationCheckIntervalMs: 10_000 });
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    await produce(test.broker, 't', 0, batch(['a'], { ...producer, baseSequence: 0, timestamp: test.clock.now() }));
    test.clock.advance(50_000);
    expect(test.broker.partition('t', 0)?.producerState.entries.size).toBe(1);
    test.clock.advance(20_000);
    expect(test.broker.partition('t', 0)?.producerState.entries.size).toBe(0);
    expect(await produce(test.broker, 't', 0, batch(['b'], { ...producer, baseSequence: 1 }))).toMatchObject({ errorCode: ErrorCode.UNKNOWN_PRODUCER_ID });
  });

  it('allocates a new producer id on each call without one', async () => {
    test = await openTestBroker();
    const a = await initProducerId(test);
    const b = await initProducerId(test);
    expect(a.producerId).not.toBe(b.producerId);
    expect(a.producerEpoch).toBe(0);
  });
});

describe('ProducerStateManager snapshot', () => {
  it('round-trips each producer\'s last batch in Kafka\'s layout and rejects a flipped bit', () => {
    const state = new ProducerStateManager(5);
    state.replay({ producerId: 7, producerEpoch: 2, baseSequence: 0, lastOffsetDelta: 2, maxTimestamp: 100 }, 10);
    state.replay({ producerId: 7, producerEpoch: 2, baseSequence: 3, lastOffsetDelta: 0, maxTimestamp: 200 }, 13);
    const snapshot = state.encodeSnapshot();
    expect(snapshot.length).toBe(10 + 46);
    expect(snapshot.readInt16BE(0)).toBe(1);
    const loaded = new ProducerStateManager(5);
    loaded.loadSnapshot(snapshot, 'x.snapshot');
    expect(loaded.entries.get(7)).toEqual({ producerId: 7, producerEpoch: 2, coordinatorEpoch: -1, batches: [{ firstSequence: 3, lastSequence: 3, firstOffset: 13, lastOffset: 13, timestamp: 200 }] });
    snapshot[20] ^= 1;
    expect(() => loaded.loadSnapshot(snapshot, 'x.snapshot')).toThrow(/CRC/);
  });

  it('keeps only the last five batches per producer', () => {
    const state = new ProducerStateManager(5);
    for (let sequence = 0; sequence < 8; sequence++) state.replay({ producerId: 1, producerEpoch: 0, baseSequence: sequence, lastOffsetDelta: 0, maxTimestamp: 0 }, sequence);
    expect(state.entries.get(1)?.batches.map((entry) => entry.firstSequence)).toEqual([3, 4, 5, 6, 7]);
    expect(state.check({ producerId: 1, producerEpoch: 0, baseSequence: 3, lastOffsetDelta: 0, maxTimestamp: 0 }).kind).toBe('duplicate');
    expect(state.check({ producerId: 1, producerEpoch: 0, baseSequence: 2, lastOffsetDelta: 0, maxTimestamp: 0 }).kind).toBe('error');
  });
});
