import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { MemoryFileSystem } from '@gregor/log';
import { BlockProducerIdAllocator, PRODUCER_ID_BLOCK_FILE, PRODUCER_ID_BLOCK_SIZE, ProducerStateManager, warningChannel, type Body, type ProducerIdBlock } from '@gregor/broker';
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

  it('fences an older epoch once the producer bumps its own epoch, and refuses an unknown producer that does not start at 0', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    await produce(test.broker, 't', 0, batch(['first'], { ...producer, baseSequence: 0 }));
    // Kafka's idempotent producer bumps its epoch itself (KIP-360) and starts again at sequence 0.
    expect(await produce(test.broker, 't', 0, batch(['bumped'], { producerId: producer.producerId, producerEpoch: 1, baseSequence: 3 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(test.broker, 't', 0, batch(['bumped'], { producerId: producer.producerId, producerEpoch: 1, baseSequence: 0 }))).toMatchObject({ errorCode: 0, baseOffset: 1 });
    expect(await produce(test.broker, 't', 0, batch(['old'], { ...producer, baseSequence: 1 }))).toMatchObject({ errorCode: ErrorCode.INVALID_PRODUCER_EPOCH });
    expect(await produce(test.broker, 't', 0, batch(['x'], { producerId: 999, producerEpoch: 0, baseSequence: 7 }))).toMatchObject({ errorCode: ErrorCode.UNKNOWN_PRODUCER_ID });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(2);
  });

  it('forgets a producer after producer.id.expiration.ms without batches, counted on the broker\'s clock', async () => {
    test = await openTestBroker({ producerIdExpirationMs: 60_000, producerIdExpirationCheckIntervalMs: 10_000 });
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    // The batch's own timestamp (a producer whose clock is far behind) does not shorten its life.
    await produce(test.broker, 't', 0, batch(['a'], { ...producer, baseSequence: 0, timestamp: 1000 }));
    test.clock.advance(50_000);
    expect(test.broker.partition('t', 0)?.producerState.entries.size).toBe(1);
    test.clock.advance(20_000);
    expect(test.broker.partition('t', 0)?.producerState.entries.size).toBe(0);
    expect(await produce(test.broker, 't', 0, batch(['b'], { ...producer, baseSequence: 1 }))).toMatchObject({ errorCode: ErrorCode.UNKNOWN_PRODUCER_ID });
  });

  it('answers a retry whose batch header was encoded again (a new base timestamp) as a duplicate', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    await produce(test.broker, 't', 0, batch(['a', 'b'], { ...producer, baseSequence: 0, timestamp: 1_000 }));
    // kafkajs encodes a retried batch again with Date.now() as its base and max timestamp.
    expect(await produce(test.broker, 't', 0, batch(['a', 'b'], { ...producer, baseSequence: 0, timestamp: 5_000 }))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(2);
  });

  it('refuses a batch that reuses a remembered sequence with other records or another record count', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    await produce(test.broker, 't', 0, batch(['a', 'b'], { ...producer, baseSequence: 0 }));
    await produce(test.broker, 't', 0, batch(['c'], { ...producer, baseSequence: 2 }));
    // Same producer, epoch and sequences 0..1, but not the records stored at offsets 0..1.
    expect(await produce(test.broker, 't', 0, batch(['x', 'y'], { ...producer, baseSequence: 0 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, errorMessage: expect.stringMatching(/not a retry/) });
    // Sequence 0 starts a remembered batch, but this one holds three records, not two.
    expect(await produce(test.broker, 't', 0, batch(['a', 'b', 'z'], { ...producer, baseSequence: 0 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(test.broker, 't', 0, batch(['a'], { ...producer, baseSequence: 0 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(3);
    // The true retries are still recognised, and the next batch still follows.
    expect(await produce(test.broker, 't', 0, batch(['a', 'b'], { ...producer, baseSequence: 0 }))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(test.broker, 't', 0, batch(['d'], { ...producer, baseSequence: 3 }))).toMatchObject({ errorCode: 0, baseOffset: 3 });
  });

  it('compares a retry with the stored records after a restart too (the snapshot keeps no records)', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    await produce(test.broker, 't', 0, batch(['a', 'b'], { ...producer, baseSequence: 0 }));
    await test.reopen();
    expect(await produce(test.broker, 't', 0, batch(['x', 'y'], { ...producer, baseSequence: 0 }))).toMatchObject({ errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER });
    expect(await produce(test.broker, 't', 0, batch(['a', 'b'], { ...producer, baseSequence: 0 }))).toMatchObject({ errorCode: 0, baseOffset: 0 });
  });

  it('takes a batch with a producer id only alone in its record set, and only with a sequence', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const producer = await initProducerId(test);
    const two = Buffer.concat([batch(['a'], { ...producer, baseSequence: 0 }), batch(['b'], { ...producer, baseSequence: 1 })]);
    expect(await produce(test.broker, 't', 0, two)).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD });
    const mixed = Buffer.concat([batch(['plain']), batch(['a'], { ...producer, baseSequence: 0 })]);
    expect(await produce(test.broker, 't', 0, mixed)).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD });
    expect(await produce(test.broker, 't', 0, batch(['a'], { ...producer, baseSequence: -1 }))).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD });
    // Plain batches still travel several to a request (Gregor's producer sends them so).
    expect(await produce(test.broker, 't', 0, Buffer.concat([batch(['p']), batch(['q'])]))).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(2);
  });
});

