/**
 * Test support for nodes: free loopback ports from the OS, temporary data dirs removed after the
 * test, waiting on a condition with a generous bound, and the one way the multi-process tests start
 * a cluster of `gregor serve` processes (`processClusters`), with TCP proxies on every link when a
 * test cuts links (`LinkProxy`).
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { type PartitionStatus, statusFromBroker } from '../../src/cli/cluster/status.js';
import { ensureBuilt } from '../support/cli.js';
import { NodeProcesses } from '../support/node-processes.js';
import { stderrLogger } from '@gregor/server';
import type { GregorCluster, GregorClusterOptions } from '../../src/cluster.js';
import { CLUSTER_PORT_RANGE, freeLoopbackPorts, type PortRange } from '../../src/node/free-ports.js';
import { Gregor } from '../../src/gregor.js';

/**
 * Free loopback ports below the OS's ephemeral range, released at once so a node can bind them (the
 * voters must be known before the nodes start). Each vitest worker picks from its own slice of
 * TEST_PORT_RANGE, so two test files running at once never pick the same port between its release
 * and the node's bind; the range lies below CLUSTER_PORT_RANGE, where `Gregor.openCluster` and
 * `gregor cluster start` pick theirs in the tests that run them.
 */
export function freePorts(count: number): Promise<number[]> {
  return freeLoopbackPorts('127.0.0.1', count, workerPortRange(Number(process.env.VITEST_POOL_ID ?? '1')));
}

const TEST_PORT_RANGE: PortRange = { low: 10_000, high: CLUSTER_PORT_RANGE.low };
const PORT_SLICES = 8;

export function workerPortRange(poolId: number): PortRange {
  const size = Math.floor((TEST_PORT_RANGE.high - TEST_PORT_RANGE.low) / PORT_SLICES);
  const low = TEST_PORT_RANGE.low + ((Math.max(1, poolId) - 1) % PORT_SLICES) * size;
  return { low, high: low + size };
}

export class TempDirs {
  private readonly dirs: string[] = [];

  async create(prefix = 'gregor-node-'): Promise<string> {
    const dir = await mkdtemp(path.join(tmpdir(), prefix));
    this.dirs.push(dir);
    return dir;
  }

  async removeAll(): Promise<void> {
    await Promise.all(this.dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  }
}

/** Resolves once `condition()` holds, polling every 20 ms; fails after `timeoutMs` naming `what`. */
export async function waitFor(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Settings that make a failure noticed within seconds (Kafka's defaults are tuned for big
 * clusters): the multi-process tests' common base, each adding what it tests.
 */
export const FAST_FAILOVER: Readonly<Record<string, string>> = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '250',
  'broker.session.timeout.ms': '2000',
  'default.replication.factor': '3',
  'min.insync.replicas': '2',
  'offsets.topic.replication.factor': '3',
  'group.initial.rebalance.delay.ms': '0',
  'auto.create.topics.enable': 'false',
  'replica.fetch.wait.max.ms': '100',
};

/**
 * One way to run a cluster of `gregor serve` processes in a test file: `start()` writes the nodes'
 * properties files (FAST_FAILOVER plus `settings`), optionally routes every link through
 * `LinkProxy`s, starts the processes and waits for them; `defer()` registers a cleanup. After each
 * test the cleanups run (last first), then every process still running is ended by its pid (a
 * stopped one is continued first), whatever happened.
 */
export function processClusters(): {
  start(options?: { nodes?: number; settings?: Readonly<Record<string, string>>; proxied?: boolean }): Promise<ProcessCluster>;
  defer(cleanup: () => Promise<unknown>): void;
} {
  let current: NodeProcesses | undefined;
  const cleanups: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
    await current?.stopAll();
    current = undefined;
  });
  return {
    async start(options = {}) {
      ensureBuilt();
      const ids = Array.from({ length: options.nodes ?? 3 }, (_, index) => index + 1);
      const processes = await NodeProcesses.create(ids.map((nodeId) => ({ nodeId, roles: ['broker', 'controller'] })), { ...FAST_FAILOVER, ...options.settings });
      current = processes;
      const proxies = options.proxied === true ? await proxyEveryLink(processes) : null;
      if (proxies !== null) cleanups.push(() => Promise.all(proxies.all().map((proxy) => proxy.close())));
      await processes.startAll();
      const direct = processes.nodes.map((node) => node.clientAddress as string);
      const brokers = proxies === null ? direct : processes.nodes.map((node) => `127.0.0.1:${proxies.client.get(node.nodeId)?.port}`);
      return { processes, brokers, bootstrap: brokers.join(','), direct, proxies };
    },
    defer(cleanup) {
      cleanups.push(cleanup);
    },
  };
}

export interface ProcessCluster {
  processes: NodeProcesses;
  /** The client listeners as clients reach them (through the proxies when proxied). */
  brokers: string[];
  bootstrap: string;
  /** The client listeners themselves (for the test's own status queries, which no fault cuts). */
  direct: string[];
  proxies: ClusterProxies | null;
}

/** One proxy per node and kind of link, keyed by the node it stands in front of. */
export interface ClusterProxies {
  /** In front of each node's client listener (PLAINTEXT): what clients bootstrap from and Metadata advertises. */
  client: Map<number, LinkProxy>;
  /** In front of each node's inter-broker listener (REPLICATION): the replica fetchers of the other brokers. */
  replication: Map<number, LinkProxy>;
  /** In front of each voter's CONTROLLER listener (what controller.quorum.voters names): raft, registrations, heartbeats, AlterPartition. */
  controller: Map<number, LinkProxy>;
  all(): LinkProxy[];
}

