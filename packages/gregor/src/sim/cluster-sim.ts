/**
 * The deterministic simulation of a whole Gregor cluster in one process (issues 7 and 8): three
 * real GregorNodes (raft voter + QuorumController + Broker each), every one on its own
 * MemoryFileSystem and its own view of one FakeClock (NodeClock: pausable, stopped at a crash),
 * all on one SimNetwork (seeded delays, drops, partitions, reordering across connections, FIFO
 * within one; every message through the protocol's codecs). A topic with 3 partitions, replication
 * factor 3 and min.insync.replicas 2, and `__consumer_offsets` replicated 3 times; two idempotent
 * acks=all producers (sim-clients.ts) and three members of one consumer group
 * (sim-group-member.ts) drive the real protocol; the fault schedule (cluster-faults.ts) crashes,
 * restarts, partitions, isolates and pauses nodes, and the members themselves leave, crash and
 * pause now and then.
 *
 * The run: start the nodes, create the topic, produce, consume and inject faults for `chaosMs`;
 * heal everything (links back, pauses over, every node up); then every batch in flight must be
 * answered, every replica converge, and the group read every acknowledged record, each within
 * a bound. The ClusterChecker watches after every step and checks the end.
 *
 * Same seed, same run: every draw comes from the seed, every event is a timer of the one clock
 * run by the SimScheduler; the trace hashes to the same value (`traceHash`). `pnpm sim cluster
 * --seed N` replays seed N.
 */
import { Broker, type BrokerConfig, BrokerConfigView, controllerConfigValidator, partitionForGroup, resolveBrokerConfig } from '@gregor/broker';
import { SeededRandom, SIM_QUORUM_CONFIG, SimNetwork, SimScheduler, SimTrace } from '@gregor/cluster';
import { FakeClock, MemoryFileSystem } from '@gregor/log';
import type { MetadataImage } from '@gregor/metadata';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { decodeBatch, forEachBatch } from '@gregor/records';
import type { Logger } from '@gregor/server';
import { GregorNode } from '../node/node.js';
import { ClusterChecker, type PartitionKey, partitionKey } from './cluster-checker.js';
import { FaultSchedule, type FaultStats, type FaultTarget } from './cluster-faults.js';
import { NodeClock } from './node-clock.js';
import { type SimClientContext, SimProducer } from './sim-clients.js';
import { type Assignor, rangeAssignor, SimGroupMember } from './sim-group-member.js';

export interface ClusterSimOptions {
  seed: number;
  /** Simulated time with faults, produces and fetches. Default 20 s. */
  chaosMs?: number;
  /** Each phase after healing (answers, convergence, the consumer's catch-up) must end within this. Default 60 s. */
  boundMs?: number;
  /** Keep the trace lines (for debugging a seed). Default false. */
  keepTrace?: boolean;
  /**
   * Bugs a test injects to see the checker catch them (never set by `pnpm sim`): `broker` is
   * called with every Broker the run creates (before it serves), `assignor` replaces the group
   * leader's range assignment.
   */
  inject?: { broker?: (broker: Broker) => void; assignor?: Assignor };
}

export interface ClusterSimStats {
  simulatedMs: number;
  steps: number;
  acknowledgedRecords: number;
  producerRetries: number;
  consumedRecords: number;
  /** The group: successful SyncGroups, OffsetCommits acknowledged and refused, member leaves, crashes and pauses. */
  group: { syncs: number; commitsAcknowledged: number; commitsRefused: number; leaves: number; crashes: number; pauses: number };
  metadataRecords: number;
  highestEpoch: number;
  messages: number;
  faults: FaultStats;
}

export interface ClusterSimResult {
  seed: number;
  ok: boolean;
  violations: string[];
  traceHash: string;
  trace?: string[];
  stats: ClusterSimStats;
  /** The command that replays this run. */
  replay: string;
}

export const SIM_TOPIC = 'sim';
const PARTITIONS = 3;
const OFFSETS_TOPIC = '__consumer_offsets';
const OFFSETS_PARTITIONS = 3;
const NODE_IDS = [1, 2, 3] as const;
const DATA_DIR = '/data';

