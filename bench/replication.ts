/**
 * Replication's cost (issue 8), on a cluster of three `gregor serve --config` processes (the built
 * CLI, each node a broker and a controller) on loopback TCP, free ports below the OS's ephemeral range, every process ended
 * by its pid.
 *
 * (a) Produce through Gregor's client to a one-partition topic with replication factor 3, acks=all
 *     (min.insync.replicas 2) and acks=1, beside the same work on a replication-factor-1 topic in
 *     the same run: throughput (sends of 1,000 records of 100 bytes, issue 8's record size, 64 sends in flight), the latency
 *     of those sends under that load, and the latency of one-record sends made one at a time. Each
 *     configuration writes to a topic of its own, deleted once measured; the three take turns
 *     `--rounds` times and each figure is the median of its rounds.
 * (b) A follower catching up: one follower of a replication-factor-3 topic is stopped (SIGTERM),
 *     N MiB are produced with acks=all while it is away, it is started again and timed from its
 *     spawn until the leader has it back in the ISR. The log bytes it had to copy per second are
 *     printed beside a raw loopback TCP copy of the same number of bytes in the same run (one
 *     socket, 1 MiB writes, both ends in this process).
 *
 * (c) Produce-to-consume latency at a steady 10,000 records/s with acks=all, RF3 beside RF1 in the
 *     same run, measured by `gregor perf latency --json` in its own process (replication-latency.ts).
 *
 * Run: `pnpm bench replication` (catch-up of 256 MiB); `pnpm bench replication --catch-up-mib 1024`
 * for issue 8's 1 GiB. Other sizes: `--produce-mib` (per configuration and round in (a), default 128),
 * `--rounds` (of (a), default 3),
 * `--latency-sends` (default 1000), `--record-bytes` (default 100); for (c) `--latency-rate`
 * (default 10000), `--latency-seconds` (default 15) and `--latency-warmup-seconds` (default 3). Needs the built CLI (`pnpm install` or `tsc -b`). Not part of
 * the default `pnpm bench`: it starts processes and writes the catch-up log three times.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { type Admin, Client, type Producer } from '@gregor/client';
import { type PartitionStatus, statusFromBroker } from '../packages/gregor/src/cli/cluster/status.js';
import { GREGOR_NODE_FLAGS } from '../packages/gregor/src/node-flags.js';
import { freeLoopbackPorts } from '../packages/gregor/src/node/free-ports.js';
import { latencyRows } from './replication-latency.js';
import { numberOption } from './options.js';
import type { Row } from './row.js';

const MiB = 1024 * 1024;
const MESSAGES_PER_SEND = 1000;
const READY_MS = 120_000;
const ISR_MS = 600_000;
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'packages/gregor/bin/gregor.js');

/** Failure noticed within seconds, as the multi-process tests set it (Kafka's defaults suit big clusters). */
const SETTINGS: Record<string, string> = {
  'controller.quorum.election.timeout.ms': '500',
  'controller.quorum.fetch.timeout.ms': '1000',
  'broker.heartbeat.interval.ms': '250',
  'broker.session.timeout.ms': '2000',
  'offsets.topic.replication.factor': '3',
  'offsets.topic.num.partitions': '1',
  'auto.create.topics.enable': 'false',
  'replica.fetch.wait.max.ms': '100',
  // Each measurement of (c) has a consumer group of one: no other member to wait for.
  'group.initial.rebalance.delay.ms': '0',
};

interface Node {
  nodeId: number;
  address: string;
  properties: string;
  child: ChildProcess | null;
  exited: Promise<void>;
  output: string;
}

/** Three node processes; `stopAll` SIGKILLs by pid whatever still runs and removes the files. */
class Cluster {
  private constructor(
    readonly dir: string,
    readonly nodes: Node[],
  ) {}