describe('InitProducerId', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  const init = async (body: Partial<Body>, version = 4): Promise<Body> =>
    (await test.broker.handle(ApiKey.InitProducerId, version, { transactionalId: null, transactionTimeoutMs: 60_000, ...body })) as Body;

  it('hands a fresh id with epoch 0 to every idempotent producer, whatever id and epoch it sends', async () => {
    test = await openTestBroker();
    const first = await init({ producerId: -1, producerEpoch: -1 });
    expect(first).toMatchObject({ errorCode: 0, producerEpoch: 0 });
    // @platformatic/kafka sends 0 and 0 for a new producer; kafkajs and v0-2 send nothing.
    const answers = [first, await init({ producerId: 0, producerEpoch: 0 }), await init({ producerId: 0, producerEpoch: 0 }), await init({}, 0)];
    // A known producer's own id and epoch (an epoch bump request) still gets a new id, as in Kafka.
    answers.push(await init({ producerId: first.producerId, producerEpoch: first.producerEpoch }));
    answers.push(await init({ producerId: 123_456, producerEpoch: 77 }));
    expect(answers.every((answer) => answer.errorCode === 0 && answer.producerEpoch === 0)).toBe(true);
    expect(new Set(answers.map((answer) => answer.producerId)).size).toBe(answers.length);
  });

  it('answers INVALID_REQUEST when only one of producerId and producerEpoch is -1', async () => {
    test = await openTestBroker();
    expect(await init({ producerId: 5, producerEpoch: -1 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1 });
    expect(await init({ producerId: -1, producerEpoch: 0 })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1 });
  });

  it('keeps producer ids unique across clean restarts and crashes, reserving blocks of 1000 in the data dir', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({}, fs);
    const seen = new Set<number>();
    const take = async (count: number): Promise<void> => {
      for (let index = 0; index < count; index++) {
        const answer = await init({ producerId: -1, producerEpoch: -1 });
        expect(answer.errorCode).toBe(0);
        expect(seen.has(answer.producerId)).toBe(false);
        seen.add(answer.producerId);
      }
    };
    await take(3);
    expect(fs.readFile(`/data/${PRODUCER_ID_BLOCK_FILE}`).toString()).toMatch(/block_start=0\nblock_end=999\n/);
    await test.reopen();
    await take(3);
    // The block is reserved before its first id is used, so a crash cannot hand an id out twice.
    test.broker.kill();
    fs.crash();
    test = await openTestBroker({}, fs);
    await take(1500);
    expect(Math.min(...seen)).toBe(0);
    expect(Math.max(...seen)).toBeLessThan(5 * PRODUCER_ID_BLOCK_SIZE);
  });

  it('starts above every producer id the partitions remember when the block file is damaged, and warns', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({}, fs);
    await createTopic(test.broker, 't');
    for (let index = 0; index < 1200; index++) await init({});
    const last = await init({});
    await produce(test.broker, 't', 0, batch(['a'], { producerId: last.producerId, producerEpoch: 0, baseSequence: 0 }));
    await test.broker.close();
    fs.flipBit(`/data/${PRODUCER_ID_BLOCK_FILE}`, 30, 1);
    const warnings: string[] = [];
    const onWarning = (message: unknown): void => void warnings.push((message as { message: string }).message);
    warningChannel.subscribe(onWarning);
    try {
      test = await openTestBroker({}, fs);
      const next = await init({});
      expect(next.errorCode).toBe(0);
      expect(next.producerId).toBeGreaterThan(last.producerId);
      expect(warnings).toEqual([expect.stringMatching(/latest-producer-id-block is damaged \(CRC mismatch\)/)]);
    } finally {
      warningChannel.unsubscribe(onWarning);
    }
  });
});

