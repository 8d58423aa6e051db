/**
 * The deterministic simulation of a controller quorum: voters and observers (RaftClients, each on
 * its own MemoryFileSystem) on a SimNetwork, one FakeClock, one seed. A workload appends unique
 * values through whichever node leads; a fault schedule crashes nodes (losing unsynced writes,
 * tearing the write in progress), restarts them, closes them gracefully, partitions the network
 * (both ways and one way), isolates the leader, drops and delays messages. Then everything heals
 * and the run must show liveness (a leader, and a new append committed within a bound) and
 * convergence (every node's committed log the same). `QuorumChecker` checks safety throughout.
 *
 * Same seed, same run: every draw comes from the seed, every event is a timer of the one clock,
 * and the trace of events hashes to the same value on every machine (`traceHash`).
 * `pnpm sim raft --seed N` replays seed N.
 */
import { type Clock, FakeClock, MemoryFileSystem } from '@gregor/log';
import { type QuorumConfig, resolveQuorumConfig } from '../raft/config.js';
import type { LeaderAndEpoch } from '../raft/errors.js';
import type { RaftListener } from '../raft/listeners.js';
import { RaftClient } from '../raft/raft-client.js';
import type { RaftBatch } from '../raft/records.js';
import { SnapshotPolicy } from '../raft/snapshot-policy.js';
import type { SnapshotReader } from '../raft/snapshots.js';
import { QuorumChecker } from './checker.js';
import { SeededRandom } from './random.js';
import { SimScheduler } from './scheduler.js';
import { SimNetwork } from './sim-network.js';
import { SimTrace } from './trace.js';

export interface RaftSimOptions {
  seed: number;
  /** Voters (default: 1, 3 or 5, drawn from the seed). */
  voters?: number;
  /** Observers (default: 0 to 2, drawn from the seed). */
  observers?: number;
  /** Simulated time with faults and appends. Default 20 s. */
  chaosMs?: number;
  /** After healing: a leader and a new commit within this. Default 30 s. */
  livenessBoundMs?: number;
  /** After the new commit: every node's committed log the same within this. Default 30 s. */
  convergenceBoundMs?: number;
  /** Encode every message with the protocol codecs. Default true. */
  encode?: boolean;
  /** Keep the trace lines (for debugging a seed). Default false. */
  keepTrace?: boolean;
  /**
   * A fault no consensus protocol survives, to show that the checker catches what it must: a
   * crashed node comes back with an empty disk (its votes and acknowledged records forgotten).
   * Default false.
   */
  wipeDiskOnCrash?: boolean;
}

export interface RaftSimResult {
  seed: number;
  ok: boolean;
  violations: string[];
  traceHash: string;
  trace?: string[];
  voters: number;
  observers: number;
  stats: {
    simulatedMs: number;
    steps: number;
    committedRecords: number;
    acknowledgedAppends: number;
    highestEpoch: number;
    crashes: number;
    snapshotsLoaded: number;
    messages: number;
  };
  /** The command that replays this run. */
  replay: string;
}

/** Quorum settings of the simulation: Kafka's timeouts, tiny segments, fetches and retention so snapshots and FetchSnapshot happen. */
export const SIM_QUORUM_CONFIG: Partial<QuorumConfig> = {
  controllerQuorumAppendLingerMs: 5,
  metadataLogMaxRecordBytesBetweenSnapshots: 3000,
  controllerQuorumFetchMaxBytes: 4096,
  controllerQuorumBatchMaxBytes: 2048,
  metadataLogSegmentBytes: 4096,
  metadataMaxRetentionBytes: 8192,
};

/** The state machine of one node lifetime: the committed values by offset, checked against the history. */
class SimStateMachine implements RaftListener {
  /** `offset:epoch:value` of every committed data record, in offset order. */
  entries: string[] = [];
  lastOffset = -1;
  lastEpoch = 0;
  snapshotsLoaded = 0;
  client: RaftClient | undefined;
  private readonly policy: SnapshotPolicy;

