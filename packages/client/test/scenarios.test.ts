/**
 * The group and idempotence scenarios, run over both transports: in-process (broker.handle) and
 * TCP loopback through @gregor/server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import { createClient } from '../src/client.js';
import type { Consumer, ConsumerOptions, KafkaMessage } from '../src/consumer.js';
import type { Transport } from '../src/transport.js';
import { type Harness, InProcessHarness, TcpHarness } from './harness.js';
import { FaultyTransport, waitFor } from './helpers.js';

describe.each([
  ['in-process', () => new InProcessHarness()],
  ['tcp', () => new TcpHarness()],
] as const)('over %s', (_name, makeHarness) => {
  let harness: Harness;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeEach(async () => {
    harness = makeHarness();
    await harness.start();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await harness.close();
  });

  const clientOver = (transport: Transport = harness.transport()) => createClient({ transport });

  async function createTopic(topic: string, numPartitions: number) {
    const admin = clientOver().admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions }] });
  }

  function member(groupId: string, topic: string, options: Partial<ConsumerOptions> = {}, transport?: Transport) {
    const received: { partition: number; message: KafkaMessage }[] = [];
    const consumer = clientOver(transport).consumer({ groupId, maxWaitTimeInMs: 50, heartbeatInterval: 50, sessionTimeout: 600, rebalanceTimeout: 2000, retry: { retries: 3, initialRetryTimeMs: 20 }, ...options });
    cleanups.push(() => consumer.disconnect());
    let joins = 0;
    consumer.on('group.join', () => joins++);
    const start = async () => {
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({ autoCommitIntervalMs: 20, eachMessage: async ({ partition, message }) => void received.push({ partition, message }) });
      await waitFor(() => joins > 0, `${groupId} member joined`);
    };
    return { consumer, received, start };
  }

  const partitionsOf = (consumers: Consumer[]) => consumers.map((c) => c.assignment().map((a) => a.partition));
  const coversAll = (consumers: Consumer[], n: number) => {
    const all = partitionsOf(consumers).flat().sort((a, b) => a - b);
    return all.length === n && all.every((p, i) => p === i);
  };

  it('gives three consumers of one group disjoint partition sets that cover all ten', async () => {
    await createTopic('t10', 10);
    const members = [0, 1, 2].map(() => member('g', 't10'));
    for (const m of members) await m.start();
    const consumers = members.map((m) => m.consumer);
    await waitFor(() => coversAll(consumers, 10) && partitionsOf(consumers).every((p) => p.length >= 3), 'a balanced full assignment');
  });

  it('reassigns the partitions of a consumer that leaves the group', async () => {
    await createTopic('t10', 10);
    const members = [0, 1, 2].map(() => member('g', 't10'));
    for (const m of members) await m.start();
    const consumers = members.map((m) => m.consumer);
    await waitFor(() => coversAll(consumers, 10) && partitionsOf(consumers).every((p) => p.length >= 3), 'three members assigned');
    await consumers[2].disconnect();
    await waitFor(() => coversAll(consumers.slice(0, 2), 10), 'the two remaining members to cover all');
  });

  it('removes a consumer that stops heartbeating once its session times out', async () => {
    await createTopic('t10', 10);
    const cut = new FaultyTransport(harness.transport());
    const members = [member('g', 't10'), member('g', 't10'), member('g', 't10', {}, cut)];
    for (const m of members) await m.start();
    const consumers = members.map((m) => m.consumer);
    await waitFor(() => coversAll(consumers, 10) && partitionsOf(consumers).every((p) => p.length >= 3), 'three members assigned');
    cut.partitioned = true;
    await waitFor(() => coversAll(consumers.slice(0, 2), 10), 'the two live members to take over after the session timeout');
  });

  it('shares partitions with cooperative-sticky, moving only what balance needs', async () => {
    await createTopic('t10', 10);
    const options = { partitionAssigners: ['cooperative-sticky'] };
    const a = member('coop', 't10', options);
    const seenByA: number[][] = [];
    a.consumer.on('group.join', (e: { payload: { memberAssignment: Record<string, number[]> } }) => seenByA.push(e.payload.memberAssignment.t10 ?? []));
    await a.start();
    await waitFor(() => a.consumer.assignment().length === 10, 'the first member to own all');
    const b = member('coop', 't10', options);
    await b.start();
    const consumers = [a.consumer, b.consumer];
    await waitFor(() => coversAll(consumers, 10) && partitionsOf(consumers).every((p) => p.length === 5), 'an even split');
    // KIP-429: the partitions A keeps were never revoked from it on the way.
    const kept = a.consumer.assignment().map((x) => x.partition);
    for (const assignment of seenByA) for (const p of kept) expect(assignment).toContain(p);
  });

  it('resumes from offsets committed before the broker closed and reopened on the same directory', async () => {
    await createTopic('resume', 2);
    const producer = clientOver().producer({ lingerMs: 1 });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    await producer.send({ topic: 'resume', messages: Array.from({ length: 20 }, (_, i) => ({ key: `k${i}`, value: `first-${i}` })) });
    const first = member('resume-group', 'resume');
    await first.start();
    await waitFor(() => first.received.length === 20, '20 records');
    await first.consumer.disconnect();
    await producer.disconnect();
    await harness.restart();
    const producer2 = clientOver().producer({ lingerMs: 1 });
    cleanups.push(() => producer2.disconnect());
    await producer2.connect();
    await producer2.send({ topic: 'resume', messages: Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, value: `second-${i}` })) });
    const second = member('resume-group', 'resume');
    await second.start();
    await waitFor(() => second.received.length >= 6, 'the 6 new records');
    await new Promise((r) => setTimeout(r, 100));
    expect(second.received.map((r) => r.message.value!.toString()).sort()).toEqual(Array.from({ length: 6 }, (_, i) => `second-${i}`).sort());
  });

  async function highWatermark(topic: string): Promise<number> {
    const admin = clientOver().admin();
    await admin.connect();
    const [p] = await admin.fetchTopicOffsets(topic);
    return Number(p.high);
  }

  it('appends an idempotent batch once when its response is lost and it is retried', async () => {
    await createTopic('idem', 1);
    const faulty = new FaultyTransport(harness.transport());
    const producer = clientOver(faulty).producer({ idempotent: true, lingerMs: 0, retry: { initialRetryTimeMs: 20 } });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    faulty.dropNextResponse(Api.Produce);
    const [result] = await producer.send({ topic: 'idem', messages: [{ value: 'a' }, { value: 'b' }, { value: 'c' }] });
    expect(result.baseOffset).toBe('0');
    expect(await highWatermark('idem')).toBe(3);
    await producer.send({ topic: 'idem', messages: [{ value: 'd' }] });
    expect(await highWatermark('idem')).toBe(4);
  });

  it('appends an idempotent batch once when its response is lost and the broker restarts before the retry', async () => {
    await createTopic('idem', 1);
    const faulty = new FaultyTransport(harness.transport());
    const producer = clientOver(faulty).producer({ idempotent: true, lingerMs: 0, retry: { initialRetryTimeMs: 50 } });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    await producer.send({ topic: 'idem', messages: [{ value: 'warm-up' }] });
    faulty.dropNextResponse(Api.Produce, () => harness.restart());
    const [result] = await producer.send({ topic: 'idem', messages: [{ value: 'a' }, { value: 'b' }] });
    expect(result.baseOffset).toBe('1');
    expect(await highWatermark('idem')).toBe(3);
  });
});
