/**
 * Nodes of a cluster as real processes: each node is `gregor serve --config <its server.properties>`
 * (the built CLI, as a user runs it), on loopback ports the OS handed out, with its data dir in a
 * temporary directory. Every process is tracked by its pid and ended by the test: `kill(signal)`
 * for the faults a test injects, `stop()` to end one cleanly (SIGTERM), `stopAll()` (SIGKILL what still runs, remove the files) in
 * afterEach or finally, whatever happened.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { GREGOR_NODE_FLAGS } from '../../src/node-flags.js';
import { bin, root, temporaryDir } from './cli.js';
import { freePorts } from '../node/support.js';

export interface NodeSpec {
  nodeId: number;
  roles: ('broker' | 'controller')[];
}

export interface NodeProcess {
  nodeId: number;
  roles: ('broker' | 'controller')[];
  /** `127.0.0.1:<port>` of the client listener (brokers) and of the CONTROLLER listener (controllers). */
  clientAddress: string | undefined;
  controllerAddress: string | undefined;
  propertiesFile: string;
  dataDir: string;
  child: ChildProcess | null;
  /** Everything the current process printed. */
  printed(): string;
}

const READY_MS = 90_000;

export class NodeProcesses {
  readonly nodes: NodeProcess[];
  private readonly dir: string;
  private readonly outputs = new Map<number, string>();
  private readonly exits = new Map<number, Promise<void>>();

  private constructor(dir: string, nodes: NodeProcess[]) {
    this.dir = dir;
    this.nodes = nodes;
  }

  /**
   * Writes a server.properties per node (every controller a voter, its CONTROLLER listener on its
   * voter port; every broker a PLAINTEXT listener) with `extra` settings appended.
   */
  static async create(specs: readonly NodeSpec[], extra: Readonly<Record<string, string>> = {}): Promise<NodeProcesses> {
    const dir = temporaryDir('cluster');
    const ports = await freePorts(specs.length * 2);
    const controllers = specs.filter((spec) => spec.roles.includes('controller'));
    const controllerPort = (spec: NodeSpec) => ports[specs.indexOf(spec) * 2 + 1] as number;
    const voters = controllers.map((spec) => `${spec.nodeId}@127.0.0.1:${controllerPort(spec)}`).join(',');
    const nodes = specs.map((spec, index): NodeProcess => {
      const nodeDir = path.join(dir, `node-${spec.nodeId}`);
      fs.mkdirSync(nodeDir, { recursive: true });
      const isBroker = spec.roles.includes('broker');
      const isController = spec.roles.includes('controller');
      const clientPort = ports[index * 2] as number;
      const listeners = [isBroker ? `PLAINTEXT://127.0.0.1:${clientPort}` : '', isController ? `CONTROLLER://127.0.0.1:${controllerPort(spec)}` : ''].filter((l) => l !== '');
      const lines = [
        `process.roles=${spec.roles.join(',')}`,
        `node.id=${spec.nodeId}`,
        `controller.quorum.voters=${voters}`,
        `listeners=${listeners.join(',')}`,
        'controller.listener.names=CONTROLLER',
        ...(isBroker ? ['inter.broker.listener.name=PLAINTEXT'] : []),
        `log.dirs=${path.join(nodeDir, 'data')}`,
        ...Object.entries(extra).map(([key, value]) => `${key}=${value}`),
      ];
      const propertiesFile = path.join(nodeDir, 'server.properties');
      fs.writeFileSync(propertiesFile, `${lines.join('\n')}\n`);
      return {
        nodeId: spec.nodeId,
        roles: [...spec.roles],
        clientAddress: isBroker ? `127.0.0.1:${clientPort}` : undefined,
        controllerAddress: isController ? `127.0.0.1:${controllerPort(spec)}` : undefined,
        propertiesFile,
        dataDir: path.join(nodeDir, 'data'),
        child: null,
        printed: () => '',
      };
    });
    return new NodeProcesses(dir, nodes);
  }