  constructor(
    private readonly nodeId: number,
    private readonly checker: QuorumChecker,
    private readonly trace: (line: string) => void,
    clock: Clock,
  ) {
    this.policy = new SnapshotPolicy(resolveQuorumConfig(SIM_QUORUM_CONFIG), clock);
  }

  handleLoadSnapshot(reader: SnapshotReader): void {
    this.entries = [...reader.values()].map((value) => value.toString());
    for (const entry of this.entries) {
      const [offset, epoch, value] = entry.split(':');
      this.checker.observeCommit(this.nodeId, Number(offset), { value, epoch: Number(epoch) });
    }
    this.lastOffset = reader.lastContainedOffset;
    this.lastEpoch = reader.snapshotId.epoch;
    this.policy.onSnapshot();
    this.snapshotsLoaded++;
    this.trace(`node ${this.nodeId} loaded snapshot ${reader.snapshotId.endOffset}-${reader.snapshotId.epoch}`);
  }

  handleCommit(batches: RaftBatch[]): void {
    for (const batch of batches) {
      if (batch.baseOffset !== this.lastOffset + 1) this.checker.violation(`node ${this.nodeId} was given batch ${batch.baseOffset}-${batch.lastOffset} after offset ${this.lastOffset}`);
      if (batch.control) {
        for (const record of batch.controlRecords) {
          this.checker.observeCommit(this.nodeId, batch.baseOffset, { value: `<control:${record.type}>`, epoch: batch.epoch });
          if (record.type === 'LeaderChange') this.checker.observeLeader(batch.epoch, record.leaderId, `LeaderChange record at ${batch.baseOffset}`);
        }
      }
      batch.records.forEach((value, index) => {
        const offset = batch.baseOffset + index;
        this.checker.observeCommit(this.nodeId, offset, { value: value.toString(), epoch: batch.epoch });
        this.entries.push(`${offset}:${batch.epoch}:${value.toString()}`);
      });
      this.lastOffset = batch.lastOffset;
      this.lastEpoch = batch.epoch;
      this.policy.onCommit(batch);
    }
    this.trace(`node ${this.nodeId} committed to ${this.lastOffset}`);
    this.maybeSnapshot();
  }

  handleLeaderChange(leader: LeaderAndEpoch): void {
    this.trace(`node ${this.nodeId} leader ${leader.leaderId} epoch ${leader.epoch}`);
  }

  private maybeSnapshot(): void {
    const client = this.client;
    if (!client || client.isClosed || !this.policy.isDue || this.lastOffset < 0) return;
    const writer = client.createSnapshot(this.lastOffset, this.lastEpoch);
    this.policy.onSnapshot();
    if (!writer) return;
    for (let index = 0; index < this.entries.length; index += 64) writer.append(this.entries.slice(index, index + 64).map((entry) => Buffer.from(entry)));
    writer.freeze();
    this.trace(`node ${this.nodeId} wrote snapshot ${writer.snapshotId.endOffset}-${writer.snapshotId.epoch}`);
  }
}

class SimNode {
  client: RaftClient | undefined;
  machine: SimStateMachine | undefined;
  lifetime = 0;
  /** Set while a graceful close is running. */
  closing = false;
  starting = false;

  constructor(
    readonly id: number,
    readonly fs: MemoryFileSystem,
    readonly random: SeededRandom,
  ) {}

  get isUp(): boolean {
    return this.client !== undefined && !this.client.isClosed;
  }
}