  static async create(): Promise<Cluster> {
    const dir = fs.mkdtempSync(path.join(tmpdir(), 'gregor-bench-replication-'));
    const ports = await freeLoopbackPorts('127.0.0.1', 6);
    const ids = [1, 2, 3];
    const voters = ids.map((id, i) => `${id}@127.0.0.1:${ports[i * 2 + 1]}`).join(',');
    const nodes = ids.map((nodeId, i): Node => {
      const nodeDir = path.join(dir, `node-${nodeId}`);
      fs.mkdirSync(nodeDir, { recursive: true });
      const lines = [
        'process.roles=broker,controller',
        `node.id=${nodeId}`,
        `controller.quorum.voters=${voters}`,
        `listeners=PLAINTEXT://127.0.0.1:${ports[i * 2]},CONTROLLER://127.0.0.1:${ports[i * 2 + 1]}`,
        'controller.listener.names=CONTROLLER',
        'inter.broker.listener.name=PLAINTEXT',
        `log.dirs=${path.join(nodeDir, 'data')}`,
        ...Object.entries(SETTINGS).map(([key, value]) => `${key}=${value}`),
      ];
      const properties = path.join(nodeDir, 'server.properties');
      fs.writeFileSync(properties, `${lines.join('\n')}\n`);
      return { nodeId, address: `127.0.0.1:${ports[i * 2]}`, properties, child: null, exited: Promise.resolve(), output: '' };
    });
    const cluster = new Cluster(dir, nodes);
    // Interrupted (Ctrl-C, or a test's timeout): end the node processes by pid before exiting.
    const interrupted = () => {
      cluster.killAll();
      fs.rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    };
    process.once('SIGINT', interrupted).once('SIGTERM', interrupted);
    cluster.forgetSignals = () => process.off('SIGINT', interrupted).off('SIGTERM', interrupted);
    return cluster;
  }

  private forgetSignals: () => void = () => {};

