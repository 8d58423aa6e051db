/**
 * A network partition between brokers, over real TCP: three `gregor serve --config` processes
 * with every link behind a TCP proxy of this process (`processClusters` in support.ts); among them
 * each broker's inter-broker listener (REPLICATION), advertised at its proxy, so every replica
 * fetch crosses one. A proxy knows which node a connection comes from by the client id of its
 * first request (`gregor-node-<id>`) and can cut one node off: it closes that node's connections
 * and refuses new ones, while the node's controller links (heartbeats) stay up, so the node is not
 * fenced, only partitioned from the leader.
 *
 * With replica.lag.time.max.ms small and min.insync.replicas 2: one follower cut off, the leader
 * shrinks the ISR to two once the follower lags (as in Kafka, a follower that holds the whole log
 * stays in sync: the produce makes it lag) and acks=all produces succeed; the second follower cut
 * off and made to lag by an acks=1 record, the ISR is the leader alone and acks=all produces get
 * NOT_ENOUGH_REPLICAS (nothing appended); healed, both followers catch
 * up and rejoin the ISR; then kcat reads every acknowledged record from the cluster, once, in order.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it, vi } from 'vitest';
import { Client, type Producer } from '@gregor/client';
import { type ClusterProxies, type LinkProxy, partitionWhen as partitionStatusWhen, processClusters } from './support.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const run = promisify(execFile);
const TOPIC = 'partitioned';
const clusters = processClusters();

const SETTINGS = {
  'offsets.topic.num.partitions': '1',
  'replica.lag.time.max.ms': '1000',
  'replica.fetch.backoff.ms': '100',
};

const partitionWhen = (addresses: string, accept: Parameters<typeof partitionStatusWhen>[3], what: string) => partitionStatusWhen(addresses, TOPIC, 0, accept, what, 20_000);

/** The error's code, or its cause's (a producer without retries may wrap the broker's error). */
function codeOf(error: unknown): string | undefined {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (e.code !== undefined && e.code !== 'RETRIES_EXHAUSTED') return e.code;
  }
  return undefined;
}

describe('a network partition between brokers over TCP', () => {
  it('shrinks the ISR of a cut-off follower, keeps acks=all working with two in sync, refuses it with NOT_ENOUGH_REPLICAS with one, and after healing the followers rejoin and kcat reads every acknowledged record', async () => {
    const cluster = await clusters.start({ proxied: true, settings: SETTINGS });
    const proxies = (cluster.proxies as ClusterProxies).replication;
    const brokers = cluster.brokers;
    const bootstrap = cluster.bootstrap;

    const client = new Client({ brokers, clientId: 'partition-test' });
    const admin = client.admin();
    await admin.connect();
    clusters.defer(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }] });
    const start = await partitionWhen(bootstrap, (p) => p.leader > 0 && p.isr.length === 3, 'a leader and three in the ISR');
    const leader = start.leader;
    const [first, second] = start.replicas.filter((id) => id !== leader) as [number, number];
    const leaderProxy = proxies.get(leader) as LinkProxy;

    const producer: Producer = client.producer({ acks: -1, lingerMs: 0, retry: { retries: 20, initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
    await producer.connect();
    clusters.defer(() => producer.disconnect());
    const acknowledged: string[] = [];
    const produce = async (phase: string, count: number) => {
      for (let i = 0; i < count; i++) {
        const value = `${phase}-${String(i).padStart(3, '0')}`;
        await producer.send({ topic: TOPIC, messages: [{ value }] });
        acknowledged.push(value);
      }
    };
    await produce('three-in-sync', 20);
    // The followers' fetches cross the leader's proxy (else cutting there would prove nothing).
    expect([...leaderProxy.seen].sort()).toEqual([`node-${first}`, `node-${second}`].sort());

    // The first follower cut off from the leader. The next acks=all send waits until the leader has
    // shrunk the ISR (the follower lags for replica.lag.time.max.ms), then succeeds with two in sync.
    leaderProxy.cut(`node-${first}`);
    await produce('two-in-sync', 20);
    const shrunk = await partitionWhen(bootstrap, (p) => !p.isr.includes(first), `follower ${first} out of the ISR`);
    expect(shrunk.leader).toBe(leader);
    expect([...shrunk.isr].sort()).toEqual([leader, second].sort());

    // The second one cut off too, and made to lag by a record acknowledged with acks=1: the ISR is
    // the leader alone, below min.insync.replicas 2.
    leaderProxy.cut(`node-${second}`);
    const leaderOnly = client.producer({ acks: 1, lingerMs: 0, retry: { retries: 5 } });
    await leaderOnly.connect();
    clusters.defer(() => leaderOnly.disconnect());
    await leaderOnly.send({ topic: TOPIC, messages: [{ value: 'acks-1' }] });
    acknowledged.push('acks-1');
    const alone = await partitionWhen(bootstrap, (p) => p.isr.length === 1, 'the leader alone in the ISR');
    expect(alone.isr).toEqual([leader]);
    const strict = client.producer({ acks: -1, lingerMs: 0, retry: { retries: 0 } });
    await strict.connect();
    clusters.defer(() => strict.disconnect());
    const refused = await strict.send({ topic: TOPIC, messages: [{ value: 'refused' }] }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(codeOf(refused), String(refused)).toBe('NOT_ENOUGH_REPLICAS');

    // Healed: both catch up and rejoin; acks=all works again.
    leaderProxy.heal(`node-${first}`);
    leaderProxy.heal(`node-${second}`);
    const healed = await partitionWhen(bootstrap, (p) => p.isr.length === 3, 'both followers back in the ISR');
    expect(healed.leader).toBe(leader);
    await produce('healed', 20);

    // kcat reads every acknowledged record from the cluster, once, in order; the refused one is not there.
    const { stdout } = await run('kcat', ['-C', '-b', bootstrap, '-t', TOPIC, '-e', '-q', '-f', '%s\n'], { timeout: 30_000 });
    const read = stdout.split('\n').filter((line) => line !== '');
    expect(read).toEqual(acknowledged);
    expect(acknowledged).toHaveLength(61);
  });
});
