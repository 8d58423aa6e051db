/**
 * Producer ids in a cluster (issue 14): every broker takes blocks of ids from the active
 * controller (AllocateProducerIds, committed as a ProducerIds record before the answer), so
 * idempotent producers on different brokers never share an id: not across brokers, not after a
 * broker restarts (its unused block is abandoned, never handed out again), not after the active
 * controller changes (the new one continues from the committed next id).
 */
import { Client } from '@gregor/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GregorCluster } from '../../src/cluster.js';
import { killTestCluster, openTestCluster } from './support.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

let cluster: GregorCluster | undefined;
const disconnects: (() => Promise<void>)[] = [];

afterEach(async () => {
  await Promise.all(disconnects.splice(0).map((disconnect) => disconnect().catch(() => {})));
  await killTestCluster(cluster);
  cluster = undefined;
});

/** An idempotent producer of Gregor's client bootstrapped at one broker only: InitProducerId goes to that broker. */
async function producerIdFrom(address: string, topic: string): Promise<number> {
  const producer = new Client({ brokers: [address], clientId: 'producer-ids-test' }).producer({ idempotent: true, acks: -1, retry: { retries: 20, initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
  disconnects.push(() => producer.disconnect());
  await producer.connect();
  await producer.send({ topic, messages: [{ value: `from ${address}` }] });
  const { producerId, producerEpoch } = producer.producerIdentity;
  expect(producerEpoch).toBe(0);
  await producer.disconnect();
  return producerId;
}

describe('producer ids in a cluster of three nodes', () => {
  it('are distinct across brokers, after a broker restarts and after the active controller changes', async () => {
    cluster = await openTestCluster({ nodes: 3, config: { defaultReplicationFactor: 3 } });
    const admin = new Client({ brokers: cluster.bootstrapBrokers, clientId: 'producer-ids-admin' }).admin();
    disconnects.push(() => admin.disconnect());
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'ids', numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true });
    await admin.disconnect();

    const ids: { broker: number; when: string; producerId: number }[] = [];
    const fromEveryBroker = async (when: string, perBroker: number) => {
      for (const broker of (cluster as GregorCluster).nodeIds) {
        for (let n = 0; n < perBroker; n++) ids.push({ broker, when, producerId: await producerIdFrom((cluster as GregorCluster).address(broker), 'ids') });
      }
    };
    await fromEveryBroker('start', 2);
    // Each broker took its own block: the ids of two brokers are never in one block of 1000.
    const blockOf = (id: number) => Math.floor(id / 1000);
    const blocks = new Map<number, Set<number>>();
    for (const { broker, producerId } of ids) blocks.set(broker, (blocks.get(broker) ?? new Set()).add(blockOf(producerId)));
    expect(new Set([...blocks.values()].flatMap((set) => [...set])).size).toBe(3);

    // A broker that is not the active controller restarts: it asks for a new block.
    const active = await cluster.activeControllerId();
    const restarted = cluster.nodeIds.find((id) => id !== active) as number;
    await cluster.kill(restarted);
    await cluster.restart(restarted);
    await fromEveryBroker('after a broker restart', 1);

    // The active controller's node is killed: a new controller continues from the committed next id.
    const firstActive = await cluster.activeControllerId();
    await cluster.kill(firstActive);
    expect(await cluster.activeControllerId()).not.toBe(firstActive);
    await cluster.restart(firstActive);
    await fromEveryBroker('after the active controller changed', 1);

    const producerIds = ids.map((entry) => entry.producerId);
    expect(new Set(producerIds).size, JSON.stringify(ids)).toBe(producerIds.length);
    expect(ids.filter((entry) => entry.when !== 'start').map((entry) => entry.broker)).toEqual([1, 2, 3, 1, 2, 3]);
    // The records of all producers are stored, none taken for another's retry.
    const check = new Client({ brokers: cluster.bootstrapBrokers, clientId: 'producer-ids-check' }).admin();
    disconnects.push(() => check.disconnect());
    const offsets = await check.fetchTopicOffsets('ids');
    expect(offsets.map((offset) => Number(offset.high))).toEqual([ids.length]);
  });
});