  /** SIGKILL by pid to every node process still running. */
  killAll(): void {
    for (const node of this.nodes) {
      const child = node.child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
  }

  node(nodeId: number): Node {
    const node = this.nodes.find((candidate) => candidate.nodeId === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    return node;
  }

  get bootstrap(): string {
    return this.nodes.map((node) => node.address).join(',');
  }

  spawn(nodeId: number): void {
    const node = this.node(nodeId);
    const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, cli, 'serve', '--config', node.properties, '--http-port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_VERBOSE: '' } });
    node.output = '';
    // The banner and any failure: the last 64 KiB are enough.
    const append = (chunk: unknown) => {
      node.output = (node.output + String(chunk)).slice(-65_536);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    node.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    node.child = child;
  }

  async ready(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    const deadline = performance.now() + READY_MS;
    while (!node.output.includes('Press Ctrl-C to stop.')) {
      if (node.child === null || node.child.exitCode !== null || node.child.signalCode !== null) throw new Error(`node ${nodeId} exited before it was ready:\n${node.output}`);
      if (performance.now() > deadline) throw new Error(`node ${nodeId} not ready after ${READY_MS} ms:\n${node.output}`);
      await sleep(20);
    }
  }

  /** SIGTERM by pid (a clean stop: controlled shutdown), and waits for the exit. */
  async stop(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    if (node.child?.pid === undefined || node.child.exitCode !== null || node.child.signalCode !== null) return;
    process.kill(node.child.pid, 'SIGTERM');
    await node.exited;
  }

  async stopAll(): Promise<void> {
    this.killAll();
    this.forgetSignals();
    await Promise.all(this.nodes.map((node) => node.exited));
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The partition as the brokers at `bootstrap` see it, once `accept` takes it; polled every 20 ms. */
async function partitionWhen(bootstrap: string, topic: string, accept: (partition: PartitionStatus) => boolean, timeoutMs = 60_000): Promise<PartitionStatus> {
  const deadline = performance.now() + timeoutMs;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const status = await statusFromBroker(bootstrap, 'bench-replication');
      const partition = status.partitions.find((p) => p.topic === topic && p.partition === 0);
      if (partition !== undefined && accept(partition)) return partition;
      last = JSON.stringify(partition);
    } catch (error) {
      last = (error as Error).message;
    }
    await sleep(20);
  }
  throw new Error(`${topic}-0 did not get there in ${timeoutMs} ms: ${last}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

/** Each figure the median of the rounds' (the middle one, or the lower of the two middle ones). */
function medianOf(rounds: Measured[]): Measured {
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;
  const cpu = rounds.map((m) => m.cpuMsPerMb);
  return {
    mbPerS: median(rounds.map((m) => m.mbPerS)),
    recordsPerS: median(rounds.map((m) => m.recordsPerS)),
    loadedP50: median(rounds.map((m) => m.loadedP50)),
    loadedP99: median(rounds.map((m) => m.loadedP99)),
    singleP50: median(rounds.map((m) => m.singleP50)),
    singleP99: median(rounds.map((m) => m.singleP99)),
    cpuMsPerMb: cpu.some((value) => value === null) ? null : median(cpu as number[]),
  };
}

interface Measured {
  mbPerS: number;
  recordsPerS: number;
  loadedP50: number;
  loadedP99: number;
  singleP50: number;
  singleP99: number;
  /** CPU milliseconds per MB produced in the loaded part, summed over the node processes and the client; null without /proc. */
  cpuMsPerMb: number | null;
}

/** CPU milliseconds used so far by each node process (from /proc) and by this process (the client); null without /proc. */
function cpuMs(cluster: Cluster): number | null {
  let total = 0;
  for (const node of cluster.nodes) {
    const pid = node.child?.pid;
    if (pid === undefined || node.child?.exitCode !== null) continue;
    try {
      // utime and stime, fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second on Linux).
      const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
      total += (Number(fields[11]) + Number(fields[12])) * 10;
    } catch {
      return null;
    }
  }
  const own = process.cpuUsage();
  return total + (own.user + own.system) / 1000;
}

/** Sends of MESSAGES_PER_SEND records, `sendsInFlight` at a time, until `bytes` of values are acknowledged. */
async function produceBytes(producer: Producer, topic: string, bytes: number, recordBytes: number, sendsInFlight: number): Promise<{ ms: number; records: number; latencies: number[] }> {
  const value = Buffer.alloc(recordBytes, 0x61);
  const messages = Array.from({ length: MESSAGES_PER_SEND }, () => ({ value }));
  const sends = Math.ceil(bytes / (recordBytes * MESSAGES_PER_SEND));
  const latencies: number[] = [];
  let started = 0;
  const started0 = performance.now();
  const pending = new Set<Promise<void>>();
  while (started < sends || pending.size > 0) {
    while (started < sends && pending.size < sendsInFlight) {
      started++;
      const at = performance.now();
      const send: Promise<void> = producer.send({ topic, messages }).then(() => {
        latencies.push(performance.now() - at);
      }).finally(() => pending.delete(send));
      pending.add(send);
    }
    await Promise.race(pending);
  }
  return { ms: performance.now() - started0, records: sends * MESSAGES_PER_SEND, latencies };
}

async function measure(cluster: Cluster, client: Client, topic: string, acks: number, produceBytesTotal: number, latencySends: number, recordBytes: number, sendsInFlight: number): Promise<Measured> {
  const producer = client.producer({ acks, lingerMs: 2, batchBytes: MiB, retry: { retries: 5 } });
  await producer.connect();
  try {
    // Warm-up: connections, metadata, the JIT.
    await produceBytes(producer, topic, Math.min(produceBytesTotal, 8 * 1e6), recordBytes, sendsInFlight);
    const cpuBefore = cpuMs(cluster);
    const loaded = await produceBytes(producer, topic, produceBytesTotal, recordBytes, sendsInFlight);
    // With acks=1 the followers may still be copying: one acks=all record waits for them, so their
    // work is counted here and not in the next configuration.
    if (acks !== -1) await waitForFollowers(client, topic);
    const cpuAfter = cpuMs(cluster);
    const single: number[] = [];
    const one = [{ value: Buffer.alloc(recordBytes, 0x62) }];
    for (let i = 0; i < latencySends; i++) {
      const at = performance.now();
      await producer.send({ topic, messages: one });
      single.push(performance.now() - at);
    }
    loaded.latencies.sort((a, b) => a - b);
    single.sort((a, b) => a - b);
    return {
      mbPerS: (loaded.records * recordBytes) / 1e6 / (loaded.ms / 1000),
      recordsPerS: loaded.records / (loaded.ms / 1000),
      loadedP50: percentile(loaded.latencies, 50),
      loadedP99: percentile(loaded.latencies, 99),
      singleP50: percentile(single, 50),
      singleP99: percentile(single, 99),
      cpuMsPerMb: cpuBefore === null || cpuAfter === null ? null : (cpuAfter - cpuBefore) / ((loaded.records * recordBytes) / 1e6),
    };
  } finally {
    await producer.disconnect();
  }
}

/** Creates a one-partition topic and returns once all its replicas are in the ISR. */
async function createTopic(admin: Admin, cluster: Cluster, topic: string, replicationFactor: number, minIsr: number): Promise<void> {
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, replicationFactor, configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }] }] });
  await partitionWhen(cluster.bootstrap, topic, (p) => p.leader > 0 && p.isr.length === replicationFactor);
}

/** Returns once one acks=all record is acknowledged: every ISR follower then holds all before it. */
async function waitForFollowers(client: Client, topic: string): Promise<void> {
  const producer = client.producer({ acks: -1 });
  await producer.connect();
  try {
    await producer.send({ topic, messages: [{ value: Buffer.alloc(1) }] });
  } finally {
    await producer.disconnect();
  }
}

const COPY_POLL_MS = 2;

/**
 * When the follower's log of `topic` first grows past `heldBytes` and when it reaches `targetBytes`,
 * in ms since `since`, its segment sizes polled every COPY_POLL_MS (within ISR_MS).
 */
async function watchCopy(cluster: Cluster, follower: number, topic: string, heldBytes: number, targetBytes: number, since: number): Promise<{ firstMs: number; lastMs: number }> {
  let firstMs: number | null = null;
  const deadline = since + ISR_MS;
  while (performance.now() < deadline) {
    let bytes = heldBytes;
    try {
      bytes = logBytes(cluster, follower, topic);
    } catch {
      // A segment renamed or deleted between the listing and its stat: poll again.
    }
    const now = performance.now() - since;
    if (firstMs === null && bytes > heldBytes) firstMs = now;
    if (bytes >= targetBytes) return { firstMs: firstMs ?? now, lastMs: now };
    await sleep(COPY_POLL_MS);
  }
  throw new Error(`follower ${follower} did not copy ${targetBytes - heldBytes} bytes of ${topic} within ${ISR_MS} ms`);
}

/** Bytes of the partition's segments in a node's data dir. */
function logBytes(cluster: Cluster, nodeId: number, topic: string): number {
  const dir = path.join(cluster.dir, `node-${nodeId}`, 'data', `${topic}-0`);
  return fs.readdirSync(dir).filter((name) => name.endsWith('.log')).reduce((sum, name) => sum + fs.statSync(path.join(dir, name)).size, 0);
}

/** `bytes` over one loopback socket, 1 MiB writes honouring backpressure; ms until the sink has them all. */
async function rawLoopbackCopy(bytes: number): Promise<number> {
  let received = 0;
  let done: () => void = () => {};
  const all = new Promise<void>((resolve) => {
    done = resolve;
  });
  const sink = net.createServer((socket) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.length;
      if (received >= bytes) done();
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  const socket = net.connect({ host: '127.0.0.1', port: (sink.address() as net.AddressInfo).port });
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const chunk = Buffer.alloc(MiB, 0x63);
    const started = performance.now();
    for (let sent = 0; sent < bytes; ) {
      const part = bytes - sent >= chunk.length ? chunk : chunk.subarray(0, bytes - sent);
      sent += part.length;
      if (!socket.write(part)) await new Promise((resolve) => socket.once('drain', resolve));
    }
    await all;
    return performance.now() - started;
  } finally {
    socket.destroy();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}

export async function run(): Promise<Row[]> {
  const produceMiB = numberOption('produce-mib', 128);
  const catchUpMiB = numberOption('catch-up-mib', 256);
  const latencySends = numberOption('latency-sends', 1000);
  const recordBytes = numberOption('record-bytes', 100);
  const sendsInFlight = numberOption('sends-in-flight', 64);
  const rounds = numberOption('rounds', 3);
  const cluster = await Cluster.create();
  const client = new Client({ brokers: cluster.nodes.map((node) => node.address), clientId: 'bench-replication' });
  const admin = client.admin();
  try {
    for (const node of cluster.nodes) cluster.spawn(node.nodeId);
    await Promise.all(cluster.nodes.map((node) => cluster.ready(node.nodeId)));
    await admin.connect();
    // (a) the same work on RF1 (baseline), RF3 acks=all, RF3 acks=1, each on a topic of its own that
    // is deleted once measured: every configuration starts from an empty log with the same page
    // cache in use. (This VM backs memory the first time it is touched: writing new page cache
    // past about 2 GB in use cost ten times a write to recycled pages, 2.3 against 0.23 ms/MB, so
    // the configuration that ran last used to pay for the ones before it.)
    const bytes = produceMiB * MiB;
    const measureOn = async (topic: string, replicationFactor: number, minIsr: number, acks: number): Promise<Measured> => {
      await createTopic(admin, cluster, topic, replicationFactor, minIsr);
      try {
        return await measure(cluster, client, topic, acks, bytes, latencySends, recordBytes, sendsInFlight);
      } finally {
        await admin.deleteTopics({ topics: [topic] });
      }
    };
    // The three configurations take turns, `rounds` times, and each figure is the median of its
    // rounds: a slower stretch of this shared machine then lands on every configuration alike.
    const runs: { rf1: Measured[]; rf3All: Measured[]; rf3One: Measured[] } = { rf1: [], rf3All: [], rf3One: [] };
    for (let round = 1; round <= rounds; round++) {
      runs.rf1.push(await measureOn(`rf1-${round}`, 1, 1, -1));
      runs.rf3All.push(await measureOn(`rf3-acks-all-${round}`, 3, 2, -1));
      runs.rf3One.push(await measureOn(`rf3-acks-1-${round}`, 3, 2, 1));
    }
    const rf1 = medianOf(runs.rf1);
    const rf3All = medianOf(runs.rf3All);
    const rf3One = medianOf(runs.rf3One);
    const rows: Row[] = [];
    const base = 'replication factor 1 (acks=all)';
    const workNote = `${produceMiB} MiB of ${recordBytes} B records in sends of ${MESSAGES_PER_SEND}, ${sendsInFlight} in flight; one partition; 3 node processes; the median of ${rounds} rounds`;
    const roundsNote = (label: string, of: Measured[]) => `${label} ${of.map((m) => m.mbPerS.toFixed(0)).join(', ')}`;
    for (const [label, m, of] of [['RF3 acks=all, min.insync.replicas 2', rf3All, runs.rf3All], ['RF3 acks=1', rf3One, runs.rf3One]] as const) {
      rows.push(
        { name: `produce, ${label}`, value: m.mbPerS, unit: 'MB/s', baseline: rf1.mbPerS, baselineName: base, note: `${workNote}; MB/s by round: ${roundsNote('RF3', of)}; ${roundsNote('RF1', runs.rf1)}` },
        { name: `produce, ${label}`, value: m.recordsPerS, unit: 'records/s', baseline: rf1.recordsPerS, baselineName: base },
        { name: `${MESSAGES_PER_SEND}-record send latency under that load p50, ${label}`, value: m.loadedP50, unit: 'ms', baseline: rf1.loadedP50, baselineName: base },
        { name: `${MESSAGES_PER_SEND}-record send latency under that load p99, ${label}`, value: m.loadedP99, unit: 'ms', baseline: rf1.loadedP99, baselineName: base },
        { name: `one-record send latency p50, ${label}`, value: m.singleP50, unit: 'ms', baseline: rf1.singleP50, baselineName: base, note: `${latencySends} sends one at a time, linger.ms 2` },
        { name: `one-record send latency p99, ${label}`, value: m.singleP99, unit: 'ms', baseline: rf1.singleP99, baselineName: base },
      );
      if (m.cpuMsPerMb !== null && rf1.cpuMsPerMb !== null) {
        rows.push({
          name: `CPU per MB produced, all four processes, ${label}`, value: m.cpuMsPerMb, unit: 'ms', baseline: rf1.cpuMsPerMb, baselineName: base,
          note: label.includes('acks=all')
            ? `the three nodes and the client, in the loaded produce (from /proc): ${((m.cpuMsPerMb * m.mbPerS) / 1000).toFixed(2)} cores busy, RF1 ${((rf1.cpuMsPerMb * rf1.mbPerS) / 1000).toFixed(2)}; once the cores are busy the throughput ratio cannot beat the inverse of this ratio`
            : 'as above, with the followers\' copying after the timed part counted too (so no cores-busy figure)',
        });
      }
    }

    // (c) produce-to-consume latency, before (b) restarts a follower.
    rows.push(...(await latencyRows(admin, {
      cli,
      bootstrap: cluster.bootstrap,
      rate: numberOption('latency-rate', 10_000),
      recordBytes,
      warmupSeconds: numberOption('latency-warmup-seconds', 3),
      seconds: numberOption('latency-seconds', 15),
      ready: async (topic, replicationFactor) => {
        await partitionWhen(cluster.bootstrap, topic, (p) => p.leader > 0 && p.isr.length === replicationFactor);
      },
    })));

    // (b) a follower catching up. Stop a follower that is not the active controller if there is one
    // (the quorum keeps its leader, so only the catch-up is timed).
    const topic = 'catch-up';
    await createTopic(admin, cluster, topic, 3, 2);
    const before = await partitionWhen(cluster.bootstrap, topic, (p) => p.isr.length === 3);
    const controllerId = (await statusFromBroker(cluster.bootstrap, 'bench-replication')).controllerId;
    const followers = before.replicas.filter((id) => id !== before.leader);
    const follower = followers.find((id) => id !== controllerId) ?? (followers[0] as number);
    await cluster.stop(follower);
    const others = cluster.nodes.filter((node) => node.nodeId !== follower).map((node) => node.address).join(',');
    await partitionWhen(others, topic, (p) => !p.isr.includes(follower));
    const producer = client.producer({ acks: -1, lingerMs: 2, batchBytes: MiB, retry: { retries: 5 } });
    await producer.connect();
    let fill: { ms: number; records: number };
    try {
      fill = await produceBytes(producer, topic, catchUpMiB * MiB, recordBytes, sendsInFlight);
    } finally {
      await producer.disconnect();
    }
    const leader = (await partitionWhen(others, topic, (p) => p.leader > 0)).leader;
    const leaderBytes = logBytes(cluster, leader, topic);
    const heldBytes = logBytes(cluster, follower, topic);
    const copied = leaderBytes - heldBytes;
    const spawnedAt = performance.now();
    cluster.spawn(follower);
    // The copy is timed on the follower's disk: from its first new byte to its last (the ready line
    // is no mark, since the fetcher starts before the node prints it).
    const copy = watchCopy(cluster, follower, topic, heldBytes, leaderBytes, spawnedAt);
    await cluster.ready(follower);
    const readyMs = performance.now() - spawnedAt;
    await partitionWhen(others, topic, (p) => p.isr.includes(follower), ISR_MS);
    const rejoinMs = performance.now() - spawnedAt;
    const { firstMs, lastMs } = await copy;
    const rawMs = await rawLoopbackCopy(copied);
    const copiedMb = copied / 1e6;
    const copyMs = Math.max(1, lastMs - firstMs);
    rows.push(
      {
        name: `follower catch-up, ${catchUpMiB} MiB produced while it was stopped: the copy (first to last byte on the follower's disk)`,
        value: copiedMb / (copyMs / 1000),
        unit: 'MB/s',
        baseline: copiedMb / (rawMs / 1000),
        baselineName: 'raw loopback TCP copy of the same bytes',
        note: `${copiedMb.toFixed(0)} MB of log in ${(copyMs / 1000).toFixed(2)} s (its log size polled every ${COPY_POLL_MS} ms); leader ${leader}, follower ${follower}`,
      },
      {
        name: `follower catch-up, ${catchUpMiB} MiB: spawn to back in the ISR (the process start included)`,
        value: copiedMb / (rejoinMs / 1000),
        unit: 'MB/s',
        baseline: copiedMb / (rawMs / 1000),
        baselineName: 'raw loopback TCP copy of the same bytes',
        note: `${(rejoinMs / 1000).toFixed(2)} s: ready line at ${(readyMs / 1000).toFixed(2)} s, first byte copied at ${(firstMs / 1000).toFixed(2)} s, last at ${(lastMs / 1000).toFixed(2)} s; the fill with acks=all and 2 in the ISR: ${((fill.records * recordBytes) / 1e6 / (fill.ms / 1000)).toFixed(0)} MB/s`,
      },
    );
    return rows;
  } finally {
    await admin.disconnect().catch(() => {});
    await cluster.stopAll();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(row);
}
