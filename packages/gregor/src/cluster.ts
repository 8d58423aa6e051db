/**
 * `Gregor.openCluster({ nodes, dir })`: several brokers in this process, together a cluster as
 * `gregor cluster start` runs one in processes. Each node is a GregorNode with the broker and
 * controller roles (a voter of the metadata quorum, its QuorumController, a `Broker.create` wired
 * to it) on its own data dir `<dir>/node-<id>` (locked, as `Gregor.open` locks its dir), talking
 * to the others over real loopback TCP: a CONTROLLER listener (the quorum and the controller APIs)
 * and a PLAINTEXT listener (clients and the other brokers' replica fetchers), both on ports from
 * the OS. The voters must name each other's CONTROLLER port before any node starts, so those
 * ports are free ones below the OS's ephemeral range, released and bound by the node (see `freeLoopbackPorts`); a node
 * that restarts binds the same two ports again (the others know them).
 *
 * Reopening a dir reopens the same cluster (its nodes keep their data and cluster id; the ports
 * are new). The number of nodes is fixed by the first open (the quorum's voters are fixed).
 *
 * Clients (`producer()`, `consumer()`, `admin()`) are Gregor's TCP client bootstrapped from every
 * running node: they follow the cluster as Kafka's clients do (leaders, coordinators, failover).
 *
 * Not safe to call `stop` / `kill` / `restart` / `close` concurrently for the same node.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Broker, type BrokerConfig, BrokerConfigView, BrokerError, brokerConfigDefaults, controllerConfigValidator, resolveBrokerConfig } from '@gregor/broker';
import type { QuorumConfig } from '@gregor/cluster';
import { type Admin, Client, type ClusterOptions, type Consumer, type ConsumerOptions, type Producer, type ProducerOptions } from '@gregor/client';
import { nodeFileSystem, systemClock } from '@gregor/log';
import { CONTROLLER_CONFIG_DEFAULTS, type ControllerConfig } from '@gregor/metadata';
import { ErrorCode } from '@gregor/protocol';
import { type Logger, silentLogger } from '@gregor/server';
import { lockDataDir } from './data-dir-lock.js';
import { freeLoopbackPorts } from './node/free-ports.js';
import { GregorNode, type QuorumVoter } from './node/node.js';

/** The controller's settings (Kafka's names camelCased: `autoLeaderRebalanceEnable`, `leaderImbalanceCheckIntervalSeconds`, ...). */
export type ControllerSettings = Omit<ControllerConfig, 'nodeId' | 'clusterId'>;

/** Every setting a node of the cluster takes: the broker's and the controller's (a name both have applies to both). */
export type ClusterNodeConfig = Partial<BrokerConfig> & Partial<ControllerSettings>;

/**
 * Where an in-process cluster departs from Kafka's defaults: it is for tests and for learning on
 * one machine, so a failure is noticed in about 2 s instead of 9 s (`broker.session.timeout.ms`,
 * `broker.heartbeat.interval.ms`), a new group starts at once, `__consumer_offsets` has 3
 * partitions (not 50 logs on every node), followers long-poll for 100 ms, and the preferred leader
 * is restored 5 s after a node returns (Kafka checks every 300 s). Topics get min(3, nodes)
 * replicas. `config` overrides each; docs/decisions.md says why.
 */
export const CLUSTER_NODE_DEFAULTS: Readonly<ClusterNodeConfig> = Object.freeze({
  groupInitialRebalanceDelayMs: 0,
  offsetsTopicNumPartitions: 3,
  brokerHeartbeatIntervalMs: 250,
  brokerSessionTimeoutMs: 2000,
  replicaFetchWaitMaxMs: 100,
  leaderImbalanceCheckIntervalSeconds: 5,
});

/**
 * The quorum's timing in an in-process cluster: an election within about a second (Kafka's
 * election timeout is 1 s and its fetch timeout 2 s). `quorum` overrides it.
 */
export const CLUSTER_QUORUM_DEFAULTS: Readonly<Partial<QuorumConfig>> = Object.freeze({
  controllerQuorumElectionTimeoutMs: 300,
  controllerQuorumFetchTimeoutMs: 1000,
  controllerQuorumFetchMaxWaitMs: 100,
  controllerQuorumAppendLingerMs: 0,
});

