/**
 * `consumer.run({ eachRecords })`, the cursor shape beside eachBatch: it hands out exactly the
 * records eachBatch hands out (keys, values, null ones, headers, offsets, timestamps), across
 * batches and fetches, resolves what the cursor reached so a later member of the group starts
 * after it, re-fetches what a handler did not reach, and reports a record that does not decode
 * after the records before it.
 */
import type { Broker } from '@gregor/broker';
import { ApiKey } from '@gregor/protocol';
import { BATCH_HEADER_BYTES, encodeBatch, writeBatchCrc } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '../src/client.js';
import type { Consumer, ConsumerOptions } from '../src/consumer.js';
import { CorruptMessageError, KafkaClientError } from '../src/errors.js';
import type { Body } from '../src/transport.js';
import { inProcessClient, openBroker, waitFor } from './helpers.js';

let broker: Broker;
let client: Client;
const consumers: Consumer[] = [];

beforeEach(async () => {
  ({ broker } = await openBroker());
  client = inProcessClient(broker);
});
afterEach(async () => {
  for (const c of consumers.splice(0)) await c.disconnect().catch(() => {});
  await broker.close();
});

function newConsumer(options: Partial<ConsumerOptions> = {}) {
  const consumer = client.consumer({ groupId: 'g', maxWaitTimeInMs: 50, heartbeatInterval: 50, ...options });
  consumers.push(consumer);
  return consumer;
}

interface Seen {
  offset: number;
  timestamp: number;
  key: string | null;
  value: string | null;
  headers: string;
}

/** 60 records in sends of 1 to 11 (many batches), with null keys and values and headers now and then. */
async function produceMixed(topic: string): Promise<void> {
  await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
  const producer = client.producer({ lingerMs: 0 });
  await producer.connect();
  let n = 0;
  for (let size = 1; n < 60; size = (size % 11) + 1) {
    const messages = Array.from({ length: Math.min(size, 60 - n) }, (_, i) => {
      const index = n + i;
      return {
        key: index % 4 === 0 ? null : `k${index}`,
        value: index % 7 === 3 ? null : `value ${index} ${'x'.repeat(index * 3)}`,
        ...(index % 5 === 1 ? { headers: { h: `h${index}` } } : {}),
        timestamp: String(1_700_000_000_000 + index),
      };
    });
    await producer.send({ topic, messages });
    n += messages.length;
  }
  await producer.disconnect();
}

