/**
 * A cluster of real nodes in this test process: each node a GregorNode with the broker and
 * controller roles (the raft quorum, the QuorumController, a Broker.create wired to the node), on
 * its own temporary data dir, the real file system and clock, talking over loopback TCP (a
 * CONTROLLER listener on a port fixed before the start, as the voters name it; a PLAINTEXT
 * listener on a port the OS hands out at each start). Cheaper than node processes (no build, no
 * spawn) and as real on the wire. `kill(id)` stops a node as a crash does; `restart(id)` opens it
 * again on the same data dir; `closeAll()` kills every node and removes the dirs (afterEach).
 */
import { Broker, type BrokerConfig, BrokerConfigView, controllerConfigValidator, resolveBrokerConfig } from '@gregor/broker';
import { nodeFileSystem, systemClock } from '@gregor/log';
import type { ControllerConfig } from '@gregor/metadata';
import { silentLogger, stderrLogger } from '@gregor/server';
import { GregorNode, type NodeListenerConfig, type NodeSecurityConfig } from '../../src/node/node.js';
import { freePorts, TempDirs, waitFor } from './support.js';

/** Shorter than Kafka's so an election takes about a second (the fetch wait well inside the fetch timeout). */
const FAST_QUORUM = { controllerQuorumElectionTimeoutMs: 300, controllerQuorumFetchTimeoutMs: 1000, controllerQuorumFetchMaxWaitMs: 100, controllerQuorumAppendLingerMs: 0 };

export interface InProcessClusterOptions {
  /** The brokers' settings (every node the same). */
  broker?: Partial<BrokerConfig>;
  /** `broker.session.timeout.ms`, `default.replication.factor`, ... */
  controller?: Partial<Omit<ControllerConfig, 'nodeId' | 'clusterId'>>;
  /** The client listeners, on ports the OS hands out (default one PLAINTEXT listener); CONTROLLER is added. */
  listeners?: Pick<NodeListenerConfig, 'name' | 'securityProtocol'>[];
  /** `inter.broker.listener.name` (default PLAINTEXT). */
  interBrokerListenerName?: string;
  /** The protocol of the CONTROLLER listener (default PLAINTEXT). */
  controllerSecurityProtocol?: 'PLAINTEXT' | 'SASL_PLAINTEXT';
  /** The listener `address(id)` names (default PLAINTEXT). */
  clientListener?: string;
  /** TLS, SASL and the authorizer of every node. */
  security?: NodeSecurityConfig;
}

export class InProcessCluster {
  readonly nodes = new Map<number, GregorNode>();
  private readonly dirs = new TempDirs();
  private readonly dataDirs = new Map<number, string>();

  private constructor(
    private readonly voters: { nodeId: number; host: string; port: number }[],
    private readonly options: InProcessClusterOptions,
  ) {}

  /** Opens nodes 1..count together (each waits for the quorum and its broker's unfencing). */
  static async start(count: number, options: InProcessClusterOptions = {}): Promise<InProcessCluster> {
    const ports = await freePorts(count);
    const cluster = new InProcessCluster(ports.map((port, index) => ({ nodeId: index + 1, host: '127.0.0.1', port })), options);
    try {
      await Promise.all(cluster.voters.map((voter) => cluster.open(voter.nodeId)));
    } catch (error) {
      await cluster.closeAll();
      throw error;
    }
    return cluster;
  }

  get nodeIds(): number[] {
    return this.voters.map((voter) => voter.nodeId);
  }

  node(id: number): GregorNode {
    const node = this.nodes.get(id);
    if (node === undefined) throw new Error(`node ${id} is not running`);
    return node;
  }

  /** `127.0.0.1:<port>` of node `id`'s client listener. */
  address(id: number): string {
    const bound = this.node(id).listenerAddress(this.options.clientListener ?? 'PLAINTEXT');
    if (bound === undefined) throw new Error(`node ${id} has no client listener`);
    return `127.0.0.1:${bound.port}`;
  }

  addresses(): string[] {
    return [...this.nodes.keys()].map((id) => this.address(id));
  }

  /** The node whose controller is active, once there is one. */
  async activeController(): Promise<GregorNode> {
    const find = () => [...this.nodes.values()].find((node) => node.controller?.isActive === true);
    await waitFor('an active controller', () => find() !== undefined);
    return find() as GregorNode;
  }

  /** Stops node `id` as a crash does (nothing flushed, nobody told). */
  async kill(id: number): Promise<void> {
    await this.node(id).kill();
    this.nodes.delete(id);
  }

  /** Opens node `id` again on its data dir; resolves once its broker is unfenced. */
  async restart(id: number): Promise<GregorNode> {
    if (this.nodes.has(id)) throw new Error(`node ${id} is running`);
    return this.open(id);
  }

  async closeAll(): Promise<void> {
    const running = [...this.nodes.values()];
    this.nodes.clear();
    await Promise.all(running.map((node) => node.kill()));
    await this.dirs.removeAll();
  }

  private async open(id: number): Promise<GregorNode> {
    const voter = this.voters.find((candidate) => candidate.nodeId === id);
    if (voter === undefined) throw new Error(`no node ${id}`);
    let dir = this.dataDirs.get(id);
    if (dir === undefined) {
      dir = await this.dirs.create(`gregor-node-${id}-`);
      this.dataDirs.set(id, dir);
    }
    const brokerSettings: Partial<BrokerConfig> = { groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 3, brokerHeartbeatIntervalMs: 250, brokerSessionTimeoutMs: 3000, replicaFetchWaitMaxMs: 100, ...this.options.broker, nodeId: id };
    const resolved = resolveBrokerConfig(brokerSettings);
    const logger = process.env.GREGOR_TEST_LOG ? stderrLogger : silentLogger;
    const node = await GregorNode.open({
      nodeId: id,
      processRoles: ['broker', 'controller'],
      voters: this.voters,
      listeners: [
        ...(this.options.listeners ?? [{ name: 'PLAINTEXT' }]).map((listener) => ({ ...listener, host: '127.0.0.1', port: 0 })),
        { name: 'CONTROLLER', host: '127.0.0.1', port: voter.port, securityProtocol: this.options.controllerSecurityProtocol },
      ],
      interBrokerListenerName: this.options.interBrokerListenerName ?? 'PLAINTEXT',
      security: this.options.security,
      dir,
      fs: nodeFileSystem,
      clock: systemClock,
      random: Math.random,
      quorum: FAST_QUORUM,
      controller: { brokerSessionTimeoutMs: 3000, ...this.options.controller },
      configValidator: controllerConfigValidator(new BrokerConfigView(resolved, Object.freeze({ ...resolved }))),
      createBroker: (wiring) =>
        Broker.create({
          dir: wiring.dir, fs: nodeFileSystem, clock: systemClock, random: Math.random, config: brokerSettings,
          controller: wiring.controller, network: wiring.network, listeners: wiring.listeners, clusterId: wiring.clusterId, logger, authorizer: wiring.authorizer,
        }),
      networkSettings: { controllerRetryBackoffMs: 20, controllerRetryBackoffMaxMs: 200 },
      logger,
    });
    this.nodes.set(id, node);
    return node;
  }
}
