/**
 * `gregor cluster start` and `gregor cluster status` as a learner runs them: three node processes
 * started from one command, reachable at the addresses it prints, a topic with replication factor
 * 3 created with `gregor topics create` shown by `cluster status` with its leader and full ISR,
 * `gregor produce --acks all` carrying on through a SIGKILL of its partition's leader with every
 * record stored once and in order, every node stopped by one SIGTERM to the command (the killed
 * one reported), and the same cluster (ports, data) started again from its directory, the killed
 * node back in the ISR. Every process is ended by its pid, also when the test fails.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { statusFromBroker } from '../../src/cli/cluster/status.js';
import { bin, ensureBuilt, root, temporaryDir } from '../support/cli.js';

vi.setConfig({ testTimeout: 150_000, hookTimeout: 60_000 });

const run = promisify(execFile);
const pids = new Set<number>();
const dirs: string[] = [];

afterEach(() => {
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  pids.clear();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Started {
  child: ChildProcess;
  printed: () => string;
  bootstrap: string;
  nodePids: number[];
  /** Node id to pid. */
  pidOf: Map<number, number>;
  exited: Promise<number | null>;
}

/** Runs `gregor cluster start` with `args`; resolves once it says every node is ready. Every pid it prints is remembered for afterEach. */
async function clusterStart(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [bin, 'cluster', 'start', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_VERBOSE: '' } });
  if (child.pid !== undefined) pids.add(child.pid);
  let printed = '';
  const nodePids: number[] = [];
  const pidOf = new Map<number, number>();
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const onData = (chunk: unknown) => {
    printed += String(chunk);
    for (const match of printed.matchAll(/node (\d+) started: pid (\d+)/g)) {
      const pid = Number(match[2]);
      pidOf.set(Number(match[1]), pid);
      if (!nodePids.includes(pid)) {
        nodePids.push(pid);
        pids.add(pid);
      }
    }
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  await vi.waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`cluster start exited with ${child.exitCode}:\n${printed}`);
      expect(printed).toContain('Press Ctrl-C to stop all nodes.');
    },
    { timeout: 120_000, interval: 100 },
  );
  const bootstrap = /Bootstrap servers: (\S+)/.exec(printed)?.[1];
  if (bootstrap === undefined) throw new Error(`no bootstrap servers in:\n${printed}`);
  return { child, printed: () => printed, bootstrap, nodePids, pidOf, exited };
}