export interface GregorClusterOptions {
  /** How many nodes (default 3); each is a broker and a voter of the controller quorum. A dir opened before keeps its count. */
  nodes?: number;
  /** The cluster's directory (default `./cluster`); node `id` keeps its data in `<dir>/node-<id>`. */
  dir?: string;
  /** Every node's broker and controller settings (Kafka's names camelCased), over CLUSTER_NODE_DEFAULTS. */
  config?: ClusterNodeConfig;
  /** The quorum's settings (`controller.quorum.*`, `metadata.log.*` camelCased), over CLUSTER_QUORUM_DEFAULTS. */
  quorum?: Partial<QuorumConfig>;
  /** The loopback address the nodes listen on (default 127.0.0.1). */
  host?: string;
  /** The client id of the clients the cluster hands out. */
  clientId?: string;
  /** The nodes' log (elections, fencing, warnings); default silent. */
  logger?: Logger;
}

/** One node's place in the cluster: its data dir and the ports it binds (the same on every restart). */
interface NodeSlot {
  nodeId: number;
  dir: string;
  controllerPort: number;
  clientPort: number;
  node: GregorNode | null;
  releaseLock: (() => void) | null;
}

export const NODE_DIR_PREFIX = 'node-';

export class GregorCluster {
  private readonly slots: ReadonlyMap<number, NodeSlot>;
  private readonly voters: readonly Required<QuorumVoter>[];
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private readonly admins = new Set<Admin>();
  private closing = false;

  private constructor(
    readonly dir: string,
    slots: NodeSlot[],
    private readonly host: string,
    private readonly options: GregorClusterOptions,
  ) {
    this.slots = new Map(slots.map((slot) => [slot.nodeId, slot]));
    this.voters = slots.map((slot) => ({ nodeId: slot.nodeId, host, port: slot.controllerPort }));
  }

  /** Opens every node at once; resolves once the quorum has a leader and every broker is registered and unfenced. */
  static async open(options: GregorClusterOptions = {}): Promise<GregorCluster> {
    const dir = path.resolve(options.dir ?? './cluster');
    const count = nodeCount(dir, options.nodes);
    const host = options.host ?? '127.0.0.1';
    const ports = await freeLoopbackPorts(host, count);
    const slots = Array.from({ length: count }, (_, index): NodeSlot => ({
      nodeId: index + 1,
      dir: path.join(dir, `${NODE_DIR_PREFIX}${index + 1}`),
      controllerPort: ports[index] as number,
      clientPort: 0,
      node: null,
      releaseLock: null,
    }));
    const cluster = new GregorCluster(dir, slots, host, options);
    try {
      await Promise.all(slots.map((slot) => cluster.openNode(slot)));
    } catch (error) {
      await cluster.killAll();
      throw error;
    }
    return cluster;
  }

  /** Every node's id (running or not): 1..nodes. */
  get nodeIds(): number[] {
    return [...this.slots.keys()];
  }

  /** The ids of the nodes running now. */
  get runningNodeIds(): number[] {
    return [...this.slots.values()].filter((slot) => slot.node !== null).map((slot) => slot.nodeId);
  }

  /** `host:port` of every running node's client listener: what kafkajs's `brokers` and kcat's `-b` take. */
  get bootstrapBrokers(): string[] {
    return this.runningNodeIds.map((id) => this.address(id));
  }

  /** The running node `id` (its broker, controller, raft client, image). */
  node(id: number): GregorNode {
    const node = this.slot(id).node;
    if (node === null) throw new BrokerError('NODE_NOT_RUNNING', `node ${id} is not running (restart(${id}) opens it again)`, ErrorCode.BROKER_NOT_AVAILABLE);
    return node;
  }

  /** `host:port` of node `id`'s client listener. */
  address(id: number): string {
    this.node(id);
    return `${this.host}:${this.slot(id).clientPort}`;
  }

