/**
 * A network partition between brokers, over real TCP: three `gregor serve --config` processes
 * whose inter-broker listener (REPLICATION) each sits behind a TCP proxy in this process, advertised
 * as the broker's REPLICATION endpoint, so every replica fetch crosses a proxy. A proxy knows which
 * node a connection comes from by the client id of its first request (`gregor-node-<id>`) and can
 * cut one node off: it closes that node's connections and refuses new ones, while the node's
 * controller channel (heartbeats) stays up, so the node is not fenced, only partitioned from the
 * leader.
 *
 * With replica.lag.time.max.ms small and min.insync.replicas 2: one follower cut off, the leader
 * shrinks the ISR to two once the follower lags (as in Kafka, a follower that holds the whole log
 * stays in sync: the produce makes it lag) and acks=all produces succeed; the second follower cut
 * off and made to lag by an acks=1 record, the ISR is the leader alone and acks=all produces get
 * NOT_ENOUGH_REPLICAS (nothing appended); healed, both followers catch
 * up and rejoin the ISR; then kcat reads every acknowledged record from the cluster, once, in order.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Client, type Producer } from '@gregor/client';
import { type PartitionStatus, statusFromBroker } from '../../src/cli/cluster/status.js';
import { ensureBuilt } from '../support/cli.js';
import { NodeProcesses } from '../support/node-processes.js';
import { freePorts } from './support.js';

vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000 });

const run = promisify(execFile);
const TOPIC = 'partitioned';

/**
 * A TCP proxy in front of one broker's REPLICATION listener. Each connection is identified by the
 * client id in its first request's header; `cut(nodeId)` closes that node's connections and
 * refuses its new ones until `heal(nodeId)`.
 */
class ReplicationProxy {
  private readonly server: net.Server;
  private readonly cutOff = new Set<number>();
  /** The nodes whose connections came through this proxy. */
  readonly seen = new Set<number>();
  private readonly sockets = new Map<net.Socket, { from: number | null; upstream: net.Socket | null }>();
  private upstreamPort = 0;

  private constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(): Promise<ReplicationProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    return new ReplicationProxy(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Where the broker's REPLICATION listener really is. */
  forwardTo(port: number): void {
    this.upstreamPort = port;
  }

  cut(nodeId: number): void {
    this.cutOff.add(nodeId);
    for (const [socket, state] of this.sockets) if (state.from === nodeId) this.drop(socket);
  }

  heal(nodeId: number): void {
    this.cutOff.delete(nodeId);
  }

  private drop(socket: net.Socket): void {
    this.sockets.get(socket)?.upstream?.destroy();
    socket.destroy();
    this.sockets.delete(socket);
  }

  private accept(socket: net.Socket): void {
    const state: { from: number | null; upstream: net.Socket | null } = { from: null, upstream: null };
    this.sockets.set(socket, state);
    socket.on('error', () => this.drop(socket));
    socket.on('close', () => this.drop(socket));
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      head = Buffer.concat([head, chunk]);
      // Request header: size int32, apiKey int16, apiVersion int16, correlationId int32, clientId (int16 length, bytes).
      if (head.length < 14) return;
      const idLength = head.readInt16BE(12);
      if (head.length < 14 + Math.max(0, idLength)) return;
      socket.off('data', onData);
      const clientId = idLength < 0 ? '' : head.toString('utf8', 14, 14 + idLength);
      const match = /^gregor-node-(\d+)$/.exec(clientId);
      state.from = match ? Number(match[1]) : -1;
      this.seen.add(state.from);
      if (this.cutOff.has(state.from)) {
        this.drop(socket);
        return;
      }
      const upstream = net.connect({ host: '127.0.0.1', port: this.upstreamPort });
      state.upstream = upstream;
      upstream.on('error', () => this.drop(socket));
      upstream.on('close', () => this.drop(socket));
      upstream.write(head);
      socket.pipe(upstream);
      upstream.pipe(socket);
    };
    socket.on('data', onData);
  }

  async close(): Promise<void> {
    for (const socket of [...this.sockets.keys()]) this.drop(socket);
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

let cluster: NodeProcesses | undefined;
const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
  await cluster?.stopAll();
  cluster = undefined;
});

const SETTINGS = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '250',
  'broker.session.timeout.ms': '2000',
  'default.replication.factor': '3',
  'min.insync.replicas': '2',
  'offsets.topic.replication.factor': '3',
  'offsets.topic.num.partitions': '1',
  'auto.create.topics.enable': 'false',
  'replica.lag.time.max.ms': '1000',
  'replica.fetch.wait.max.ms': '100',
  'replica.fetch.backoff.ms': '100',
};