describe('gregor cluster start and status', () => {
  it('starts three nodes that form one cluster, shows its quorum, brokers and ISRs, stops them all on SIGTERM, and starts the same cluster again from its directory', async () => {
    ensureBuilt();
    const dir = path.join(temporaryDir('cluster-start'), 'cluster');
    dirs.push(path.dirname(dir));
    // Faster failure detection than Kafka's defaults, so the last nodes notice the quorum is gone soon when all stop.
    const fast = [
      'controller.quorum.election.timeout.ms=500',
      'controller.quorum.fetch.timeout.ms=1000',
      'broker.session.timeout.ms=2000',
      'broker.heartbeat.interval.ms=250',
    ].flatMap((setting) => ['--override', setting]);
    const httpPort = await freePort();
    const first = await clusterStart(['--nodes', '3', '--dir', dir, '--http-port', String(httpPort), ...fast]);
    expect(first.nodePids).toHaveLength(3);
    expect(first.bootstrap.split(',')).toHaveLength(3);
    // Every node runs with Gregor's V8 flags (node-flags.ts): several nodes share the machine's cores.
    for (const pid of first.nodePids) expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--single-threaded-gc');
    for (const nodeId of [1, 2, 3]) expect(fs.readFileSync(path.join(dir, `node-${nodeId}`, 'server.properties'), 'utf8')).toContain(`node.id=${nodeId}`);

    await vi.waitFor(async () => expect((await statusFromBroker(first.bootstrap, 'test')).brokers).toHaveLength(3), { timeout: 20_000, interval: 100 });
    await run(process.execPath, [bin, 'topics', 'create', '--topic', 'orders', '--partitions', '2', '--replication-factor', '3', '--bootstrap-server', first.bootstrap], { cwd: root });
    await vi.waitFor(async () => {
      const status = await statusFromBroker(first.bootstrap, 'test');
      expect(status.partitions.filter((p) => p.topic === 'orders' && p.isr.length === 3)).toHaveLength(2);
    }, { timeout: 20_000, interval: 100 });

    // The first node's web console shows the whole cluster: every broker, and each topic's replicas and ISR.
    expect(first.printed()).toContain(`Web console (served by node 1, showing the whole cluster): http://127.0.0.1:${httpPort}/`);
    await vi.waitFor(async () => {
      const brokers = (await (await fetch(`http://127.0.0.1:${httpPort}/api/brokers`)).json()) as { brokers: { nodeId: number }[] };
      expect(brokers.brokers.map((b) => b.nodeId).sort()).toEqual([1, 2, 3]);
      const topic = (await (await fetch(`http://127.0.0.1:${httpPort}/api/topics/orders`)).json()) as { partitions: { replicas: number[]; isr: number[] }[] };
      expect(topic.partitions.map((p) => [p.replicas.length, p.isr.length])).toEqual([[3, 3], [3, 3]]);
    }, { timeout: 20_000, interval: 200 });

    const { stdout } = await run(process.execPath, [bin, 'cluster', 'status', '--bootstrap-server', first.bootstrap], { cwd: root });
    expect(stdout).toMatch(/Controller quorum: leader node [123] \(the active controller\), epoch \d+/);
    expect(stdout).toContain('Brokers: 3 live');
    expect(stdout).toMatch(/orders-0 +leader [123] +epoch \d+ +replicas [123],[123],[123] +isr [123],[123],[123]/);
    expect(stdout).toContain('Under-replicated partitions: 0');

    // The console producer (idempotent with acks=all) through a SIGKILL of its partition's leader.
    await run(process.execPath, [bin, 'topics', 'create', '--topic', 'failover', '--partitions', '1', '--replication-factor', '3', '--bootstrap-server', first.bootstrap], { cwd: root });
    const leader = (await vi.waitFor(async () => {
      const partition = (await statusFromBroker(first.bootstrap, 'test')).partitions.find((p) => p.topic === 'failover' && p.isr.length === 3);
      expect(partition).toBeDefined();
      return partition;
    }, { timeout: 20_000, interval: 100 }))?.leader as number;
    const records = Array.from({ length: 100_000 }, (_, i) => `f-${i}`);
    const input = path.join(path.dirname(dir), 'records.txt');
    fs.writeFileSync(input, `${records.join('\n')}\n`);
    const produced = run(process.execPath, [bin, 'produce', '--topic', 'failover', '--acks', 'all', '--file', input, '--bootstrap-server', first.bootstrap], { cwd: root });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    process.kill(first.pidOf.get(leader) as number, 'SIGKILL');
    expect((await produced).stderr).toContain('100000 records sent to failover');
    const consumed = await run(process.execPath, [bin, 'consume', '--topic', 'failover', '--from-beginning', '--max-messages', '100000', '--bootstrap-server', first.bootstrap], { cwd: root, maxBuffer: 64 * 1024 * 1024 });
    expect(consumed.stdout.trimEnd().split('\n')).toEqual(records);

    process.kill(first.child.pid as number, 'SIGTERM');
    expect(await first.exited).toBe(0);
    expect(first.printed()).toContain(`node ${leader} (pid ${first.pidOf.get(leader)}) exited (signal SIGKILL)`);
    expect(first.printed()).toContain('all nodes stopped');
    for (const pid of first.nodePids) expect(alive(pid)).toBe(false);
    for (const nodeId of [1, 2, 3]) if (nodeId !== leader) expect(fs.readFileSync(path.join(dir, `node-${nodeId}`, 'server.log'), 'utf8')).toContain('closed cleanly');

    const second = await clusterStart(['--nodes', '3', '--dir', dir, '--http-port', '0']);
    expect(second.printed()).toContain(`Starting the 3-node cluster in ${dir} again`);
    expect(second.bootstrap).toBe(first.bootstrap);
    await vi.waitFor(async () => {
      const status = await statusFromBroker(second.bootstrap, 'test');
      expect(status.partitions.filter((p) => p.topic === 'orders')).toHaveLength(2);
      expect(status.partitions.find((p) => p.topic === 'failover')?.isr).toHaveLength(3);
    }, { timeout: 30_000, interval: 100 });
    process.kill(second.child.pid as number, 'SIGTERM');
    expect(await second.exited).toBe(0);
  });
});

/** A port the OS hands out, released at once for the console to bind. */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
