import { batchesIn, decodeBatch } from '@gregor/records';
import { afterEach, describe, expect, it } from 'vitest';
import { Cluster } from '../src/cluster.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import { Producer, type ProducerOptions } from '../src/producer.js';
import { FakeBroker } from './fake-broker.js';

const producers: Producer[] = [];
afterEach(async () => {
  for (const p of producers.splice(0)) await p.disconnect().catch(() => {});
});

async function setup(options: ProducerOptions, topics: Record<string, number> = { t: 1 }) {
  const broker = new FakeBroker(topics);
  const producer = new Producer(new Cluster(new InProcessTransport(broker)), options);
  producers.push(producer);
  await producer.connect();
  return { broker, producer };
}

const decodeAll = (buffers: Buffer[]) => buffers.flatMap((buffer) => [...batchesIn(buffer)].map(({ position }) => decodeBatch(buffer, position)));
const recordsIn = (buffers: Buffer[]) => decodeAll(buffers).flatMap((b) => [...b.records()]);
const value100 = Buffer.alloc(100, 1);

describe('producer accumulator', () => {
  it('sends a lone record once it has lingered lingerMs', async () => {
    const { broker, producer } = await setup({ lingerMs: 20 });
    const sent = producer.send({ topic: 't', messages: [{ value: 'a' }] });
    await new Promise((r) => setTimeout(r, 5));
    expect(broker.produceRequests).toHaveLength(0);
    const [result] = await sent;
    expect(result).toMatchObject({ topicName: 't', partition: 0, errorCode: 0, baseOffset: '0' });
    expect(broker.produceRequests).toHaveLength(1);
  });

  it('seals a batch when the next record would pass batchBytes and sends it without waiting for linger', async () => {
    const { broker, producer } = await setup({ lingerMs: 60_000, batchBytes: 1024 });
    const messages = Array.from({ length: 30 }, () => ({ value: value100 }));
    const sending = producer.send({ topic: 't', messages });
    await new Promise((r) => setTimeout(r, 20));
    const sealed = decodeAll(broker.batches.get('t-0') ?? []);
    expect(sealed.length).toBeGreaterThanOrEqual(3);
    for (const batch of sealed) expect(batch.sizeBytes).toBeLessThanOrEqual(1024);
    await producer.flush();
    await sending;
    expect(recordsIn(broker.batches.get('t-0')!)).toHaveLength(30);
  });

  it('reports the offset of the first record of each send', async () => {
    const { producer } = await setup({ lingerMs: 1 });
    await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    const [second] = await producer.send({ topic: 't', messages: [{ value: 'd' }] });
    expect(second.baseOffset).toBe('3');
  });

  it('fails send at once with BUFFER_FULL when the buffer is full and maxBlockMs is 0', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, batchBytes: 1024, bufferMemoryBytes: 4096, maxBlockMs: 0 });
    broker.holdProduce = true;
    const first = producer.send({ topic: 't', messages: Array.from({ length: 60 }, () => ({ value: value100 })) });
    await expect(first).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    broker.holdProduce = false;
    broker.releaseProduce();
  });

  it('blocks send while the buffer is full and resumes once batches are acknowledged', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, batchBytes: 1024, bufferMemoryBytes: 4096, maxBlockMs: 10_000 });
    broker.holdProduce = true;
    let done = false;
    const sending = producer.send({ topic: 't', messages: Array.from({ length: 60 }, () => ({ value: value100 })) }).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(done).toBe(false);
    // Never more bytes held than the budget: 4 batches of 1 KiB.
    expect(broker.produceRequests.length).toBeLessThanOrEqual(4);
    for (let i = 0; i < 20 && !done; i++) {
      broker.releaseProduce();
      await new Promise((r) => setTimeout(r, 5));
    }
    await sending;
    expect(recordsIn(broker.batches.get('t-0')!)).toHaveLength(60);
  });

  it('fails with BUFFER_FULL after maxBlockMs when the buffer stays full', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, batchBytes: 1024, bufferMemoryBytes: 2048, maxBlockMs: 30 });
    broker.holdProduce = true;
    await expect(producer.send({ topic: 't', messages: Array.from({ length: 40 }, () => ({ value: value100 })) })).rejects.toMatchObject({ code: 'BUFFER_FULL' });
    broker.holdProduce = false;
    broker.releaseProduce();
  });

  it('sends one Produce request carrying the batches of every partition of a broker', async () => {
    const { broker, producer } = await setup({ lingerMs: 10 }, { t: 4 });
    await producer.send({ topic: 't', messages: [0, 1, 2, 3].map((partition) => ({ partition, value: 'x' })) });
    expect(broker.produceRequests).toHaveLength(1);
    expect(broker.produceRequests[0].topicData[0].partitionData.map((p: { index: number }) => p.index).sort()).toEqual([0, 1, 2, 3]);
  });

  it('writes producer id, epoch and consecutive sequences into idempotent batches', async () => {
    const { broker, producer } = await setup({ idempotent: true, lingerMs: 0 });
    await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    await producer.send({ topic: 't', messages: [{ value: 'c' }] });
    const batches = decodeAll(broker.batches.get('t-0')!);
    expect(batches.map((b) => [b.producerId, b.producerEpoch, b.baseSequence])).toEqual([
      [1000, 0, 0],
      [1000, 0, 2],
    ]);
  });

  it('encodes string keys, values and headers as UTF-8', async () => {
    const { broker, producer } = await setup({ lingerMs: 0 });
    await producer.send({ topic: 't', messages: [{ key: 'k', value: 'é', headers: { h: 'v', multi: ['1', '2'] }, timestamp: 1234 }] });
    const [record] = recordsIn(broker.batches.get('t-0')!);
    expect(record.key!.toString()).toBe('k');
    expect(record.value!.toString()).toBe('é');
    expect(record.timestamp).toBe(1234);
    expect(record.headers.map((h) => [h.key, h.value!.toString()])).toEqual([['h', 'v'], ['multi', '1'], ['multi', '2']]);
  });

  it('retries a retriable error with backoff and keeps the batch order', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, retry: { retries: 3, initialRetryTimeMs: 5 } });
    broker.produceErrors.push(6, 6); // NOT_LEADER_OR_FOLLOWER twice
    const [result] = await producer.send({ topic: 't', messages: [{ value: 'a' }, { value: 'b' }] });
    expect(result.baseOffset).toBe('0');
    expect(broker.produceRequests.length).toBe(3);
    expect(recordsIn(broker.batches.get('t-0')!).map((r) => r.value!.toString())).toEqual(['a', 'b']);
  });

  it('fails at once on a non-retriable error with the code name', async () => {
    const { broker, producer } = await setup({ lingerMs: 0 });
    broker.produceErrors.push(10); // MESSAGE_TOO_LARGE
    await expect(producer.send({ topic: 't', messages: [{ value: 'a' }] })).rejects.toMatchObject({ code: 'MESSAGE_TOO_LARGE', errorCode: 10, retriable: false });
  });

  it('gives up after the configured retries', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, retry: { retries: 1, initialRetryTimeMs: 1 } });
    broker.produceErrors.push(6, 6, 6);
    await expect(producer.send({ topic: 't', messages: [{ value: 'a' }] })).rejects.toMatchObject({ code: 'NOT_LEADER_OR_FOLLOWER' });
  });

  it('retries a non-idempotent send for as long as deliveryTimeoutMs allows by default, not a fixed five times (a failover outlasts five retries)', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, acks: 1, retry: { initialRetryTimeMs: 1, maxRetryTimeMs: 2 } });
    broker.produceErrors.push(...Array.from({ length: 30 }, () => 6)); // NOT_LEADER_OR_FOLLOWER while the leader moves
    const [result] = await producer.send({ topic: 't', messages: [{ value: 'a' }] });
    expect(result).toMatchObject({ errorCode: 0, baseOffset: '0' });
    expect(broker.produceRequests.length).toBe(31);
  });

  it('resolves acks=0 sends without waiting for a response', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, acks: 0 });
    const [result] = await producer.send({ topic: 't', messages: [{ value: 'a' }] });
    expect(result.baseOffset).toBe('-1');
    expect(broker.produceRequests[0].acks).toBe(0);
  });

  it('fails a batch still unacknowledged after deliveryTimeoutMs even with retries left, with DELIVERY_TIMEOUT caused by the last error', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, deliveryTimeoutMs: 60, retry: { retries: 1000, initialRetryTimeMs: 10, maxRetryTimeMs: 20 } });
    broker.produceErrors.push(...Array.from({ length: 1000 }, () => 6));
    await expect(producer.send({ topic: 't', messages: [{ value: 'a' }] })).rejects.toMatchObject({ code: 'DELIVERY_TIMEOUT', retriable: false, cause: { code: 'NOT_LEADER_OR_FOLLOWER' } });
    expect(broker.produceRequests.length).toBeLessThan(20);
    broker.produceErrors.length = 0;
  });

  it('sends the messages of several topics with sendBatch and reports each partition', async () => {
    const { producer } = await setup({ lingerMs: 0 }, { a: 1, b: 2 });
    const results = await producer.sendBatch({ topicMessages: [{ topic: 'a', messages: [{ value: '1' }] }, { topic: 'b', messages: [{ partition: 1, value: '2' }, { partition: 1, value: '3' }] }] });
    expect(results.map((r) => [r.topicName, r.partition, r.baseOffset])).toEqual([['a', 0, '0'], ['b', 1, '0']]);
  });
});
