import type { Broker } from '@gregor/broker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '../src/client.js';
import type { Consumer, ConsumerOptions } from '../src/consumer.js';
import { decodeValue, encodeValue, msgpackSerializer } from '../src/values.js';
import { createClient } from '../src/client.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import type { Transport } from '../src/transport.js';
import { FaultyTransport, inProcessClient, openBroker, waitFor } from './helpers.js';

let broker: Broker;
let client: Client;
const consumers: Consumer[] = [];

beforeEach(async () => {
  ({ broker } = await openBroker());
  client = inProcessClient(broker);
  const admin = client.admin();
  await admin.createTopics({ topics: [{ topic: 't', numPartitions: 2 }] });
  const producer = client.producer({ lingerMs: 0 });
  await producer.connect();
  await producer.send({ topic: 't', messages: Array.from({ length: 10 }, (_, i) => ({ partition: i % 2, value: String(i) })) });
  await producer.disconnect();
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

describe('consumer', () => {
  it('asks for fresh metadata when ListOffsets says the leader moved, so its retry goes to the new leader', async () => {
    const inner = new InProcessTransport(broker);
    const calls: number[] = [];
    let refused = false;
    const transport: Transport = {
      connect: () => inner.connect(),
      apiVersion: (apiKey) => inner.apiVersion(apiKey),
      setBrokers: (brokers) => inner.setBrokers(brokers),
      close: () => inner.close(),
      async request(apiKey, apiVersion, body, options) {
        calls.push(apiKey);
        const response = await inner.request(apiKey, apiVersion, body, options);
        if (apiKey !== 2 || refused) return response;
        // The first ListOffsets answer: this broker no longer leads the partitions.
        refused = true;
        for (const topic of response.topics) for (const p of topic.partitions) p.errorCode = 6;
        return response;
      },
    };
    const consumer = createClient({ transport }).consumer({ groupId: 'moved', maxWaitTimeInMs: 50, heartbeatInterval: 50, retry: { initialRetryTimeMs: 10, maxRetryTimeMs: 50 } });
    consumers.push(consumer);
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const values: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
    await waitFor(() => values.length === 10, 'every record after NOT_LEADER_OR_FOLLOWER');
    const refusal = calls.indexOf(2);
    // Metadata (3) was asked between the refused ListOffsets and the next one.
    expect(calls.slice(refusal + 1, calls.indexOf(2, refusal + 1))).toContain(3);
  });

  it('consumes although looking up its start positions failed once after joining (a lost ListOffsets or OffsetFetch answer)', async () => {
    for (const apiKey of [2, 9]) {
      const faulty = new FaultyTransport(new InProcessTransport(broker));
      // The answer to the first ListOffsets (2) or OffsetFetch (9) after the group's assignment is lost.
      faulty.dropNextResponse(apiKey);
      const consumer = createClient({ transport: faulty }).consumer({ groupId: `lost-${apiKey}`, maxWaitTimeInMs: 50, heartbeatInterval: 50, retry: { initialRetryTimeMs: 10, maxRetryTimeMs: 50 } });
      consumers.push(consumer);
      await consumer.connect();
      await consumer.subscribe({ topic: 't', fromBeginning: true });
      const values: string[] = [];
      await consumer.run({ eachMessage: async ({ message }) => void values.push(String(message.value)) });
      await waitFor(() => values.length === 10, `every record after a lost answer to api ${apiKey}`);
      expect(values.map(Number).sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    }
  });

  it('pauses a partition, stops receiving from it, and resumes where it stopped', async () => {
    const consumer = newConsumer();
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const seen: string[] = [];
    await consumer.run({
      eachMessage: async ({ partition, message, pause }) => {
        seen.push(`${partition}:${message.value}`);
        if (partition === 0 && message.offset === '1') pause();
      },
    });
    await waitFor(() => seen.filter((s) => s.startsWith('1:')).length === 5, 'partition 1 consumed');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.filter((s) => s.startsWith('0:'))).toEqual(['0:0', '0:2']);
    expect(consumer.paused()).toEqual([{ topic: 't', partitions: [0] }]);
    consumer.resume([{ topic: 't', partitions: [0] }]);
    await waitFor(() => seen.filter((s) => s.startsWith('0:')).length === 5, 'partition 0 resumed');
    expect(seen.filter((s) => s.startsWith('0:'))).toEqual(['0:0', '0:2', '0:4', '0:6', '0:8']);
  });

  it('seeks a partition back to an earlier offset', async () => {
    const consumer = newConsumer();
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const seen: string[] = [];
    let sought = false;
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (partition !== 1) return;
        seen.push(message.value!.toString());
        if (message.offset === '4' && !sought) {
          sought = true;
          consumer.seek({ topic: 't', partition: 1, offset: '2' });
        }
      },
    });
    await waitFor(() => seen.length >= 8, 'records after the seek');
    expect(seen.slice(0, 8)).toEqual(['1', '3', '5', '7', '9', '5', '7', '9']);
  });

  it('commits explicit offsets that a later member of the group starts from', async () => {
    const first = newConsumer();
    await first.connect();
    await first.subscribe({ topic: 't', fromBeginning: true });
    let joined = false;
    first.on('group.join', () => (joined = true));
    await first.run({ autoCommit: false, eachMessage: async () => {} });
    await waitFor(() => joined, 'join');
    await first.commitOffsets([{ topic: 't', partition: 0, offset: '3' }, { topic: 't', partition: 1, offset: 4 }]);
    await first.disconnect();
    const second = newConsumer();
    await second.connect();
    await second.subscribe({ topic: 't', fromBeginning: true });
    const seen: string[] = [];
    await second.run({ eachMessage: async ({ message }) => void seen.push(message.value!.toString()) });
    await waitFor(() => seen.length >= 3, 'remaining records');
    await new Promise((r) => setTimeout(r, 100));
    expect(seen.sort()).toEqual(['6', '9', '8'].sort());
  });

  async function produceSeparateBatches(topic: string, count: number): Promise<void> {
    await client.admin().createTopics({ topics: [{ topic, numPartitions: 1 }] });
    const producer = client.producer({ lingerMs: 0 });
    await producer.connect();
    for (let i = 0; i < count; i++) await producer.send({ topic, messages: [{ value: String(i) }] });
    await producer.disconnect();
  }

  it('hands a fetch to eachBatch in groups of eachBatchMessagesMax messages', async () => {
    await produceSeparateBatches('grouped', 5);
    const consumer = newConsumer({ groupId: 'grouped' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'grouped', fromBeginning: true });
    const groups: string[][] = [];
    await consumer.run({ eachBatchMessagesMax: 2, eachBatch: async ({ batch }) => void groups.push(batch.messages.map((m) => m.value!.toString())) });
    await waitFor(() => groups.flat().length === 5, 'all records consumed');
    expect(groups).toEqual([['0', '1'], ['2', '3'], ['4']]);
  });

  it('stops handing over a fetch after a group that eachBatch did not resolve to its end', async () => {
    await produceSeparateBatches('unresolved', 4);
    const consumer = newConsumer({ groupId: 'unresolved' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'unresolved', fromBeginning: true });
    const groups: string[][] = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatchMessagesMax: 2,
      eachBatch: async ({ batch, resolveOffset }) => {
        groups.push(batch.messages.map((m) => m.value!.toString()));
        const resolveUpTo = groups.length === 1 ? 1 : batch.messages.length;
        for (const message of batch.messages.slice(0, resolveUpTo)) resolveOffset(message.offset);
      },
    });
    await waitFor(() => groups.flat().includes('3'), 'the last record consumed');
    expect(groups.slice(0, 3)).toEqual([['0', '1'], ['1', '2'], ['3']]);
  });

  it('hands batches to eachBatch and commits only the offsets resolved when auto-resolve is off', async () => {
    const consumer = newConsumer();
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const firstOffsets: string[] = [];
    await consumer.run({
      eachBatchAutoResolve: false,
      eachBatch: async ({ batch, resolveOffset }) => {
        firstOffsets.push(`${batch.partition}:${batch.firstOffset()}`);
        resolveOffset(batch.messages[0].offset);
      },
    });
    await waitFor(() => firstOffsets.length >= 4, 'batches redelivered after partial resolve');
    // Resolving only the first record moves the position by one: the next batch starts there.
    expect(firstOffsets.filter((s) => s.startsWith('0:')).slice(0, 2)).toEqual(['0:0', '0:1']);
  });

  it('emits group.join with the member assignment, and crash-free disconnect events', async () => {
    const consumer = newConsumer();
    const events: string[] = [];
    let assignment: unknown;
    consumer.on('group.join', (e: { payload: { memberAssignment: unknown } }) => {
      events.push('join');
      assignment = e.payload.memberAssignment;
    });
    consumer.on('consumer.disconnect', () => events.push('disconnect'));
    consumer.on('crash', () => events.push('crash'));
    await consumer.connect();
    await consumer.subscribe({ topics: [/^t$/] });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => events.includes('join'), 'join');
    expect(assignment).toEqual({ t: [0, 1] });
    await consumer.disconnect();
    expect(events).toEqual(['join', 'disconnect']);
  });

  it('keeps a static member\'s partitions when it restarts within the session timeout', async () => {
    const admin = client.admin();
    await admin.createTopics({ topics: [{ topic: 's', numPartitions: 4 }] });
    const options = { groupId: 'static', groupInstanceId: 'instance-a', sessionTimeout: 5000, partitionAssigners: ['roundrobin'] };
    const a = newConsumer(options);
    const b = newConsumer({ ...options, groupInstanceId: 'instance-b' });
    for (const c of [a, b]) {
      await c.connect();
      await c.subscribe({ topic: 's' });
      await c.run({ eachMessage: async () => {} });
      await waitFor(() => c.assignment().length > 0, 'assignment');
    }
    await waitFor(() => a.assignment().length === 2 && b.assignment().length === 2, 'split');
    const before = a.assignment();
    await a.disconnect();
    const again = newConsumer(options);
    await again.connect();
    await again.subscribe({ topic: 's' });
    await again.run({ eachMessage: async () => {} });
    await waitFor(() => again.assignment().length === 2, 'static member back');
    expect(again.assignment()).toEqual(before);
  });
});

