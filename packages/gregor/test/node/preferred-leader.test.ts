/**
 * Preferred leaders on three in-process nodes: when a node that is the preferred (first) replica
 * of partitions comes back after a crash, it catches up, rejoins their ISRs and leads them again:
 * by itself within `leader.imbalance.check.interval.seconds` (`auto.leader.rebalance.enable`), or
 * at once with the admin's ElectLeaders (PREFERRED) when the automatic balance is off.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { GregorCluster } from '../../src/cluster.js';
import { killTestCluster, openTestCluster } from './support.js';

vi.setConfig({ testTimeout: 90_000, hookTimeout: 30_000 });

let cluster: GregorCluster | undefined;

afterEach(async () => {
  await killTestCluster(cluster);
  cluster = undefined;
});

const TOPIC = 'balanced';

/** Each partition's preferred replica and leader, as node `id`'s image has them. */
function leadership(running: GregorCluster, id: number): { partition: number; preferred: number; leader: number; isr: readonly number[] }[] {
  const topic = running.node(id).image.topic(TOPIC);
  return [...(topic?.partitions ?? new Map()).entries()].map(([partition, registration]) => ({ partition, preferred: registration.replicas[0], leader: registration.leader, isr: registration.isr }));
}

/** Creates the topic, kills `victim` (the preferred leader of some partitions) and restarts it once the others lead its partitions; resolves once it is back in every ISR. */
async function crashAndReturn(running: GregorCluster, victim: number): Promise<void> {
  const admin = running.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
  await admin.disconnect();
  const observer = running.nodeIds.find((id) => id !== victim) as number;
  await vi.waitFor(() => expect(leadership(running, observer).filter((p) => p.leader === victim && p.preferred === victim).length).toBeGreaterThan(0), { timeout: 10_000, interval: 50 });
  await running.kill(victim);
  await vi.waitFor(() => expect(leadership(running, observer).every((p) => p.leader !== victim && p.leader >= 0)).toBe(true), { timeout: 20_000, interval: 50 });
  await running.restart(victim);
  await vi.waitFor(() => expect(leadership(running, observer).every((p) => p.isr.includes(victim))).toBe(true), { timeout: 30_000, interval: 50 });
}

describe('preferred leader election', () => {
  it('gives a returning node its preferred partitions back within leader.imbalance.check.interval.seconds', async () => {
    cluster = await openTestCluster({ nodes: 3, config: { leaderImbalanceCheckIntervalSeconds: 1 } });
    const running = cluster;
    await crashAndReturn(running, 2);
    const returned = Date.now();
    await vi.waitFor(() => expect(leadership(running, 1).every((p) => p.leader === p.preferred)).toBe(true), { timeout: 20_000, interval: 50 });
    // Generous: one check interval (1 s) after the node rejoined the ISRs, on a loaded machine.
    expect(Date.now() - returned).toBeLessThan(15_000);
    expect(leadership(running, 1).filter((p) => p.preferred === 2).every((p) => p.leader === 2)).toBe(true);
  });

  it('moves leadership back on ElectLeaders (PREFERRED) when the automatic balance is off, and says when no election is needed', async () => {
    cluster = await openTestCluster({ nodes: 3, config: { autoLeaderRebalanceEnable: false } });
    const running = cluster;
    await crashAndReturn(running, 3);
    const away = leadership(running, 1).filter((p) => p.preferred === 3);
    expect(away.length).toBeGreaterThan(0);
    expect(away.every((p) => p.leader !== 3)).toBe(true);

    const admin = running.admin();
    await admin.connect();
    const results = await admin.electLeaders({ topicPartitions: [{ topic: TOPIC, partitions: [0, 1, 2] }] });
    expect(results.filter((result) => result.error === null).map((result) => result.partition).sort()).toEqual(away.map((p) => p.partition).sort());
    for (const result of results.filter((r) => r.error !== null)) expect(result.error).toMatchObject({ type: 'ELECTION_NOT_NEEDED' });
    // Answered once the broker's image shows the new leaders: the metadata a client sees next has them.
    const [topic] = (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics;
    for (const partition of topic.partitions) expect(partition.leader).toBe(partition.replicas[0]);
    // Everything balanced: an election over all partitions lists none of this topic's.
    const again = await admin.electLeaders();
    expect(again.filter((result) => result.topic === TOPIC)).toEqual([]);
    await expect(admin.electLeaders({ topicPartitions: [{ topic: 'missing', partitions: [0] }] })).resolves.toMatchObject([{ error: { type: 'UNKNOWN_TOPIC_OR_PARTITION' } }]);
    await admin.disconnect();
  });
});