/** The partition as the brokers at `addresses` see it, once `accept` takes it. */
async function partitionWhen(addresses: string, accept: (partition: PartitionStatus) => boolean, what: string, timeoutMs = 20_000): Promise<PartitionStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const status = await statusFromBroker(addresses, 'test');
      const partition = status.partitions.find((p) => p.topic === TOPIC && p.partition === 0);
      if (partition !== undefined && accept(partition)) return partition;
      last = JSON.stringify(partition);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${TOPIC}-0: ${what} not seen in ${timeoutMs} ms; last: ${last}`);
}

/** The error's code, or its cause's (a producer without retries may wrap the broker's error). */
function codeOf(error: unknown): string | undefined {
  for (let e = error as { code?: string; cause?: unknown } | undefined; e !== undefined && e !== null; e = e.cause as typeof e) {
    if (e.code !== undefined && e.code !== 'RETRIES_EXHAUSTED') return e.code;
  }
  return undefined;
}

describe('a network partition between brokers over TCP', () => {
  it('shrinks the ISR of a cut-off follower, keeps acks=all working with two in sync, refuses it with NOT_ENOUGH_REPLICAS with one, and after healing the followers rejoin and kcat reads every acknowledged record', async () => {
    ensureBuilt();
    const ids = [1, 2, 3];
    const proxies = new Map<number, ReplicationProxy>();
    for (const id of ids) {
      const proxy = await ReplicationProxy.listen();
      proxies.set(id, proxy);
      cleanups.push(() => proxy.close());
    }
    cluster = await NodeProcesses.create(ids.map((nodeId) => ({ nodeId, roles: ['broker', 'controller'] })), SETTINGS);
    const replicationPorts = await freePorts(ids.length);
    for (const node of cluster.nodes) {
      // Add the REPLICATION listener, advertise it at the proxy, and make it the inter-broker listener.
      const port = replicationPorts[ids.indexOf(node.nodeId)] as number;
      const proxy = proxies.get(node.nodeId) as ReplicationProxy;
      proxy.forwardTo(port);
      const properties = fs
        .readFileSync(node.propertiesFile, 'utf8')
        .replace(/^listeners=PLAINTEXT:\/\/([^,\n]+),/m, `listeners=PLAINTEXT://$1,REPLICATION://127.0.0.1:${port},`)
        .replace(/^inter\.broker\.listener\.name=PLAINTEXT$/m, 'inter.broker.listener.name=REPLICATION');
      expect(properties).toContain(`REPLICATION://127.0.0.1:${port}`);
      fs.writeFileSync(node.propertiesFile, `${properties}advertised.listeners=REPLICATION://127.0.0.1:${proxy.port}\n`);
    }
    await cluster.startAll();
    const brokers = cluster.nodes.map((node) => node.clientAddress as string);
    const bootstrap = brokers.join(',');

    const client = new Client({ brokers, clientId: 'partition-test' });
    const admin = client.admin();
    await admin.connect();
    cleanups.push(() => admin.disconnect());
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }] });
    const start = await partitionWhen(bootstrap, (p) => p.leader > 0 && p.isr.length === 3, 'a leader and three in the ISR');
    const leader = start.leader;
    const [first, second] = start.replicas.filter((id) => id !== leader) as [number, number];
    const leaderProxy = proxies.get(leader) as ReplicationProxy;

    const producer: Producer = client.producer({ acks: -1, lingerMs: 0, retry: { retries: 20, initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
    await producer.connect();
    cleanups.push(() => producer.disconnect());
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
    expect([...leaderProxy.seen].sort()).toEqual([first, second].sort());

    // The first follower cut off from the leader. The next acks=all send waits until the leader has
    // shrunk the ISR (the follower lags for replica.lag.time.max.ms), then succeeds with two in sync.
    leaderProxy.cut(first);
    await produce('two-in-sync', 20);
    const shrunk = await partitionWhen(bootstrap, (p) => !p.isr.includes(first), `follower ${first} out of the ISR`);
    expect(shrunk.leader).toBe(leader);
    expect([...shrunk.isr].sort()).toEqual([leader, second].sort());

    // The second one cut off too, and made to lag by a record acknowledged with acks=1: the ISR is
    // the leader alone, below min.insync.replicas 2.
    leaderProxy.cut(second);
    const leaderOnly = client.producer({ acks: 1, lingerMs: 0, retry: { retries: 5 } });
    await leaderOnly.connect();
    cleanups.push(() => leaderOnly.disconnect());
    await leaderOnly.send({ topic: TOPIC, messages: [{ value: 'acks-1' }] });
    acknowledged.push('acks-1');
    const alone = await partitionWhen(bootstrap, (p) => p.isr.length === 1, 'the leader alone in the ISR');
    expect(alone.isr).toEqual([leader]);
    const strict = client.producer({ acks: -1, lingerMs: 0, retry: { retries: 0 } });
    await strict.connect();
    cleanups.push(() => strict.disconnect());
    const refused = await strict.send({ topic: TOPIC, messages: [{ value: 'refused' }] }).then(
      () => null,
      (error: unknown) => error,
    );
    expect(codeOf(refused), String(refused)).toBe('NOT_ENOUGH_REPLICAS');

    // Healed: both catch up and rejoin; acks=all works again.
    leaderProxy.heal(first);
    leaderProxy.heal(second);
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