  /** The id of the node whose controller is active (the quorum's leader), waiting for one up to `timeoutMs`. */
  async activeControllerId(timeoutMs = 30_000): Promise<number> {
    const find = () => [...this.slots.values()].find((slot) => slot.node?.controller?.isActive === true)?.nodeId;
    await waitUntil(() => find() !== undefined, timeoutMs, 'an active controller');
    return find() as number;
  }

  /** A producer over TCP (kafkajs's options), following the cluster's leaders. */
  producer(options: ProducerOptions & ClusterOptions = {}): Producer {
    return track(this.producers, this.client('producer()').producer(options));
  }

  /** A consumer of the group `groupId` (required) over TCP. */
  consumer(options: ConsumerOptions & ClusterOptions): Consumer {
    return track(this.consumers, this.client('consumer()').consumer(options));
  }

  admin(): Admin {
    return track(this.admins, this.client('admin()').admin());
  }

  /** Stops node `id` gracefully: its leaderships move away (controlled shutdown), its logs are flushed. */
  stop(id: number): Promise<void> {
    return this.takeDown(id, (node) => node.close());
  }

  /** Stops node `id` as a crash does: nothing flushed, nobody told. */
  kill(id: number): Promise<void> {
    return this.takeDown(id, (node) => node.kill());
  }

  private async takeDown(id: number, how: (node: GregorNode) => Promise<void>): Promise<void> {
    const slot = this.slot(id);
    const node = this.node(id);
    slot.node = null;
    try {
      await how(node);
    } finally {
      slot.releaseLock?.();
      slot.releaseLock = null;
    }
  }

  /** Opens the stopped or killed node `id` again on its data dir and ports; resolves once its broker is unfenced. */
  async restart(id: number): Promise<GregorNode> {
    const slot = this.slot(id);
    if (slot.node !== null) throw new BrokerError('NODE_RUNNING', `node ${id} is running (stop or kill it first)`);
    if (this.closing) throw closedError('restart()');
    return this.openNode(slot);
  }