describe('partitionsConsumedConcurrently', () => {
  it('runs the handlers of two partitions at the same time', async () => {
    const consumer = newConsumer({ groupId: 'concurrent' });
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const active = new Set<number>();
    let overlapped = false;
    await consumer.run({
      partitionsConsumedConcurrently: 2,
      eachMessage: async ({ partition }) => {
        active.add(partition);
        // Wait (bounded) for the other partition's handler: only concurrency lets it start.
        for (let i = 0; i < 40 && active.size < 2; i++) await new Promise((r) => setTimeout(r, 5));
        if (active.size === 2) overlapped = true;
        active.delete(partition);
      },
    });
    await waitFor(() => overlapped, 'both partitions in flight together');
  });
});

describe('handlers that are plain functions', () => {
  it('calls a plain eachMessage for every message in order, awaits a returned promise before the next, and moves past what it handled', async () => {
    const consumer = newConsumer();
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const seen: string[] = [];
    let slowDone = false;
    await consumer.run({
      autoCommit: false,
      eachMessage: ({ partition, message }) => {
        seen.push(`${partition}:${message.value}`);
        // One message answers with a promise: the next one must wait for it.
        if (partition === 0 && String(message.value) === '2') {
          return new Promise<void>((resolve) => {
            setTimeout(() => {
              slowDone = true;
              resolve();
            }, 30);
          });
        }
        if (partition === 0 && String(message.value) === '4') expect(slowDone).toBe(true);
      },
    });
    await waitFor(() => seen.length === 10, 'every message handled');
    expect(seen.filter((s) => s.startsWith('0:'))).toEqual(['0:0', '0:2', '0:4', '0:6', '0:8']);
    expect(seen.filter((s) => s.startsWith('1:'))).toEqual(['1:1', '1:3', '1:5', '1:7', '1:9']);
    await waitFor(() => consumer.lag().every((l) => l.offset === 5), 'both partitions moved past their 5 messages');
  });

  it('crashes on a plain handler that throws as on an async one that rejects', async () => {
    const consumer = newConsumer({ retry: { retries: 0 } });
    await consumer.connect();
    await consumer.subscribe({ topic: 't', fromBeginning: true });
    const crashes: Error[] = [];
    consumer.on('crash', (event: { payload: { error: Error } }) => crashes.push(event.payload.error));
    await consumer.run({
      eachBatch: () => {
        throw new Error('handler failed');
      },
    });
    await waitFor(() => crashes.length === 1, 'the crash');
    expect(crashes[0].message).toBe('handler failed');
  });
});

describe('msgpack values', () => {
  it('round-trips structured values and keeps null as a tombstone', () => {
    const value = { id: 7, tags: ['a', 'b'], nested: { ok: true } };
    expect(decodeValue(encodeValue(value))).toEqual(value);
    expect(decodeValue(null)).toBeNull();
    const serializer = msgpackSerializer<{ n: number }>();
    expect(serializer.deserialize(serializer.serialize({ n: 1 }))).toEqual({ n: 1 });
  });
});