export async function runRaftSimulation(options: RaftSimOptions): Promise<RaftSimResult> {
  const seed = options.seed >>> 0;
  const random = new SeededRandom(seed);
  const shape = random.fork();
  const voterCount = options.voters ?? shape.pick([1, 3, 3, 3, 5, 5]);
  const observerCount = options.observers ?? shape.int(0, 2);
  const chaosMs = options.chaosMs ?? 20_000;
  const livenessBoundMs = options.livenessBoundMs ?? 30_000;
  const convergenceBoundMs = options.convergenceBoundMs ?? 30_000;
  const clock = new FakeClock(1_700_000_000_000);
  const startMs = clock.now();
  const scheduler = new SimScheduler(clock);
  const simTrace = new SimTrace(clock, options.keepTrace);
  const trace = simTrace.line;
  const checker = new QuorumChecker(() => clock.now() - startMs);
  const network = new SimNetwork({ clock, random: random.fork(), encode: options.encode !== false, minDelayMs: 1, maxDelayMs: 8, trace });
  const voters = Array.from({ length: voterCount }, (_, index) => index + 1);
  const nodeIds = Array.from({ length: voterCount + observerCount }, (_, index) => index + 1);
  const nodes = nodeIds.map((id) => new SimNode(id, new MemoryFileSystem({ seed: random.int(1, 2 ** 31) }), random.fork()));
  const faults = random.fork();
  const workload = random.fork();
  const stats = { crashes: 0, snapshotsLoaded: 0 };

  const start = async (node: SimNode) => {
    // One process per node: a restart scheduled by a fault and the healing may both come due.
    if (node.starting || node.closing || (node.client && !node.client.isClosed)) return;
    node.starting = true;
    node.lifetime++;
    const machine = new SimStateMachine(node.id, checker, trace, clock);
    node.machine = machine;
    try {
      const client = await RaftClient.open({
        nodeId: node.id,
        voters,
        dir: '/metadata',
        fs: node.fs,
        clock,
        random: node.random.asFunction,
        network: network.endpoint(node.id),
        clusterId: 'sim-cluster',
        config: SIM_QUORUM_CONFIG,
        onFatalError: (error) => checker.violation(`node ${node.id} broke an invariant: ${error.stack ?? error}`),
        logger: {
          info: (message, fields) => trace(`node ${node.id} info ${message} ${JSON.stringify(fields)}`),
          warn: (message, fields) => trace(`node ${node.id} warn ${message} ${JSON.stringify(fields)}`),
          error: (message, fields) => {
            trace(`node ${node.id} error ${message} ${JSON.stringify(fields)}`);
            checker.violation(`node ${node.id} logged an error: ${message} ${JSON.stringify(fields)}`);
          },
        },
      });
      node.client = client;
      machine.client = client;
      network.attach(node.id, (apiKey, apiVersion, body) => client.handle(apiKey as 1, apiVersion, body as never));
      client.register(machine);
      trace(`node ${node.id} started (lifetime ${node.lifetime}) as ${client.role} in epoch ${client.leaderAndEpoch.epoch}`);
    } catch (error) {
      checker.violation(`node ${node.id} failed to open: ${(error as Error).stack ?? error}`);
    } finally {
      node.starting = false;
    }
  };

  const crash = (node: SimNode) => {
    if (!node.client) return;
    node.client.kill();
    node.client = undefined;
    network.detach(node.id);
    const keepRandomPrefix = faults.chance(0.7);
    const tearWrites = keepRandomPrefix && faults.chance(0.5);
    node.fs.crash({ keepRandomPrefix, tearWrites });
    if (options.wipeDiskOnCrash) node.fs.rmdir('/metadata');
    stats.crashes++;
    if (node.machine) stats.snapshotsLoaded += node.machine.snapshotsLoaded;
    trace(`node ${node.id} crashed (keep prefix ${keepRandomPrefix}, torn ${tearWrites})`);
  };

  const closeGracefully = (node: SimNode, thenRestartAfterMs: number) => {
    const client = node.client;
    if (!client || node.closing) return;
    node.closing = true;
    trace(`node ${node.id} closing`);
    client.close().then(() => {
      node.closing = false;
      if (node.client !== client) return;
      node.client = undefined;
      network.detach(node.id);
      if (node.machine) stats.snapshotsLoaded += node.machine.snapshotsLoaded;
      trace(`node ${node.id} closed`);
      clock.setTimeout(() => void start(node), thenRestartAfterMs);
    });
  };

  const leaderNode = (): SimNode | undefined => {
    let best: SimNode | undefined;
    for (const node of nodes) {
      if (node.isUp && node.client?.isLeader && (!best || (node.client.leaderAndEpoch.epoch > (best.client?.leaderAndEpoch.epoch ?? -1)))) best = node;
    }
    return best;
  };

  // Sample roles and high watermarks after every step: one leader per epoch, monotonic HWs.
  const sample = () => {
    for (const node of nodes) {
      const client = node.client;
      if (!client || client.isClosed) continue;
      if (client.isLeader) checker.observeLeader(client.leaderAndEpoch.epoch, node.id, `node ${node.id} is leader`);
      checker.observeHighWatermark(`node ${node.id} lifetime ${node.lifetime}`, client.highWatermark);
    }
    return !checker.ok;
  };

  // --- the workload: unique values appended through the leader -------------------------------------
  let nextValue = 0;
  let proposing = true;
  let inFlight = 0;
  const propose = () => {
    if (!proposing) return;
    clock.setTimeout(propose, workload.int(5, 60));
    if (inFlight >= 8) return;
    const leader = leaderNode();
    if (!leader?.client) return;
    const values = Array.from({ length: workload.int(1, 3) }, () => `v${nextValue++}`);
    inFlight++;
    leader.client.append(values.map((value) => Buffer.from(value))).then(
      (lastOffset) => {
        inFlight--;
        trace(`ack ${values.join(',')} at ${lastOffset}`);
        checker.observeAcknowledged(lastOffset, values);
      },
      (error) => {
        inFlight--;
        trace(`append ${values.join(',')} failed: ${(error as { code?: string }).code}`);
      },
    );
  };

  // --- the fault schedule --------------------------------------------------------------------------
  let chaos = true;
  const injectFault = () => {
    if (!chaos) return;
    clock.setTimeout(injectFault, faults.int(200, 2500));
    const roll = faults.next();
    const node = faults.pick(nodes);
    if (roll < 0.25) {
      if (!node.isUp) return;
      crash(node);
      clock.setTimeout(() => void start(node), faults.int(50, 4000));
    } else if (roll < 0.35) {
      closeGracefully(node, faults.int(50, 2000));
    } else if (roll < 0.5) {
      const shuffled = faults.sample(nodeIds, nodeIds.length);
      const cutAt = faults.int(1, Math.max(1, nodeIds.length - 1));
      network.partition([shuffled.slice(0, cutAt), shuffled.slice(cutAt)]);
      clock.setTimeout(() => network.heal(), faults.int(300, 5000));
    } else if (roll < 0.6) {
      const leader = leaderNode();
      if (!leader) return;
      network.isolate(leader.id, nodeIds);
      clock.setTimeout(() => network.heal(), faults.int(500, 6000));
    } else if (roll < 0.7) {
      const [from, to] = faults.sample(nodeIds, 2);
      if (to === undefined) return;
      network.cut(from, to);
      clock.setTimeout(() => network.heal(), faults.int(300, 5000));
    } else if (roll < 0.75) {
      // A long pause (GC, SIGSTOP): late, not lost; often the leader.
      const paused = faults.chance(0.5) ? (leaderNode() ?? node) : node;
      if (!paused.isUp || network.isPaused(paused.id)) return;
      network.pause(paused.id);
      clock.setTimeout(() => network.resume(paused.id), faults.int(500, 8000));
    } else if (roll < 0.82) {
      network.setDropProbability(faults.pick([0, 0, 0.02, 0.1, 0.3]));
    } else if (roll < 0.9) {
      network.setDelay(1, faults.pick([5, 20, 100]), faults.pick([0, 0.01, 0.05]));
    }
  };

  let failure: unknown;
  try {
    for (const node of nodes) await start(node);
    clock.setTimeout(propose, 10);
    clock.setTimeout(injectFault, faults.int(100, 1000));
    await scheduler.runUntil(startMs + chaosMs, sample);

    // Heal: every node up, every link back, no more faults.
    chaos = false;
    trace('heal');
    network.heal();
    for (const node of nodes) network.resume(node.id);
    network.setDropProbability(0);
    network.setDelay(1, 8, 0);
    await scheduler.runFor(3000, sample);
    for (const node of nodes) if (!node.client && !node.closing) await start(node);
    await scheduler.runFor(3000, sample);
    for (const node of nodes) if (!node.client) await start(node);

    // Liveness: a leader, and a new append committed, within the bound.
    let probeOffset: number | undefined;
    const healedAt = clock.now();
    const probe = () => {
      if (probeOffset !== undefined) return;
      clock.setTimeout(probe, 200);
      const leader = leaderNode();
      leader?.client?.append([Buffer.from('probe')]).then(
        (offset) => {
          if (probeOffset === undefined) probeOffset = offset;
          checker.observeAcknowledged(offset, ['probe']);
        },
        () => {},
      );
    };
    proposing = false;
    probe();
    await scheduler.runUntil(healedAt + livenessBoundMs, () => sample() || probeOffset !== undefined);
    if (probeOffset === undefined) checker.violation(`no append committed within ${livenessBoundMs} ms of healing (leader: ${leaderNode()?.id ?? 'none'})`);

    // Convergence: every node's committed log the same as the leader's.
    const converged = () => {
      const leader = leaderNode();
      if (!leader?.client || probeOffset === undefined) return false;
      const target = leader.client.highWatermark;
      return nodes.every((node) => node.client && node.client.highWatermark === target && node.machine && node.machine.lastOffset === target - 1);
    };
    const convergeFrom = clock.now();
    await scheduler.runUntil(convergeFrom + convergenceBoundMs, () => sample() || converged());
    if (probeOffset !== undefined && !converged()) {
      const states = nodes.map((node) => `${node.id}:${node.client?.role ?? 'down'}/hw ${node.client?.highWatermark}/applied ${node.machine?.lastOffset}`).join(' ');
      checker.violation(`committed logs did not converge within ${convergenceBoundMs} ms: ${states}`);
    }
    if (converged()) {
      const reference = nodes[0].machine?.entries.join('|');
      for (const node of nodes) if (node.machine?.entries.join('|') !== reference) checker.violation(`node ${node.id}'s committed records differ from node ${nodes[0].id}'s`);
    }
    checker.checkAcknowledged();
  } catch (error) {
    failure = error;
    checker.violation(`exception: ${(error as Error).stack ?? error}`);
  }
  for (const node of nodes) {
    if (node.machine) stats.snapshotsLoaded += node.machine.snapshotsLoaded;
    node.client?.kill();
  }
  void failure;
  const traceHash = simTrace.finish();
  const violations = [...checker.violations];
  return {
    seed,
    ok: violations.length === 0,
    violations,
    traceHash,
    trace: simTrace.lines,
    voters: voterCount,
    observers: observerCount,
    stats: {
      simulatedMs: clock.now() - startMs,
      steps: scheduler.steps,
      committedRecords: checker.history.size,
      acknowledgedAppends: checker.acknowledged.size,
      highestEpoch: Math.max(0, ...checker.leaders.keys()),
      crashes: stats.crashes,
      snapshotsLoaded: stats.snapshotsLoaded,
      messages: network.stats.sent,
    },
    replay: replayCommand(seed, options),
  };
}

/** The one command that replays a run with these options. */
export function replayCommand(seed: number, options: Omit<RaftSimOptions, 'seed'> = {}): string {
  const extra: string[] = [];
  if (options.voters !== undefined) extra.push(`--voters ${options.voters}`);
  if (options.observers !== undefined) extra.push(`--observers ${options.observers}`);
  if (options.chaosMs !== undefined) extra.push(`--chaos-ms ${options.chaosMs}`);
  if (options.encode === false) extra.push('--no-encode');
  if (options.wipeDiskOnCrash) extra.push('--wipe-disk-on-crash');
  return ['pnpm sim raft --seed', String(seed), ...extra].join(' ');
}
