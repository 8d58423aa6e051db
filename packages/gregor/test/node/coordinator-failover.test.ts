/**
 * A group coordinator failing over on three in-process nodes, seen by kafkajs: the group's
 * `__consumer_offsets` partition holds hundreds of commit batches, its leader is killed, and the
 * new leader loads them in chunks (`offsets.load.buffer.size` of 1 byte: one batch per chunk),
 * answering COORDINATOR_LOAD_IN_PROGRESS meanwhile. kafkajs retries, and the group goes on from
 * its committed offset: nothing read twice, nothing skipped.
 */
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GregorCluster } from '../../src/cluster.js';
import { killTestCluster, openTestCluster } from './support.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 30_000 });

let cluster: GregorCluster | undefined;
const cleanups: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((cleanup) => cleanup().catch(() => {})));
  await killTestCluster(cluster);
  cluster = undefined;
});

const GROUP = 'loaders';
const TOPIC = 'events';
/** At least 1 ms per chunk of one batch: the load takes longer than kafkajs's longest retry backoff (500 ms here). */
const COMMITS = 1000;

describe('a group coordinator failover', () => {
  it('loads the group from __consumer_offsets in chunks while kafkajs retries COORDINATOR_LOAD_IN_PROGRESS, and the group resumes at its committed offset', async () => {
    cluster = await openTestCluster({ nodes: 3, config: { offsetsLoadBufferSize: 1 } });
    const running = cluster;
    const seen: string[] = [];
    const kafka = new Kafka({
      clientId: 'coordinator-failover', brokers: running.bootstrapBrokers, logLevel: logLevel.DEBUG,
      logCreator: () => ({ log }) => {
        // kafkajs calls the error GROUP_LOAD_IN_PROGRESS (code 14, retriable).
        if (JSON.stringify(log).includes('is loading')) seen.push(log.message);
      },
      retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 },
    });
    const admin = kafka.admin();
    cleanups.push(() => admin.disconnect());
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ value: `event-${i}` })) });

    // Hundreds of commits, each its own batch in the group's __consumer_offsets partition; the last says 10.
    // (Gregor's admin commits directly; kafkajs's setOffsets joins the group first.)
    const committer = running.admin();
    await committer.connect();
    cleanups.push(() => committer.disconnect());
    for (let n = 0; n < COMMITS; n += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, i) => committer.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 0, offset: (n + i) % 10 }] })));
    }
    await committer.setOffsets({ groupId: GROUP, topic: TOPIC, partitions: [{ partition: 0, offset: 10 }] });

    const someNode = running.node(running.nodeIds[0]);
    const partition = (someNode.broker as unknown as { offsetsPartitionFor(groupId: string): number }).offsetsPartitionFor(GROUP);
    const coordinatorId = someNode.image.partition('__consumer_offsets', partition)?.leader as number;
    expect(running.nodeIds).toContain(coordinatorId);
    await running.kill(coordinatorId);

    // Watch the new leader's coordinator: it loads the partition before it serves the group.
    const loadingSeen = new Set<number>();
    const watch = setInterval(() => {
      for (const id of running.runningNodeIds) {
        const coordinator = (running.node(id).broker as unknown as { coordinator: { isLoadingPartition(p: number): boolean } }).coordinator;
        if (coordinator.isLoadingPartition(partition)) loadingSeen.add(id);
      }
    }, 2);
    cleanups.push(async () => clearInterval(watch));

    const consumer = kafka.consumer({ groupId: GROUP, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
    cleanups.push(() => consumer.disconnect());
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC });
    const values: string[] = [];
    await new Promise<void>((resolve, reject) => {
      consumer.run({
        eachMessage: async ({ message }) => {
          values.push(String(message.value));
          if (values.length === 10) resolve();
        },
      }).catch(reject);
    });
    clearInterval(watch);
    // From the committed offset 10 on: the new coordinator had loaded every commit.
    expect(values).toEqual(Array.from({ length: 10 }, (_, i) => `event-${10 + i}`));
    expect(loadingSeen.size).toBe(1);
    expect([...loadingSeen][0]).not.toBe(coordinatorId);
    // kafkajs asked while the load went on, was told to retry, and did.
    expect(seen.length).toBeGreaterThan(0);
  });
});