  /** Disconnects the clients it handed out, then stops every node gracefully (all at once). */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    await Promise.allSettled([...this.consumers].map((consumer) => consumer.disconnect()));
    await Promise.allSettled([...this.producers].map((producer) => producer.disconnect()));
    await Promise.allSettled([...this.admins].map((admin) => admin.disconnect()));
    const results = await Promise.allSettled(this.runningNodeIds.map((id) => this.stop(id)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  }

  /** True once `close()` was called. */
  get closed(): boolean {
    return this.closing;
  }

  private client(call: string): Client {
    if (this.closing) throw closedError(call);
    const brokers = this.bootstrapBrokers;
    if (brokers.length === 0) throw new BrokerError('NODE_NOT_RUNNING', `${call}: no node of the cluster is running`, ErrorCode.BROKER_NOT_AVAILABLE);
    return new Client({ brokers, clientId: this.options.clientId ?? 'gregor-cluster' });
  }

  private slot(id: number): NodeSlot {
    const slot = this.slots.get(id);
    if (slot === undefined) throw new BrokerError('UNKNOWN_NODE', `the cluster has nodes ${this.nodeIds.join(', ')}, not ${id}`);
    return slot;
  }

  private async killAll(): Promise<void> {
    await Promise.allSettled(this.runningNodeIds.map((id) => this.kill(id)));
  }

  private async openNode(slot: NodeSlot): Promise<GregorNode> {
    const releaseLock = lockDataDir(slot.dir);
    try {
      const { broker, controller } = splitSettings({ ...CLUSTER_NODE_DEFAULTS, defaultReplicationFactor: Math.min(3, this.slots.size), ...definedSettings(this.options.config ?? {}) });
      const brokerSettings: Partial<BrokerConfig> = { ...broker, nodeId: slot.nodeId };
      const resolved = resolveBrokerConfig(brokerSettings);
      const logger = this.options.logger ?? silentLogger;
      const node = await GregorNode.open({
        nodeId: slot.nodeId,
        processRoles: ['broker', 'controller'],
        voters: this.voters,
        listeners: [{ name: 'PLAINTEXT', host: this.host, port: slot.clientPort }, { name: 'CONTROLLER', host: this.host, port: slot.controllerPort }],
        interBrokerListenerName: 'PLAINTEXT',
        dir: slot.dir,
        fs: nodeFileSystem,
        clock: systemClock,
        random: Math.random,
        quorum: { ...CLUSTER_QUORUM_DEFAULTS, ...this.options.quorum },
        controller,
        configValidator: controllerConfigValidator(new BrokerConfigView(resolved, Object.freeze({ ...resolved }))),
        createBroker: (wiring) =>
          Broker.create({
            dir: wiring.dir, fs: nodeFileSystem, clock: systemClock, random: Math.random, config: brokerSettings,
            controller: wiring.controller, network: wiring.network, listeners: wiring.listeners, clusterId: wiring.clusterId, logger,
          }),
        networkSettings: { controllerRetryBackoffMs: 20, controllerRetryBackoffMaxMs: 200 },
        logger,
      });
      slot.clientPort = node.listenerAddress('PLAINTEXT')?.port ?? slot.clientPort;
      slot.node = node;
      slot.releaseLock = releaseLock;
      return node;
    } catch (error) {
      releaseLock();
      throw error;
    }
  }
}

/** The number of nodes: the nodes of a dir opened before (a different `nodes` is an error), else `requested` (default 3). */
function nodeCount(dir: string, requested: number | undefined): number {
  const existing = fs.existsSync(dir) ? fs.readdirSync(dir).filter((name) => name.startsWith(NODE_DIR_PREFIX) && fs.existsSync(path.join(dir, name, 'meta.properties'))).length : 0;
  if (requested !== undefined && (!Number.isInteger(requested) || requested < 1 || requested > 64)) {
    throw new BrokerError('INVALID_CONFIG', `nodes must be an integer in [1, 64], not ${requested}`, ErrorCode.INVALID_CONFIG);
  }
  if (existing > 0 && requested !== undefined && requested !== existing) {
    throw new BrokerError('INCONSISTENT_CLUSTER', `${dir} holds a cluster of ${existing} nodes, not ${requested} (the controller quorum's voters are fixed)`, ErrorCode.INVALID_CONFIG);
  }
  return existing > 0 ? existing : (requested ?? 3);
}

const CONTROLLER_KEYS: ReadonlySet<string> = new Set(Object.keys(CONTROLLER_CONFIG_DEFAULTS));
const BROKER_KEYS: ReadonlySet<string> = new Set(Object.keys(brokerConfigDefaults));

/** Each setting to the side(s) that know it; an unknown name is an error naming it. */
function splitSettings(config: ClusterNodeConfig): { broker: Partial<BrokerConfig>; controller: Partial<ControllerSettings> } {
  const broker: Record<string, unknown> = {};
  const controller: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(config)) {
    const known = BROKER_KEYS.has(key) || CONTROLLER_KEYS.has(key);
    if (!known) throw new BrokerError('INVALID_CONFIG', `unknown setting ${key} (the broker's and the controller's settings, Kafka's names camelCased)`, ErrorCode.INVALID_CONFIG);
    if (BROKER_KEYS.has(key)) broker[key] = value;
    if (CONTROLLER_KEYS.has(key)) controller[key] = value;
  }
  return { broker: broker as Partial<BrokerConfig>, controller: controller as Partial<ControllerSettings> };
}

function definedSettings<T extends object>(settings: T): Partial<T> {
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== undefined)) as Partial<T>;
}

async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = systemClock.now() + timeoutMs;
  while (!condition()) {
    if (systemClock.now() > deadline) throw new BrokerError('REQUEST_TIMED_OUT', `no ${what} within ${timeoutMs} ms`, ErrorCode.REQUEST_TIMED_OUT);
    await new Promise<void>((resolve) => systemClock.setTimeout(resolve, 20));
  }
}

function closedError(call: string): BrokerError {
  return new BrokerError('BROKER_CLOSED', `${call} after close(): this cluster is closed; open its dir again with Gregor.openCluster()`, ErrorCode.BROKER_NOT_AVAILABLE);
}

function track<T>(set: Set<T>, item: T): T {
  set.add(item);
  return item;
}
