/**
 * `gregor cluster start`: runs a local cluster, one `gregor serve --config` process per node, as
 * a learner or a test wants it: writes the layout (layout.ts) or reuses the one in `--dir`,
 * starts every node at once (a combined node's broker is ready only once a majority of the
 * quorum is up), waits until each has printed its banner, prints how to reach them, and stops them
 * all on SIGINT or SIGTERM.
 *
 * Each node runs in its own process group (`detached`), so the terminal's Ctrl-C reaches only this
 * process, which stops the nodes one after the other with SIGTERM (each leaves gracefully:
 * controlled shutdown, then its raft client resigns), and SIGKILLs any that has not exited within
 * `STOP_GRACE_MS`. A node that exits on its own (killed by the user to watch a failover) is
 * reported and not restarted; `gregor serve --config <its properties>` starts it again. Once every
 * node has exited on its own, the command exits with code 1.
 * Node output goes to `<dir>/node-<id>/server.log` through file descriptors the nodes own, so
 * they keep logging if this process dies.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GREGOR_NODE_FLAGS } from '../../node-flags.js';
import { freeLoopbackPorts } from '../../node/free-ports.js';
import { CommandFailedError } from '../args.js';
import { type ClusterLayout, type NodeLayout, newLayout, readLayout, writeLayout } from './layout.js';

export interface StartOptions {
  nodes: number;
  dir: string;
  host: string;
  /** Node i's client port is basePort + 2(i-1), its controller port one more; undefined: ports from the OS. */
  basePort: number | undefined;
  overrides: { name: string; value: string }[];
  /** The web console's HTTP port, served by the first node (it shows the whole cluster); 0: off. */
  httpPort: number;
}

/** How long a node may take to print its banner, and to exit after SIGTERM before SIGKILL. */
const READY_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 30_000;
const BANNER_END = 'Press Ctrl-C to stop.';

/** The CLI entry point the nodes run (this build's cli.js). */
const CLI = fileURLToPath(new URL('../../cli.js', import.meta.url));

interface RunningNode {
  layout: NodeLayout;
  child: ChildProcess;
  exited: Promise<number | string>;
  running: boolean;
  /** The log's size before this start: the banner is looked for after it. */
  logStart: number;
}