/** Kafka's settings, with the timeouts scaled down so a run sees many failovers in 20 s. */
const BROKER_SETTINGS: Partial<BrokerConfig> = {
  defaultReplicationFactor: 3,
  minInsyncReplicas: 2,
  offsetsTopicNumPartitions: OFFSETS_PARTITIONS,
  offsetsTopicReplicationFactor: 3,
  autoCreateTopicsEnable: false,
  groupInitialRebalanceDelayMs: 0,
  replicaLagTimeMaxMs: 4000,
  replicaFetchWaitMaxMs: 200,
  replicaFetchBackoffMs: 200,
  brokerHeartbeatIntervalMs: 500,
  brokerSessionTimeoutMs: 3000,
  requestTimeoutMs: 10_000,
  groupMinSessionTimeoutMs: 1000,
};

/** The group's members: Kafka's consumer settings, scaled down as the brokers' are. */
const GROUP_ID = 'sim-group';
const MEMBERS = 3;
const MEMBER_SETTINGS = { groupId: GROUP_ID, sessionTimeoutMs: 2000, rebalanceTimeoutMs: 3000, heartbeatIntervalMs: 300, commitIntervalMs: 300 };

/** The command that replays a run with these options. */
export function clusterReplayCommand(seed: number, options: Omit<ClusterSimOptions, 'seed'> = {}): string {
  const extra: string[] = [];
  if (options.chaosMs !== undefined) extra.push(`--chaos-ms ${options.chaosMs}`);
  return ['pnpm sim cluster --seed', String(seed), ...extra].join(' ');
}

type NodeState = 'down' | 'starting' | 'up' | 'closing';

class SimNode {
  state: NodeState = 'down';
  lifetime = 0;
  node: GregorNode | undefined;
  broker: Broker | undefined;
  clock: NodeClock | undefined;

  constructor(
    readonly id: number,
    readonly fs: MemoryFileSystem,
    readonly random: SeededRandom,
  ) {}

  get label(): string {
    return `node ${this.id} lifetime ${this.lifetime}`;
  }
}

/** A JSON text of an image's records, for comparing images. */
function imageText(image: MetadataImage): string {
  return JSON.stringify(image.toRecords(), (_key, value) => (typeof value === 'bigint' ? value.toString() : value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value));
}

/** A replica's records, offset → value (base64 of key and value for the internal topic). */
function readLog(broker: Broker, topic: string, partition: number): { records: Map<number, string>; highWatermark: number; logEndOffset: number } | undefined {
  const replica = broker.partition(topic, partition);
  if (replica === undefined) return undefined;
  const records = new Map<number, string>();
  const { records: bytes } = replica.log.read(replica.logStartOffset, { maxBytes: 64 << 20, minOneBatch: true });
  forEachBatch(bytes, (position) => {
    for (const record of decodeBatch(bytes, position).records()) {
      const value = topic === SIM_TOPIC ? (record.value?.toString() ?? '') : `${record.key?.toString('base64') ?? ''}/${record.value?.toString('base64') ?? ''}`;
      records.set(record.offset, value);
    }
  });
  return { records, highWatermark: replica.highWatermark, logEndOffset: replica.logEndOffset };
}