/**
 * Rewrites every node's properties so that each of its links crosses a proxy of this process: the
 * client listener is advertised at a proxy, a REPLICATION listener (the inter-broker one) is added
 * and advertised at a proxy, and controller.quorum.voters names proxies in front of the CONTROLLER
 * listeners (which bind their own ports).
 */
async function proxyEveryLink(processes: NodeProcesses): Promise<ClusterProxies> {
  const ids = processes.nodes.map((node) => node.nodeId);
  const make = async () => new Map(await Promise.all(ids.map(async (id) => [id, await LinkProxy.listen()] as const)));
  const proxies = { client: await make(), replication: await make(), controller: await make() };
  const replicationPorts = await freePorts(ids.length);
  const voters = ids.map((id) => `${id}@127.0.0.1:${proxies.controller.get(id)?.port}`).join(',');
  for (const node of processes.nodes) {
    const at = (map: Map<number, LinkProxy>) => map.get(node.nodeId) as LinkProxy;
    const replicationPort = replicationPorts[ids.indexOf(node.nodeId)] as number;
    const clientPort = Number(node.clientAddress?.split(':')[1]);
    const controllerPort = Number(node.controllerAddress?.split(':')[1]);
    at(proxies.client).forwardTo(clientPort);
    at(proxies.replication).forwardTo(replicationPort);
    at(proxies.controller).forwardTo(controllerPort);
    const properties = fs
      .readFileSync(node.propertiesFile, 'utf8')
      .replace(/^listeners=.*$/m, `listeners=PLAINTEXT://127.0.0.1:${clientPort},REPLICATION://127.0.0.1:${replicationPort},CONTROLLER://127.0.0.1:${controllerPort}`)
      .replace(/^controller\.quorum\.voters=.*$/m, `controller.quorum.voters=${voters}`)
      .replace(/^inter\.broker\.listener\.name=PLAINTEXT$/m, 'inter.broker.listener.name=REPLICATION');
    assert.match(properties, /inter\.broker\.listener\.name=REPLICATION/);
    fs.writeFileSync(
      node.propertiesFile,
      `${properties}advertised.listeners=PLAINTEXT://127.0.0.1:${at(proxies.client).port},REPLICATION://127.0.0.1:${at(proxies.replication).port}\n`,
    );
  }
  return { ...proxies, all: () => [proxies.client, proxies.replication, proxies.controller].flatMap((map) => [...map.values()]) };
}

/**
 * A TCP proxy in front of one listener of one node. Each connection is named by the client id in
 * its first request's header: `node-<id>` for a node's own connections (`gregor-node-<id>`),
 * otherwise the client id itself. `cut(source)` closes that source's connections and refuses its
 * new ones (accepted, then closed on their first request) until `heal(source)`.
 */
export class LinkProxy {
  private readonly server: net.Server;
  private readonly cutOff = new Set<string>();
  /** The sources whose connections came through this proxy. */
  readonly seen = new Set<string>();
  private readonly sockets = new Map<net.Socket, { from: string | null; upstream: net.Socket | null }>();
  private upstreamPort = 0;

  private constructor(server: net.Server) {
    this.server = server;
    server.on('connection', (socket) => this.accept(socket));
  }

  static async listen(): Promise<LinkProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
    return new LinkProxy(server);
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Where the listener really is. */
  forwardTo(port: number): void {
    this.upstreamPort = port;
  }

  cut(source: string): void {
    this.cutOff.add(source);
    for (const [socket, state] of this.sockets) if (state.from === source) this.drop(socket);
  }

  heal(source: string): void {
    this.cutOff.delete(source);
  }

  private drop(socket: net.Socket): void {
    this.sockets.get(socket)?.upstream?.destroy();
    socket.destroy();
    this.sockets.delete(socket);
  }

  private accept(socket: net.Socket): void {
    const state: { from: string | null; upstream: net.Socket | null } = { from: null, upstream: null };
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
      state.from = match ? `node-${match[1]}` : clientId;
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

/** The partition `topic-partition` as the broker(s) at `addresses` see it, once `accept` takes it. */
export async function partitionWhen(
  addresses: string,
  topic: string,
  partition: number,
  accept: (status: PartitionStatus) => boolean,
  what: string,
  timeoutMs = 30_000,
): Promise<PartitionStatus> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const status = await statusFromBroker(addresses, 'test');
      const found = status.partitions.find((p) => p.topic === topic && p.partition === partition);
      if (found !== undefined && accept(found)) return found;
      last = JSON.stringify(found);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${topic}-${partition}: ${what} not seen in ${timeoutMs} ms; last: ${last}`);
}

/**
 * A cluster of `Gregor.openCluster` on a temporary dir, for a test: ended with `killTestCluster`
 * (every node killed at once, as a crash: a test's cleanup need not wait for controlled
 * shutdowns) in afterEach, also when the test failed.
 */
export async function openTestCluster(options: Omit<GregorClusterOptions, 'dir'> = {}): Promise<GregorCluster> {
  const dirs = new TempDirs();
  const dir = await dirs.create('gregor-cluster-');
  const logger = process.env.GREGOR_TEST_LOG ? stderrLogger : undefined;
  try {
    const cluster = await Gregor.openCluster({ logger, ...options, dir });
    testClusterDirs.set(cluster, dirs);
    return cluster;
  } catch (error) {
    await dirs.removeAll();
    throw error;
  }
}

const testClusterDirs = new WeakMap<GregorCluster, TempDirs>();

export async function killTestCluster(cluster: GregorCluster | undefined): Promise<void> {
  if (cluster === undefined) return;
  await Promise.allSettled(cluster.runningNodeIds.map((id) => cluster.kill(id)));
  await testClusterDirs.get(cluster)?.removeAll();
}