describe('BlockProducerIdAllocator', () => {
  it('asks for the next block at 90% of the current one and answers retriably while it waits', async () => {
    const requests: ((block: ProducerIdBlock) => void)[] = [];
    const allocator = new BlockProducerIdAllocator({ nextBlock: () => new Promise<ProducerIdBlock>((resolve) => requests.push(resolve)) });
    expect(() => allocator.allocate()).toThrow(expect.objectContaining({ errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS }));
    expect(requests.length).toBe(1);
    requests[0]({ firstProducerId: 100, size: 10 });
    await Promise.resolve();
    const ids = Array.from({ length: 9 }, () => allocator.allocate());
    expect(ids).toEqual([100, 101, 102, 103, 104, 105, 106, 107, 108]);
    // Id 109 is the 90% mark: the next block is requested while 109 is still handed out.
    expect(allocator.allocate()).toBe(109);
    expect(requests.length).toBe(2);
    expect(() => allocator.allocate()).toThrow(expect.objectContaining({ code: 'PRODUCER_IDS_UNAVAILABLE' }));
    requests[1]({ firstProducerId: 5000, size: 10 });
    await Promise.resolve();
    expect(allocator.allocate()).toBe(5000);
  });

  it('reports a failed block request and tries again on the next call', () => {
    let failures = 1;
    const allocator = new BlockProducerIdAllocator({
      nextBlock: () => {
        if (failures-- > 0) throw new Error('ENOSPC: no space left on device');
        return { firstProducerId: 0, size: 1000 };
      },
    });
    expect(() => allocator.allocate()).toThrow(/ENOSPC/);
    expect(allocator.allocate()).toBe(0);
  });
});

describe('ProducerStateManager snapshot', () => {
  const DAY_MS = 86_400_000;

  it('round-trips each producer\'s last batch in Kafka\'s layout and rejects a flipped bit', () => {
    const state = new ProducerStateManager(5);
    state.update({ producerId: 7, producerEpoch: 2, baseSequence: 0, lastOffsetDelta: 2 }, 10, 100);
    state.update({ producerId: 7, producerEpoch: 2, baseSequence: 3, lastOffsetDelta: 0 }, 13, 200);
    const snapshot = state.encodeSnapshot();
    expect(snapshot.length).toBe(10 + 46);
    expect(snapshot.readInt16BE(0)).toBe(1);
    const loaded = new ProducerStateManager(5);
    loaded.loadSnapshot(snapshot, 'x.snapshot', 300, DAY_MS);
    expect(loaded.entries.get(7)).toEqual({ producerId: 7, producerEpoch: 2, coordinatorEpoch: -1, lastTimestamp: 200, batches: [{ firstSequence: 3, lastSequence: 3, firstOffset: 13, lastOffset: 13 }] });
    snapshot[20] ^= 1;
    expect(() => loaded.loadSnapshot(snapshot, 'x.snapshot', 300, DAY_MS)).toThrow(/CRC/);
  });

  it('restores the first sequence of a batch whose sequences wrapped past Int.MaxValue', () => {
    const state = new ProducerStateManager(5);
    // Sequences 2147483646, 2147483647, 0, 1: the last sequence is below the record count.
    state.update({ producerId: 3, producerEpoch: 0, baseSequence: 2_147_483_646, lastOffsetDelta: 3 }, 40, 0);
    const loaded = new ProducerStateManager(5);
    loaded.loadSnapshot(state.encodeSnapshot(), 'x.snapshot', 0, DAY_MS);
    expect(loaded.entries.get(3)?.batches).toEqual([{ firstSequence: 2_147_483_646, lastSequence: 1, firstOffset: 40, lastOffset: 43 }]);
    expect(loaded.check({ producerId: 3, producerEpoch: 0, baseSequence: 2_147_483_646, lastOffsetDelta: 3 }).kind).toBe('duplicate');
    expect(loaded.check({ producerId: 3, producerEpoch: 0, baseSequence: 2, lastOffsetDelta: 0 }).kind).toBe('append');
  });

  it('does not load producers that expired while the broker was down', () => {
    const state = new ProducerStateManager(5);
    state.update({ producerId: 1, producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 0 }, 0, 1000);
    state.update({ producerId: 2, producerEpoch: 0, baseSequence: 0, lastOffsetDelta: 0 }, 1, 5000);
    const loaded = new ProducerStateManager(5);
    loaded.loadSnapshot(state.encodeSnapshot(), 'x.snapshot', 1000 + DAY_MS, DAY_MS);
    expect([...loaded.entries.keys()]).toEqual([2]);
  });

  it('keeps only the last five batches per producer', () => {
    const state = new ProducerStateManager(5);
    for (let sequence = 0; sequence < 8; sequence++) state.update({ producerId: 1, producerEpoch: 0, baseSequence: sequence, lastOffsetDelta: 0 }, sequence, 0);
    expect(state.entries.get(1)?.batches.map((entry) => entry.firstSequence)).toEqual([3, 4, 5, 6, 7]);
    expect(state.check({ producerId: 1, producerEpoch: 0, baseSequence: 3, lastOffsetDelta: 0 }).kind).toBe('duplicate');
    expect(state.check({ producerId: 1, producerEpoch: 0, baseSequence: 2, lastOffsetDelta: 0 }).kind).toBe('error');
  });
});
