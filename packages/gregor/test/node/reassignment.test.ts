/**
 * Partition reassignment end to end (KIP-455), with kafkajs's admin against three in-process
 * nodes (real quorum, QuorumController, brokers over TCP): a partition on brokers [1,2] with
 * acknowledged records is moved to [2,3]; broker 3 joins as a follower, copies the log, enters the
 * ISR, and the move completes: broker 1 is dropped (its copy deleted), leadership leaves it, and
 * ListPartitionReassignments is empty. Then the errors kafkajs users see, and Gregor's own admin.
 */
import { Client } from '@gregor/client';
import { ErrorCode } from '@gregor/protocol';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GregorCluster } from '../../src/cluster.js';
import { killTestCluster, openTestCluster, waitFor } from './support.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const TOPIC = 'moving';
let cluster: GregorCluster | undefined;
const disconnects: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(disconnects.splice(0).map((disconnect) => disconnect().catch(() => {})));
  await killTestCluster(cluster);
  cluster = undefined;
});

interface LocalReplica {
  logEndOffset: number;
  highWatermark: number;
}

/** Node `id`'s own copy of the partition (undefined: it has none). */
function localReplica(running: GregorCluster, id: number): LocalReplica | undefined {
  const broker = running.node(id).broker as unknown as { replicaManager: { partition(topic: string, index: number): LocalReplica | undefined } | null };
  return broker.replicaManager?.partition(TOPIC, 0);
}

describe('partition reassignment in a cluster of three nodes', () => {
  it('moves a partition from brokers [1,2] to [2,3] with kafkajs: the records reach broker 3, broker 1 is dropped, nothing is left in progress', async () => {
    cluster = await openTestCluster({ nodes: 3 });
    const running = cluster;
    const kafka = new Kafka({ clientId: 'reassignment-test', brokers: running.bootstrapBrokers, logLevel: logLevel.NOTHING, retry: { retries: 20, initialRetryTime: 50, maxRetryTime: 500 } });
    const admin = kafka.admin();
    disconnects.push(() => admin.disconnect());
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: TOPIC, replicaAssignment: [{ partition: 0, replicas: [1, 2] }] }], waitForLeaders: true });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    disconnects.push(() => producer.disconnect());
    await producer.connect();
    for (let n = 0; n < 5; n++) {
      await producer.send({ topic: TOPIC, acks: -1, messages: Array.from({ length: 20 }, (_, i) => ({ value: `record-${n * 20 + i}` })) });
    }
    expect(localReplica(running, 3)).toBeUndefined();

    await admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [2, 3] }] }] });
    // The move completes on its own once broker 3 has caught up and joined the ISR.
    const done = async () => (await admin.listPartitionReassignments({})).topics.length === 0;
    const deadline = Date.now() + 20_000;
    while (!(await done())) {
      if (Date.now() > deadline) throw new Error(`still in progress: ${JSON.stringify(await admin.listPartitionReassignments({}))}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    // Every broker's image follows the controller's (the one kafkajs asks may be a moment behind).
    await vi.waitFor(async () => {
      const [partition] = (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics[0].partitions;
      expect(partition.replicas).toEqual([2, 3]);
      expect([...partition.isr].sort()).toEqual([2, 3]);
      expect(partition.leader).toBe(2);
    }, { timeout: 10_000, interval: 50 });

    // Broker 3 holds every acknowledged record; broker 1 deleted its copy.
    await waitFor('broker 3 caught up', () => localReplica(running, 3)?.highWatermark === 100);
    expect(localReplica(running, 3)?.logEndOffset).toBe(100);
    await waitFor('broker 1 dropped its copy', () => localReplica(running, 1) === undefined);
    // The producer follows the partition to its new leader.
    await producer.send({ topic: TOPIC, acks: -1, messages: [{ value: 'after the move' }] });
    await waitFor('the new record on broker 3', () => localReplica(running, 3)?.highWatermark === 101);
    const offsets = await admin.fetchTopicOffsets(TOPIC);
    expect(offsets.map((offset) => Number(offset.high))).toEqual([101]);
    expect((await admin.listPartitionReassignments({ topics: [{ topic: TOPIC, partitions: [0] }] })).topics).toEqual([]);

    // Kafka's errors, through kafkajs: a broker that does not exist, a partition that does not exist.
    await expect(admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [2, 9] }] }] }))
      .rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'INVALID_REPLICA_ASSIGNMENT' })] });
    await expect(admin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 4, replicas: [2, 3] }] }] }))
      .rejects.toMatchObject({ errors: [expect.objectContaining({ type: 'UNKNOWN_TOPIC_OR_PARTITION' })] });

    // Gregor's admin, with kafkajs's shapes; a cancel (null replicas) with nothing in progress.
    const gregorAdmin = new Client({ brokers: running.bootstrapBrokers, clientId: 'reassignment-gregor' }).admin();
    disconnects.push(() => gregorAdmin.disconnect());
    await gregorAdmin.connect();
    expect(await gregorAdmin.listPartitionReassignments()).toEqual({ topics: [] });
    await expect(gregorAdmin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: null }] }] }))
      .rejects.toMatchObject({ errorCode: ErrorCode.NO_REASSIGNMENT_IN_PROGRESS });
    // And back to [1,2] with Gregor's admin.
    await gregorAdmin.alterPartitionReassignments({ topics: [{ topic: TOPIC, partitionAssignment: [{ partition: 0, replicas: [1, 2] }] }] });
    await waitFor('broker 1 caught up again', () => localReplica(running, 1)?.highWatermark === 101);
    await vi.waitFor(async () => expect((await gregorAdmin.listPartitionReassignments()).topics).toEqual([]), { timeout: 20_000, interval: 50 });
    await waitFor('broker 3 dropped its copy', () => localReplica(running, 3) === undefined);
  });
});