export async function runClusterSimulation(options: ClusterSimOptions): Promise<ClusterSimResult> {
  const seed = options.seed >>> 0;
  const chaosMs = options.chaosMs ?? 20_000;
  const boundMs = options.boundMs ?? 60_000;
  const random = new SeededRandom(seed);
  const clock = new FakeClock(1_700_000_000_000);
  const startMs = clock.now();
  const simTrace = new SimTrace(clock, options.keepTrace);
  const trace = simTrace.line;
  let scheduler: SimScheduler | undefined;
  const checker = new ClusterChecker(() => clock.now() - startMs, () => `seed ${seed} step ${scheduler?.steps ?? 0}`);
  scheduler = new SimScheduler(clock);
  const network = new SimNetwork({ clock, random: random.fork(), minDelayMs: 1, maxDelayMs: 8, trace });
  const nodes = NODE_IDS.map((id) => new SimNode(id, new MemoryFileSystem({ seed: random.int(1, 2 ** 31) }), random.fork()));
  const byId = (id: number) => nodes.find((node) => node.id === id) as SimNode;
  const resolvedBroker = resolveBrokerConfig(BROKER_SETTINGS);
  const configValidator = controllerConfigValidator(new BrokerConfigView(resolvedBroker, Object.freeze({ ...resolvedBroker })));

  const nodeLogger = (node: SimNode, lifetime: number): Logger => {
    const log = (level: string) => (message: string, fields?: Record<string, unknown>) => {
      trace(`node ${node.id} ${level} ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}`}`);
      // A live node logging an error is a defect; a killed one's leftover promises may fail on closed handles.
      if (level === 'error' && node.lifetime === lifetime && node.state === 'up') checker.violation(`node ${node.id} logged an error: ${message} ${JSON.stringify(fields ?? {})}`);
    };
    return { info: log('info'), warn: log('warn'), error: log('error') };
  };

  const start = (node: SimNode): void => {
    if (node.state !== 'down') return;
    node.state = 'starting';
    node.lifetime++;
    const lifetime = node.lifetime;
    const nodeClock = new NodeClock(clock);
    node.clock = nodeClock;
    let broker: Broker | undefined;
    const logger = nodeLogger(node, lifetime);
    trace(`node ${node.id} starting (lifetime ${lifetime})`);
    GregorNode.open({
      nodeId: node.id,
      processRoles: ['broker', 'controller'],
      voters: NODE_IDS.map((nodeId) => ({ nodeId })),
      clusterId: 'sim-cluster-id-000000',
      dir: DATA_DIR,
      fs: node.fs,
      clock: nodeClock,
      random: node.random.asFunction,
      quorum: SIM_QUORUM_CONFIG,
      controller: { brokerSessionTimeoutMs: BROKER_SETTINGS.brokerSessionTimeoutMs, defaultReplicationFactor: 3, minInsyncReplicas: BROKER_SETTINGS.minInsyncReplicas },
      configValidator,
      createBroker: (wiring) => {
        broker = Broker.create({
          dir: wiring.dir, fs: node.fs, clock: nodeClock, random: node.random.asFunction, config: { ...BROKER_SETTINGS, nodeId: node.id },
          controller: wiring.controller, network: wiring.network, clusterId: wiring.clusterId, logger,
          listeners: [{ name: 'PLAINTEXT', host: `node-${node.id}`, port: 9092, securityProtocol: 0 }],
        });
        options.inject?.broker?.(broker);
        return broker;
      },
      network,
      networkSettings: { controllerRetryBackoffMs: 50, controllerRetryBackoffMaxMs: 500, controllerRequestTimeoutMs: 10_000 },
      logger,
    }).then(
      (opened) => {
        if (node.lifetime !== lifetime || node.state !== 'starting') {
          void opened.kill();
          return;
        }
        node.node = opened;
        node.broker = broker;
        node.state = 'up';
        opened.raft.register(checker.metadataObserver(node.id));
        trace(`node ${node.id} up (lifetime ${lifetime})`);
      },
      (error: unknown) => {
        if (node.lifetime !== lifetime) return;
        checker.violation(`node ${node.id} failed to open: ${(error as Error).stack ?? error}`);
        nodeClock.stop();
        node.state = 'down';
      },
    );
  };

  const crash = (node: SimNode, powerLoss: boolean): void => {
    if (node.state !== 'up' || node.node === undefined) return;
    node.clock?.stop();
    void node.node.kill();
    const keepRandomPrefix = powerLoss && random.chance(0.7);
    const tearWrites = keepRandomPrefix && random.chance(0.5);
    node.fs.crash(powerLoss ? { keepRandomPrefix, tearWrites } : { processOnly: true });
    node.node = undefined;
    node.broker = undefined;
    node.state = 'down';
    trace(`node ${node.id} crashed (${powerLoss ? `power loss, keep prefix ${keepRandomPrefix}, torn ${tearWrites}` : 'process'})`);
  };

  const activeController = (): SimNode | undefined => {
    let best: SimNode | undefined;
    for (const node of nodes) {
      if (node.state !== 'up' || node.node?.controller?.isActive !== true) continue;
      if (best === undefined || node.node.raft.leaderAndEpoch.epoch > (best.node?.raft.leaderAndEpoch.epoch ?? -1)) best = node;
    }
    return best;
  };

  // The newest committed metadata any node has applied so far (one history: the highest offset is
  // the newest). Metadata once committed stays so, so a node that is closing or down still counts:
  // the nodes up may all be behind (seed 151033: the two nodes that knew the coordinator had moved
  // were closing, and the one up, still catching up, named itself, so its stale answer was taken
  // for the current coordinator's).
  let newestSeen: MetadataImage | undefined;
  const newestImage = (): MetadataImage | undefined => {
    for (const node of nodes) {
      const image = node.node?.image;
      if (image !== undefined && (newestSeen === undefined || image.offset > newestSeen.offset)) newestSeen = image;
    }
    return newestSeen;
  };

  const target: FaultTarget = {
    nodeIds: NODE_IDS,
    isUp: (id) => byId(id).state === 'up',
    isHealthy: () => {
      if (nodes.some((node) => node.state !== 'up' || node.clock?.isPaused === true)) return false;
      const image = activeController()?.node?.image;
      if (image === undefined) return false;
      if (NODE_IDS.some((id) => image.brokers.get(id)?.fenced !== false)) return false;
      for (const topic of image.topicsById.values()) for (const registration of topic.partitions.values()) if (registration.isr.length < registration.replicas.length) return false;
      return true;
    },
    crash: (id, powerLoss) => crash(byId(id), powerLoss),
    closeGracefully: (id, thenRestartAfterMs) => {
      const node = byId(id);
      const opened = node.node;
      if (node.state !== 'up' || opened === undefined) return;
      node.state = 'closing';
      trace(`node ${id} closing`);
      void opened.close().then(
        () => {
          if (node.node !== opened) return;
          node.clock?.stop();
          node.node = undefined;
          node.broker = undefined;
          node.state = 'down';
          trace(`node ${id} closed`);
          clock.setTimeout(() => start(node), thenRestartAfterMs);
        },
        (error: unknown) => checker.violation(`node ${id} failed to close: ${(error as Error).stack ?? error}`),
      );
    },
    restart: (id) => start(byId(id)),
    pause: (id) => {
      network.pause(id);
      byId(id).clock?.pause();
    },
    resume: (id) => {
      network.resume(id);
      byId(id).clock?.resume();
    },
    isPaused: (id) => byId(id).clock?.isPaused === true,
    activeControllerId: () => activeController()?.id,
    somePartitionLeader: (draw) => {
      const image = activeController()?.node?.image;
      const leader = image?.partition(SIM_TOPIC, draw.int(0, PARTITIONS - 1))?.leader;
      return leader !== undefined && leader >= 0 ? leader : undefined;
    },
  };

  // --- what is checked after every step -------------------------------------------------------------
  let nextLogSampleMs = 0;
  const sample = (): boolean => {
    for (const node of nodes) {
      const opened = node.node;
      if (node.state !== 'up' || opened === undefined) continue;
      const raft = opened.raft;
      if (raft.isLeader) checker.quorum.observeLeader(raft.leaderAndEpoch.epoch, node.id, `node ${node.id} is leader`);
      checker.quorum.observeHighWatermark(`${node.label} metadata`, raft.highWatermark);
      checker.observeImage(node.label, opened.image);
    }
    if (clock.now() >= nextLogSampleMs) {
      nextLogSampleMs = clock.now() + 500;
      for (const node of nodes) {
        if (node.state !== 'up' || node.broker === undefined) continue;
        for (let partition = 0; partition < PARTITIONS; partition++) {
          const key = partitionKey(SIM_TOPIC, partition);
          const log = readLog(node.broker, SIM_TOPIC, partition);
          if (log === undefined) continue;
          checker.quorum.observeHighWatermark(`${node.label} ${key}`, log.highWatermark);
          for (const [offset, value] of log.records) if (offset < log.highWatermark) checker.observeCommitted(node.label, key, offset, value);
        }
      }
    }
    return !checker.ok;
  };

  // --- clients -------------------------------------------------------------------------------------
  const clientContext: SimClientContext = {
    network, clock, checker, trace, topic: SIM_TOPIC, partitions: PARTITIONS, brokerIds: NODE_IDS, requestTimeoutMs: 5000,
    isLeader: (brokerId, topic, partition) => newestImage()?.partition(topic, partition)?.leader === brokerId,
    offsetsPartitionFor: (groupId) => partitionForGroup(groupId, OFFSETS_PARTITIONS),
  };
  const producers = [new SimProducer(101, 'p1', clientContext, random.fork()), new SimProducer(102, 'p2', clientContext, random.fork())];
  const members = Array.from({ length: MEMBERS }, (_, index) =>
    new SimGroupMember(201 + index, `member ${index + 1}`, clientContext, random.fork(), { ...MEMBER_SETTINGS, assignor: options.inject?.assignor ?? rangeAssignor }));
  const faults = new FaultSchedule(target, network, clock, random.fork(), trace);
  const adminRandom = random.fork();

  const createTopic = async (): Promise<boolean> => {
    try {
      const response = await network.request(301, adminRandom.pick(NODE_IDS), ApiKey.CreateTopics, 7, {
        topics: [{ name: SIM_TOPIC, numPartitions: PARTITIONS, replicationFactor: 3, assignments: [], configs: [{ name: 'min.insync.replicas', value: '2' }] }],
        timeoutMs: 5000,
        validateOnly: false,
      });
      const errorCode = response.topics[0].errorCode;
      trace(`create topic: ${errorCode}`);
      return errorCode === ErrorCode.NONE || errorCode === ErrorCode.TOPIC_ALREADY_EXISTS;
    } catch {
      return false;
    }
  };

  const allUp = () => nodes.every((node) => node.state === 'up');
  const converged = (): boolean => {
    if (!allUp()) return false;
    const images = nodes.map((node) => node.node?.image as MetadataImage);
    // The same records under different offsets is the same image: one loaded from a snapshot ending
    // in a control record is labelled with that record's offset, one replayed from the log with
    // its last metadata record's (seed 301).
    if (images.some((image) => image.offset !== images[0].offset && imageText(image) !== imageText(images[0]))) return false;
    for (const [topic, count] of [[SIM_TOPIC, PARTITIONS], [OFFSETS_TOPIC, OFFSETS_PARTITIONS]] as const) {
      for (let partition = 0; partition < count; partition++) {
        const registration = images[0].partition(topic, partition);
        if (registration === undefined) continue;
        if (registration.leader < 0 || registration.isr.length !== registration.replicas.length) return false;
        const replicas = registration.replicas.map((id) => byId(id).broker?.partition(topic, partition));
        if (replicas.some((replica) => replica === undefined)) return false;
        const end = replicas[0]?.logEndOffset;
        if (replicas.some((replica) => replica?.logEndOffset !== end || replica?.highWatermark !== end)) return false;
      }
    }
    return true;
  };

  try {
    for (const node of nodes) start(node);
    await scheduler.runFor(30_000, () => sample() || allUp());
    if (!allUp()) checker.violation(`the nodes did not all start within 30 s (${nodes.map((node) => `${node.id}:${node.state}`).join(' ')})`);
    let created = false;
    const createBy = clock.now() + 30_000;
    while (checker.ok && !created && clock.now() < createBy) {
      // The request runs on the simulated clock: the scheduler drives it to its answer.
      let answered: boolean | undefined;
      void createTopic().then((ok) => {
        answered = ok;
      });
      await scheduler.runFor(10_000, () => sample() || answered !== undefined);
      created = answered === true;
      if (!created) await scheduler.runFor(500, sample);
    }
    await scheduler.runFor(10_000, () => sample() || nodes.every((node) => node.node?.image.partition(SIM_TOPIC, PARTITIONS - 1)?.leader !== undefined));
    if (!created) checker.violation('the topic could not be created within 30 s');

    if (checker.ok) {
      for (const producer of producers) producer.start();
      for (const member of members) member.start();
      faults.start();
      await scheduler.runFor(chaosMs, sample);
    }

    // Heal: no more faults or new batches; every link back, every pause over, every node up.
    faults.stop();
    for (const producer of producers) producer.producing = false;
    for (const member of members) member.chaos = false;
    trace('heal');
    network.heal();
    network.setDropProbability(0);
    network.setDelay(1, 8, 0);
    for (const id of NODE_IDS) target.resume(id);
    for (let round = 0; round < 3 && checker.ok; round++) {
      await scheduler.runFor(3000, sample);
      for (const node of nodes) start(node);
    }

    // Batches still unanswered after the bound are reported last: what the logs show says more.
    let stuck = false;
    if (checker.ok) {
      await scheduler.runFor(boundMs, () => sample() || producers.every((producer) => producer.inFlight === 0));
      stuck = producers.some((producer) => producer.inFlight > 0);
      if (stuck) for (const producer of producers) producer.stopped = true;
    }
    if (checker.ok) {
      await scheduler.runFor(boundMs, () => sample() || converged());
      if (!converged()) {
        const image = newestImage();
        const partitions = [[SIM_TOPIC, PARTITIONS], [OFFSETS_TOPIC, OFFSETS_PARTITIONS]].flatMap(([topic, count]) =>
          Array.from({ length: count as number }, (_, partition) => {
            const registration = image?.partition(topic as string, partition);
            const replicas = nodes.map((node) => {
              const replica = node.broker?.partition(topic as string, partition);
              return `${node.id}:${replica === undefined ? '-' : `${replica.logEndOffset}/${replica.highWatermark}`}`;
            });
            return `${topic}-${partition} leader ${registration?.leader} isr ${registration?.isr.join(',')} leo/hw ${replicas.join(' ')}`;
          }));
        const states = `${nodes.map((node) => `${node.id}:${node.state}/image ${node.node?.image.offset}`).join(' ')}; ${partitions.join('; ')}`;
        checker.violation(`the replicas did not converge within ${boundMs} ms of healing (${states})`);
      }
    }
    if (checker.ok) {
      const highWatermark = (partition: number) => {
        const leader = nodes[0].node?.image.partition(SIM_TOPIC, partition)?.leader;
        return leader === undefined ? undefined : byId(leader).broker?.partition(SIM_TOPIC, partition)?.highWatermark;
      };
      const consumedUpTo = (partition: number) => checker.group.consumedUpTo(partitionKey(SIM_TOPIC, partition));
      const caughtUp = () => Array.from({ length: PARTITIONS }, (_, partition) => partition).every((partition) => {
        const hw = highWatermark(partition);
        return hw !== undefined && consumedUpTo(partition) >= hw;
      });
      await scheduler.runFor(boundMs, () => sample() || caughtUp());
      if (!caughtUp()) {
        const where = Array.from({ length: PARTITIONS }, (_, partition) => `${partitionKey(SIM_TOPIC, partition)} read up to ${consumedUpTo(partition)} of HW ${highWatermark(partition)}`);
        const owners = members.map((member) => `${member.name} ${member.isCrashed ? 'crashed' : `at ${[...member.assignment].map(([partition, offset]) => `${partition}:${offset}`).join(' ') || 'nothing'}`}`);
        checker.violation(`the group did not read up to the high watermarks within ${boundMs} ms (${where.join(', ')}; ${owners.join(', ')})`);
      }
      for (const member of members) member.running = false;
      // A commit the members had in flight lands now: the replicas converge once more.
      await scheduler.runFor(boundMs, () => sample() || converged());
      if (!converged()) checker.violation(`the replicas did not converge again within ${boundMs} ms of the group stopping`);
    }
    if (checker.ok) {
      const logs = new Map<PartitionKey, Map<number, { records: Map<number, string>; highWatermark: number; logEndOffset: number }>>();
      for (const [topic, count] of [[SIM_TOPIC, PARTITIONS], [OFFSETS_TOPIC, OFFSETS_PARTITIONS]] as const) {
        for (let partition = 0; partition < count; partition++) {
          const replicas = new Map<number, { records: Map<number, string>; highWatermark: number; logEndOffset: number }>();
          for (const node of nodes) {
            const log = node.broker === undefined ? undefined : readLog(node.broker, topic, partition);
            if (log !== undefined) replicas.set(node.id, log);
          }
          if (topic === SIM_TOPIC || replicas.size > 0) logs.set(partitionKey(topic, partition), replicas);
        }
      }
      const images = new Map(nodes.map((node) => [node.id, node.node === undefined ? '' : imageText(node.node.image)]));
      checker.checkFinal({ logs, consumed: checker.group.consumed, images });
    }
    if (stuck) checker.violation(`batches still unanswered ${boundMs} ms after healing: ${producers.map((producer) => producer.describeInFlight()).join('; ')}`);
  } catch (error) {
    checker.violation(`exception: ${(error as Error).stack ?? error}`);
  }
  for (const member of members) member.running = false;
  for (const producer of producers) producer.stopped = true;
  for (const node of nodes) {
    node.clock?.stop();
    void node.node?.kill();
  }
  const traceHash = simTrace.finish();
  const violations = [...checker.violations];
  return {
    seed,
    ok: violations.length === 0,
    violations,
    traceHash,
    trace: simTrace.lines,
    stats: {
      simulatedMs: clock.now() - startMs,
      steps: scheduler.steps,
      acknowledgedRecords: producers.reduce((sum, producer) => sum + producer.acknowledgedRecords, 0),
      producerRetries: producers.reduce((sum, producer) => sum + producer.retries, 0),
      consumedRecords: [...checker.group.consumed.values()].reduce((sum, values) => sum + values.size, 0),
      group: {
        syncs: members.reduce((sum, member) => sum + member.stats.syncs, 0),
        commitsAcknowledged: checker.group.acknowledgedCommits,
        commitsRefused: checker.group.refusedCommits,
        leaves: members.reduce((sum, member) => sum + member.stats.leaves, 0),
        crashes: members.reduce((sum, member) => sum + member.stats.crashes, 0),
        pauses: members.reduce((sum, member) => sum + member.stats.pauses, 0),
      },
      metadataRecords: checker.quorum.history.size,
      highestEpoch: Math.max(0, ...checker.quorum.leaders.keys()),
      messages: network.stats.sent,
      faults: faults.stats,
    },
    replay: clusterReplayCommand(seed, options),
  };
}