async function readWithEachBatch(topic: string, count: number): Promise<Seen[]> {
  const consumer = newConsumer({ groupId: `${topic}-batch` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const seen: Seen[] = [];
  await consumer.run({
    eachBatch: ({ batch }) => {
      for (const m of batch.messages) {
        seen.push({ offset: Number(m.offset), timestamp: Number(m.timestamp), key: m.key?.toString() ?? null, value: m.value?.toString() ?? null, headers: JSON.stringify(Object.entries(m.headers).map(([k, v]) => [k, String(v)])) });
      }
    },
  });
  await waitFor(() => seen.length >= count, 'eachBatch read everything');
  await consumer.stop();
  return seen;
}

describe('eachRecords', () => {
  it('hands out the records eachBatch does, with keys and values as positions into the fetched bytes', async () => {
    await produceMixed('mixed');
    const expected = await readWithEachBatch('mixed', 60);
    const consumer = newConsumer({ groupId: 'cursor', maxBytesPerPartition: 700 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'mixed', fromBeginning: true });
    const seen: Seen[] = [];
    let calls = 0;
    await consumer.run({
      eachRecords: ({ topic, partition, records }) => {
        expect([topic, partition]).toEqual(['mixed', 0]);
        calls++;
        while (records.next()) {
          const { data, keyStart, keyLength, valueStart, valueLength } = records;
          const key = keyLength < 0 ? null : data.toString('utf8', keyStart, keyStart + keyLength);
          const value = valueLength < 0 ? null : data.toString('utf8', valueStart, valueStart + valueLength);
          // The Buffer accessors agree with the positions.
          expect(records.key()?.toString() ?? null).toBe(key);
          expect(records.value()?.toString() ?? null).toBe(value);
          const headers = JSON.stringify(records.headers().map((h) => [h.key, String(h.value)]));
          seen.push({ offset: records.offset, timestamp: records.timestamp, key, value, headers });
        }
        expect(records.next()).toBe(false);
      },
    });
    await waitFor(() => seen.length >= 60, 'eachRecords read everything');
    expect(seen).toEqual(expected);
    // 700 bytes per partition and fetch: several fetches, each one call.
    expect(calls).toBeGreaterThan(3);
  });

  it('resolves the records the cursor reached: a later member of the group starts after them', async () => {
    await produceMixed('resume');
    const first = newConsumer({ groupId: 'resume' });
    await first.connect();
    await first.subscribe({ topic: 'resume', fromBeginning: true });
    let read = 0;
    await first.run({
      autoCommit: true,
      eachRecords: ({ records }) => {
        while (read < 25 && records.next()) read++;
      },
    });
    await waitFor(() => read === 25, '25 records read');
    // (Handlers that take nothing more do not starve the event loop: this test's timers run.)
    await first.disconnect();
    const committed = await client.admin().fetchOffsets({ groupId: 'resume', topics: ['resume'] });
    expect(committed[0].partitions[0].offset).toBe('25');
    const second = newConsumer({ groupId: 'resume' });
    await second.connect();
    await second.subscribe({ topic: 'resume', fromBeginning: true });
    const offsets: number[] = [];
    await second.run({ eachRecords: ({ records }) => void (() => { while (records.next()) offsets.push(records.offset); })() });
    await waitFor(() => offsets.length >= 35, 'the rest read');
    expect(offsets).toEqual(Array.from({ length: 35 }, (_, i) => 25 + i));
  });

  it('fetches again what a handler did not reach, and awaits a returned promise', async () => {
    await produceMixed('partial');
    const consumer = newConsumer({ groupId: 'partial' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'partial', fromBeginning: true });
    const offsets: number[] = [];
    // Three records per call, the last of them after an await.
    await consumer.run({
      eachRecords: async ({ records }) => {
        if (records.next()) offsets.push(records.offset);
        if (records.next()) offsets.push(records.offset);
        await new Promise((resolve) => setImmediate(resolve));
        if (records.next()) offsets.push(records.offset);
      },
    });
    await waitFor(() => offsets.length >= 60, 'everything read, three at a time');
    expect(offsets).toEqual(Array.from({ length: 60 }, (_, i) => i));
  });

  it('reports a record that does not decode after handing out the ones before it', async () => {
    await client.admin().createTopics({ topics: [{ topic: 'bad', numPartitions: 1 }] });
    const good = encodeBatch({ records: [0, 1, 2].map((i) => ({ key: null, value: Buffer.from(`v${i}`) })) });
    const answer = (await broker.handle(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: 'bad', partitionData: [{ index: 0, records: good }] }] })) as Body;
    expect(answer.responses[0].partitionResponses[0].errorCode).toBe(0);
    // A batch whose CRC matches but whose first record's length lies: the broker serves it.
    const bad = encodeBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.alloc(80, 0x61) }, { key: null, value: Buffer.from('x') }] });
    bad[BATCH_HEADER_BYTES] = 2 * 40;
    writeBatchCrc(bad, 0, bad.length);
    const partition = broker.partition('bad', 0)!;
    partition.log.append(bad, { assignOffsets: true, leaderEpoch: 0 });
    partition.maybeIncrementHighWatermark();
    const consumer = newConsumer({ groupId: 'bad' });
    const crashed = new Promise<{ error: CorruptMessageError }>((resolve) => consumer.on('crash', (event: { payload: { error: CorruptMessageError } }) => resolve(event.payload)));
    await consumer.connect();
    await consumer.subscribe({ topic: 'bad', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({
      eachRecords: ({ records }) => {
        while (records.next()) values.push(records.value()!.toString());
      },
    });
    const { error } = await crashed;
    expect(values).toEqual(['v0', 'v1', 'v2']);
    expect(error).toBeInstanceOf(CorruptMessageError);
    expect(error).toMatchObject({ topic: 'bad', partition: 0, offset: '3', code: 'CORRUPT_MESSAGE' });
  });

  it('run() takes exactly one of eachMessage, eachBatch and eachRecords', async () => {
    const consumer = newConsumer();
    await consumer.connect();
    await expect(consumer.run({ eachBatch: () => {}, eachRecords: () => {} })).rejects.toThrow(KafkaClientError);
    await expect(consumer.run({})).rejects.toThrow(/eachRecords/);
  });
});