  node(nodeId: number): NodeProcess {
    const node = this.nodes.find((candidate) => candidate.nodeId === nodeId);
    if (node === undefined) throw new Error(`no node ${nodeId}`);
    return node;
  }

  /** Spawns the node's process; `ready()` waits for its banner. */
  spawn(nodeId: number): NodeProcess {
    const node = this.node(nodeId);
    if (node.child !== null && node.child.exitCode === null && node.child.signalCode === null) throw new Error(`node ${nodeId} is running`);
    const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, bin, 'serve', '--config', node.propertiesFile, '--http-port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_VERBOSE: '' } });
    this.outputs.set(nodeId, '');
    const append = (chunk: unknown) => this.outputs.set(nodeId, (this.outputs.get(nodeId) ?? '') + String(chunk));
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    this.exits.set(nodeId, new Promise((resolve) => child.once('exit', () => resolve())));
    node.child = child;
    node.printed = () => this.outputs.get(nodeId) ?? '';
    return node;
  }

  /** Starts every node at once (a combined node is ready only once a majority of the voters runs) and waits for all. */
  async startAll(): Promise<void> {
    for (const node of this.nodes) this.spawn(node.nodeId);
    await Promise.all(this.nodes.map((node) => this.ready(node.nodeId)));
  }

  /** Resolves once the node printed its whole banner; rejects if it exits first or takes longer than READY_MS. */
  async ready(nodeId: number): Promise<void> {
    const node = this.node(nodeId);
    const deadline = Date.now() + READY_MS;
    while (!node.printed().includes('Press Ctrl-C to stop.')) {
      if (node.child === null || node.child.exitCode !== null || node.child.signalCode !== null) throw new Error(`node ${nodeId} exited before it was ready:\n${node.printed()}`);
      if (Date.now() > deadline) throw new Error(`node ${nodeId} not ready after ${READY_MS} ms:\n${node.printed()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Sends `signal` to the node's process by its pid and, for SIGKILL/SIGTERM, waits until it has exited. */
  async kill(nodeId: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const node = this.node(nodeId);
    const child = node.child;
    if (child?.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    process.kill(child.pid, signal);
    if (signal === 'SIGKILL' || signal === 'SIGTERM') await this.exits.get(nodeId);
  }

  /**
   * Stops the node cleanly: SIGTERM by its pid (the node leaves gracefully: controlled shutdown,
   * logs flushed, high watermarks checkpointed) and waits for it to exit; resolves with its exit
   * code, rejects if it has not exited within `graceMs` (stopAll then SIGKILLs it).
   */
  async stop(nodeId: number, graceMs = 30_000): Promise<number | null> {
    const child = this.node(nodeId).child;
    if (child?.pid === undefined) throw new Error(`node ${nodeId} was never started`);
    if (child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`node ${nodeId} did not exit within ${graceMs} ms of SIGTERM:\n${this.node(nodeId).printed()}`)), graceMs);
    });
    try {
      await Promise.race([this.exits.get(nodeId), late]);
    } finally {
      clearTimeout(timer);
    }
    return child.exitCode;
  }

  /** SIGKILLs every process still running (by pid) and removes the files. For afterEach / finally. */
  async stopAll(): Promise<void> {
    for (const node of this.nodes) {
      const child = node.child;
      if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
        try {
          // A process the test stopped (SIGSTOP) is continued first, so nothing is left half-alive.
          process.kill(child.pid, 'SIGCONT');
          process.kill(child.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
    }
    await Promise.all([...this.exits.values()]);
    // GREGOR_KEEP_NODE_DIRS=1 keeps the nodes' data dirs and output for a look after the test.
    if (process.env.GREGOR_KEEP_NODE_DIRS === '1') {
      for (const node of this.nodes) fs.writeFileSync(path.join(path.dirname(node.dataDir), 'output.txt'), node.printed());
      console.log(`node dirs kept in ${this.dir}`);
      return;
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
