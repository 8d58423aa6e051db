/**
 * `Gregor.openCluster`: three brokers in this process over loopback TCP. kafkajs produces with
 * acks=all to a topic with replication factor 3 while the leader of its partition is killed (as a
 * crash), keeps producing to the new leader, and reads every acknowledged record back, once and in
 * order. Then the cluster's own clients, stop / restart of a node, and a reopen of the same dir
 * keeping the data.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GregorCluster } from '../../src/cluster.js';
import { Gregor } from '../../src/gregor.js';
import { killTestCluster, openTestCluster, TempDirs } from './support.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });

let cluster: GregorCluster | undefined;
const cleanups: (() => Promise<void>)[] = [];
const dirs = new TempDirs();

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => {})));
  await killTestCluster(cluster);
  cluster = undefined;
  await dirs.removeAll();
});

function kafkaOf(running: GregorCluster): Kafka {
  // kafkajs gives up after 5 retries (about 3 s) by default; a failover takes the session timeout (2 s) and an election.
  return new Kafka({ clientId: 'open-cluster-test', brokers: running.bootstrapBrokers, logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
}

async function leaderOf(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [partition] = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0].partitions;
    return partition.leader;
  } finally {
    await admin.disconnect();
  }
}

async function readAll(kafka: Kafka, topic: string, count: number): Promise<string[]> {
  const consumer = kafka.consumer({ groupId: `read-${topic}-${count}`, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
  cleanups.push(() => consumer.disconnect());
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const values: string[] = [];
  await new Promise<void>((resolve, reject) => {
    consumer
      .run({
        eachMessage: async ({ message }) => {
          values.push(String(message.value));
          if (values.length >= count) resolve();
        },
      })
      .catch(reject);
  });
  await consumer.disconnect();
  return values;
}

describe('Gregor.openCluster', () => {
  it('keeps every record kafkajs produced with acks=all while the leader of its partition is killed, and reads them back in order', async () => {
    cluster = await openTestCluster({ nodes: 3 });
    const running = cluster;
    expect(running.nodeIds).toEqual([1, 2, 3]);
    expect(running.bootstrapBrokers).toHaveLength(3);
    const kafka = kafkaOf(running);
    const admin = kafka.admin();
    cleanups.push(() => admin.disconnect());
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    const sent: string[] = [];
    const send = async (from: number, to: number) => {
      for (let n = from; n < to; n += 10) {
        const values = Array.from({ length: 10 }, (_, i) => `order-${n + i}`);
        await producer.send({ topic: 'orders', acks: -1, messages: values.map((value) => ({ value })) });
        sent.push(...values);
      }
    };
    await send(0, 200);

    const leader = await leaderOf(kafka, 'orders');
    await running.kill(leader);
    expect(running.runningNodeIds).not.toContain(leader);
    // The producer's next sends fail over to the new leader (chosen from the ISR once the old one is fenced).
    await send(200, 400);
    expect(await leaderOf(kafkaOf(running), 'orders')).not.toBe(leader);

    const values = await readAll(kafkaOf(running), 'orders', sent.length);
    expect(values).toEqual(sent);

    // The killed node comes back on its data dir and ports, and catches up.
    await running.restart(leader);
    expect(running.runningNodeIds).toContain(leader);
    await vi.waitFor(async () => {
      const [partition] = (await admin.fetchTopicMetadata({ topics: ['orders'] })).topics[0].partitions;
      expect([...partition.isr].sort()).toEqual([1, 2, 3]);
    }, { timeout: 30_000, interval: 100 });
  });

  it("hands out Gregor's clients over TCP, stops and restarts a node, and keeps the data when the dir is opened again", async () => {
    const dir = await dirs.create('gregor-cluster-reopen-');
    cluster = await Gregor.openCluster({ nodes: 3, dir });
    const first = cluster;
    const producer = first.producer({ idempotent: true, acks: -1 });
    await producer.connect();
    await producer.send({ topic: 'kept', messages: [{ value: 'one' }, { value: 'two' }] });
    // A graceful stop moves the node's leaderships away first; the others keep serving.
    await first.stop(2);
    await producer.send({ topic: 'kept', messages: [{ value: 'three' }] });
    await first.restart(2);
    expect(first.node(2).broker).not.toBeNull();
    expect(() => first.node(4)).toThrow(expect.objectContaining({ code: 'UNKNOWN_NODE' }));
    await first.close();
    cluster = undefined;
    expect(first.closed).toBe(true);
    expect(() => first.producer()).toThrow(expect.objectContaining({ code: 'BROKER_CLOSED' }));

    await expect(Gregor.openCluster({ nodes: 2, dir })).rejects.toMatchObject({ code: 'INCONSISTENT_CLUSTER' });
    cluster = await Gregor.openCluster({ dir });
    const again = cluster;
    expect(again.nodeIds).toEqual([1, 2, 3]);
    // The partition has a leader again once a replica of its last ISR has registered (a node's image may lag a moment).
    await vi.waitFor(async () => {
      const admin = again.admin();
      try {
        expect((await admin.fetchTopicOffsets('kept')).map((offset) => Number(offset.high))).toEqual([3]);
      } finally {
        await admin.disconnect();
      }
    }, { timeout: 20_000, interval: 100 });
    const consumer = again.consumer({ groupId: 'reader' });
    await consumer.connect();
    await consumer.subscribe({ topic: 'kept', fromBeginning: true });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({ eachMessage: async ({ message }) => {
        values.push(String(message.value));
        if (values.length === 3) resolve();
      } }).catch(reject);
    });
    expect(values).toEqual(['one', 'two', 'three']);
    await again.close();
    cluster = undefined;
  });
});