export async function startCluster(options: StartOptions): Promise<void> {
  const layout = await prepareLayout(options);
  const running = layout.nodes.map((node, index) => spawnNode(node, index === 0 ? options.httpPort : 0));
  for (const node of running) console.log(`  node ${node.layout.nodeId} started: pid ${node.child.pid}, output in ${node.layout.logFile}`);
  console.log('Waiting for every node to be ready (a broker is ready once the quorum has elected a controller and registered it)...');
  let stopping = false;
  const stopAll = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: stopping the nodes (each leaves gracefully)`);
    await Promise.all(running.map((node) => stopNode(node)));
    console.log('all nodes stopped');
  };
  const stopped = new Promise<void>((resolve) => {
    process.on('SIGINT', () => void stopAll('SIGINT').then(resolve));
    process.on('SIGTERM', () => void stopAll('SIGTERM').then(resolve));
  });
  for (const node of running) {
    void node.exited.then((how) => {
      if (!stopping) console.log(`node ${node.layout.nodeId} (pid ${node.child.pid}) exited (${how}); start it again with: gregor serve --config ${node.layout.propertiesFile}`);
    });
  }
  try {
    await Promise.all(running.map((node) => waitForBanner(node)));
  } catch (error) {
    stopping = true;
    await Promise.all(running.map((node) => stopNode(node)));
    throw error;
  }
  printSummary(layout, running, options.httpPort);
  // Signal handlers do not keep a process alive: once every node has exited on its own there is nothing left to stop.
  const allExited = Promise.all(running.map((node) => node.exited)).then(() => 'exited' as const);
  if ((await Promise.race([stopped.then(() => 'stopped' as const), allExited])) === 'exited' && !stopping) {
    console.log('every node has exited; nothing left to stop');
    process.exitCode = 1;
  }
}

async function prepareLayout(options: StartOptions): Promise<ClusterLayout> {
  const dir = path.resolve(options.dir);
  const existing = readLayout(dir);
  if (existing !== null) {
    if (existing.nodes.length !== options.nodes) {
      throw new CommandFailedError('CLUSTER_LAYOUT_MISMATCH', `${dir} holds a cluster of ${existing.nodes.length} nodes, not ${options.nodes}: use --nodes ${existing.nodes.length}, or another --dir`);
    }
    if (options.overrides.length > 0 || options.basePort !== undefined) {
      throw new CommandFailedError('CLUSTER_LAYOUT_EXISTS', `${dir} already holds a cluster: its settings are in node-*/server.properties (edit them there), --override and --base-port apply to a new one`);
    }
    console.log(`Starting the ${existing.nodes.length}-node cluster in ${dir} again (same ports, same data)`);
    return existing;
  }
  const ports = options.basePort === undefined ? await freeLoopbackPorts(options.host, options.nodes * 2) : Array.from({ length: options.nodes * 2 }, (_, index) => (options.basePort as number) + index);
  const layout = newLayout(
    dir,
    options.host,
    ports.filter((_, index) => index % 2 === 0),
    ports.filter((_, index) => index % 2 === 1),
  );
  writeLayout(layout, options.overrides);
  console.log(`Starting a new ${options.nodes}-node cluster in ${dir}`);
  return layout;
}

function spawnNode(node: NodeLayout, httpPort: number): RunningNode {
  const logStart = fileSize(node.logFile);
  const log = fs.openSync(node.logFile, 'a');
  try {
    const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, CLI, 'serve', '--config', node.propertiesFile, '--http-port', String(httpPort)], {
      stdio: ['ignore', log, log],
      detached: true,
      env: { ...process.env, GREGOR_VERBOSE: '' },
    });
    const running: RunningNode = {
      layout: node,
      child,
      running: true,
      logStart,
      exited: new Promise((resolve) => {
        child.once('exit', (code, signal) => {
          running.running = false;
          resolve(signal !== null ? `signal ${signal}` : `code ${code}`);
        });
        child.once('error', (error) => {
          running.running = false;
          resolve(`could not start: ${error.message}`);
        });
      }),
    };
    return running;
  } finally {
    fs.closeSync(log);
  }
}

/** Resolves once the node's log shows a complete banner written by this start; rejects if it exits or takes too long. */
async function waitForBanner(node: RunningNode): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (;;) {
    const printed = readFrom(node.layout.logFile, node.logStart);
    if (printed.includes(BANNER_END)) return;
    if (!node.running) throw new CommandFailedError('NODE_FAILED', `node ${node.layout.nodeId} exited before it was ready (${await node.exited}); its log ${node.layout.logFile} ends with:\n${lastLines(printed, 10)}`);
    if (Date.now() > deadline) throw new CommandFailedError('NODE_NOT_READY', `node ${node.layout.nodeId} was not ready after ${READY_TIMEOUT_MS / 1000} s; see ${node.layout.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopNode(node: RunningNode): Promise<void> {
  const pid = node.child.pid;
  if (!node.running || pid === undefined) return;
  process.kill(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (node.running) {
      console.log(`node ${node.layout.nodeId} (pid ${pid}) did not exit within ${STOP_GRACE_MS / 1000} s of SIGTERM: SIGKILL`);
      process.kill(pid, 'SIGKILL');
    }
  }, STOP_GRACE_MS);
  await node.exited;
  clearTimeout(timer);
}

function printSummary(layout: ClusterLayout, running: RunningNode[], httpPort: number): void {
  const bootstrap = layout.nodes.map((node) => `${node.host}:${node.clientPort}`).join(',');
  console.log(`A ${layout.nodes.length}-node Gregor cluster is running (every node a broker and a controller):`);
  console.log('');
  for (const node of running) {
    const { layout: n } = node;
    console.log(`  node ${n.nodeId}  pid ${String(node.child.pid).padEnd(7)} clients ${n.host}:${n.clientPort}  controller ${n.host}:${n.controllerPort}  log ${n.logFile}`);
  }
  console.log('');
  console.log(`Bootstrap servers: ${bootstrap}`);
  if (httpPort !== 0) {
    const first = layout.nodes[0];
    console.log(`Web console (served by node ${first?.nodeId}, showing the whole cluster): http://${first?.host}:${httpPort}/  (its log says if the port was taken)`);
  }
  console.log('');
  console.log('Try:');
  console.log(`  gregor cluster status --bootstrap-server ${bootstrap}`);
  console.log(`  gregor topics create --topic orders --partitions 3 --replication-factor 3 --bootstrap-server ${bootstrap}`);
  console.log(`  kcat -L -b ${bootstrap}`);
  console.log(`Stop one node with kill <pid> (or kill -9 <pid>); start it again with gregor serve --config ${layout.nodes[0]?.nodeDir.replace(/node-\d+$/, 'node-<id>')}/server.properties`);
  console.log('');
  console.log('Press Ctrl-C to stop all nodes.');
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

function readFrom(file: string, offset: number): string {
  try {
    const buffer = fs.readFileSync(file);
    return buffer.subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

function lastLines(text: string, count: number): string {
  return text.trimEnd().split('\n').slice(-count).join('\n');
}
