/**
 * One Gregor node (Kafka's KafkaRaftServer with its ControllerServer and BrokerServer): by its
 * `process.roles`, a controller (a voter of the metadata quorum, running the QuorumController,
 * active while it leads the quorum), a broker (a raft observer unless it is also a voter, running
 * the Broker driven by the metadata image), or both, the default.
 *
 *   raft client ── committed batches ──► metadata loader ──► controller.handleCommit / handleLoadSnapshot
 *        │                                     └──────────► broker.applyMetadata (image, delta)
 *        └── leader changes ──► controller.handleLeaderChange, broker.activeControllerId
 *   controller ── appends ──► RaftControllerLog ──► raft.append
 *   broker ── ControllerChannel ──► the active controller (raft's leader), BrokerNetwork ──► other brokers
 *   listeners: controller listener ──► raft and controller APIs; client listeners ──► security APIs ──► broker.handle
 *   security: the image's ACLs ──► the StandardAuthorizer; the image's SCRAM credentials ──► SASL listeners (node-security.ts)
 *              (DescribeQuorum on a client listener is forwarded to the active controller, as Kafka's brokers do)
 *
 * Open order: the data dir's identity (meta.properties, cluster id), the listeners (so peers that
 * know this node's address can reach it while it starts: their requests wait until the quorum
 * side is open), the raft client, the controller, the broker, the loader registered with raft
 * (which delivers what is already committed), then the broker's startup (registered with the
 * active controller and unfenced). `open` resolves once the broker is unfenced (a controller-only
 * node: once its raft client is open).
 *
 * Close order (graceful): the broker's controlled shutdown and close while the quorum still
 * serves (given up once the quorum has had no leader for a few seconds: when a whole cluster
 * stops, the last nodes have no controller left to answer), then the listeners, then the raft
 * client (a leader resigns, so the others elect at once), then the network. `kill()` stops everything at once, as a crash would (nothing flushed).
 *
 * Single-threaded: everything runs on the event loop; `close` and `kill` may be called once each.
 */
import {
  METADATA_TOPIC, METADATA_TOPIC_ID, PeerUnreachableError, QUORUM_API_KEYS, type QuorumConfig, type QuorumNetwork, RaftClient, type RaftLogger, type SimNetwork,
} from '@gregor/cluster';
import { type Body, releaseResponse } from '@gregor/client';
import type { Clock, FileSystem, TimerHandle } from '@gregor/log';
import {
  CONTROLLER_API_KEYS, type ConfigValidator, type ControllerConfig, type Endpoint, type LeaderAndEpoch, type MetadataDelta, type MetadataImage,
  type MetadataRecordInput, QuorumController,
} from '@gregor/metadata';
import { ApiKey, ErrorCode, servedApiVersions } from '@gregor/protocol';
import { type BoundAddress, type Logger, Server, type ServerConfig } from '@gregor/server';
import type { SaslCredentials } from '@gregor/client';
import {
  isSecurityProtocol, jaasClientCredentials, type ListenerSecurity, listenerSecurityFromProperties, parseJaasConfig, parseProtocolMap, type SecurityProtocol,
  StandardAuthorizer,
} from '@gregor/security';
import { readFileSync } from 'node:fs';
import { ControllerApis } from './controller-apis.js';
import { NodeControllerChannel } from './controller-channel.js';
import { NodeConfigError, NodeNetworkError } from './errors.js';
import { MetadataLoader } from './metadata-loader.js';
import { type ListenerHandler, NodeNetwork, type PeerAddress, type PeerTransport, SimPeerTransport, TcpPeerTransport } from './node-network.js';
import { loadOrFormatNode, type NodeIdentity, type QuorumVoterAddress } from './node-identity.js';
import { NodeSecurity } from './node-security.js';
import { RaftControllerLog } from './raft-controller-log.js';

export type ProcessRole = 'broker' | 'controller';

/** One listener of `listeners` (Kafka's `NAME://host:port`), with its `advertised.listeners` entry if any. */
export interface NodeListenerConfig {
  name: string;
  host: string;
  port: number;
  advertisedHost?: string;
  advertisedPort?: number;
  /** Its entry in `listener.security.protocol.map` (default PLAINTEXT). */
  securityProtocol?: SecurityProtocol;
}

/**
 * The node's security, with Kafka's settings: the listeners' TLS and SASL (`ssl.*`, `sasl.*`,
 * `listener.name.<listener>.*`, as a single broker reads them, docs/security.md), the broker's own
 * SASL credentials on a SASL inter-broker listener (`sasl.mechanism.inter.broker.protocol` and
 * the `username` / `password` of that listener's JAAS line), and the authorizer.
 */
export interface NodeSecurityConfig {
  /** Kafka's broker properties (only the security ones are read). */
  properties?: ReadonlyMap<string, string>;
  /** `authorizer.class.name` set: the StandardAuthorizer, with `super.users` and `allow.everyone.if.no.acl.found`. */
  authorizer?: { superUsers?: readonly string[]; allowEveryoneIfNoAclFound?: boolean };
  /** Reads keystores and truststores (default: the real file system). */
  readFile?: (filePath: string) => Buffer;
}

/** A voter of `controller.quorum.voters`; an in-process quorum of one needs no address. */
export interface QuorumVoter {
  nodeId: number;
  host?: string;
  port?: number;
}

/** What the node needs of its broker; `@gregor/broker`'s Broker is one. */
export interface NodeBroker extends ListenerHandler {
  applyMetadata(delta: MetadataDelta, image: MetadataImage): void;
  /** Registers with the active controller; resolves once unfenced. */
  startup(): Promise<void>;
  /**
   * Controlled shutdown (given up once `abandonControlledShutdown` resolves), then the logs are
   * flushed and closed.
   */
  close(options?: { abandonControlledShutdown?: Promise<void> }): Promise<void>;
  /** Stops at once, as a crash (nothing flushed). */
  kill(): void;
  setAdvertisedListener(host: string, port: number, listenerName?: string): void;
  /** The active controller's id, for Metadata and DescribeCluster. */
  activeControllerId: number;
}

/** What the node hands the broker it creates. */
export interface BrokerWiring {
  nodeId: number;
  clusterId: string;
  dir: string;
  /** To the active controller. */
  controller: { send(apiKey: number, apiVersion: number, body: Body): Promise<Body> };
  /** To other brokers by id (their inter-broker listener). */
  network: { send(brokerId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body>; release?(response: Body): void };
  /** The client listeners to register, as clients reach them (advertised), with their security protocols. */
  listeners: Endpoint[];
  /**
   * The authorizer the broker must decide with (`authorizer.class.name`; its ACLs follow the
   * metadata image); undefined: none. The broker made must hold this very one (`authorizer`), or
   * the node refuses to open.
   */
  authorizer?: StandardAuthorizer;
}

export type BrokerFactory = (wiring: BrokerWiring) => NodeBroker;

export interface NodeNetworkSettings {
  /** No answer from a peer in this long fails the request (default 5000 ms). */
  requestTimeoutMs?: number;
  connectionTimeoutMs?: number;
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** Retries of the controller channel: first wait, longest wait, and the bound on one request. */
  controllerRetryBackoffMs?: number;
  controllerRetryBackoffMaxMs?: number;
  controllerRequestTimeoutMs?: number;
}

export interface GregorNodeOptions {
  /** `node.id`. */
  nodeId: number;
  /** `process.roles` (default broker and controller). */
  processRoles?: readonly ProcessRole[];
  /** `controller.quorum.voters`. */
  voters: readonly QuorumVoter[];
  /** `listeners`; none: the node serves nothing over TCP until `listen()` (an embedded node). */
  listeners?: readonly NodeListenerConfig[];
  /** `controller.listener.names` (default CONTROLLER). */
  controllerListenerNames?: readonly string[];
  /** `inter.broker.listener.name` (default the first client listener). */
  interBrokerListenerName?: string;
  /** TLS, SASL and the authorizer; none: every listener PLAINTEXT, no authorizer. */
  security?: NodeSecurityConfig;
  /** `cluster.id` for a data dir not formatted yet (else derived from the voters; see node-identity.ts). */
  clusterId?: string;
  /** The data dir (`log.dirs`): meta.properties, the metadata log `__cluster_metadata-0`, the partitions. */
  dir: string;
  fs: FileSystem;
  clock: Clock;
  random: () => number;
  /** The quorum's settings (`controller.quorum.*`, `metadata.log.*`). */
  quorum?: Partial<QuorumConfig>;
  /** The controller's settings (`broker.session.timeout.ms`, `default.replication.factor`, ...). */
  controller?: Partial<Omit<ControllerConfig, 'nodeId' | 'clusterId'>>;
  /** Validates config changes for the controller (the broker's config table). */
  configValidator?: ConfigValidator;
  /** Records a new cluster starts with (a data dir adopted from before the metadata log). */
  bootstrapRecords?: readonly MetadataRecordInput[];
  /** Creates the broker of a node with the broker role. */
  createBroker?: BrokerFactory;
  /** TCP (default), or the simulation's network. */
  network?: 'tcp' | SimNetwork;
  networkSettings?: NodeNetworkSettings;
  server?: Partial<ServerConfig>;
  logger: Logger;
}

const DEFAULT_CONTROLLER_LISTENER = 'CONTROLLER';

/**
 * How long a closing node waits without a quorum leader before it gives up its controlled
 * shutdown, and how often it looks: longer than an ordinary election (Kafka's default election
 * timeout is 1 s, randomized up to 2 s), so a failover during the shutdown does not end it.
 */
const QUORUM_LOST_MS = 3000;
const QUORUM_CHECK_MS = 100;

export class GregorNode {
  readonly nodeId: number;
  readonly roles: ReadonlySet<ProcessRole>;
  readonly identity: NodeIdentity;
  readonly raft: RaftClient;
  readonly controller: QuorumController | null;
  readonly broker: NodeBroker | null;
  readonly loader: MetadataLoader;
  readonly network: NodeNetwork;
  /** The node's listeners (null for an embedded node until `listen`). */
  server: Server | null;
  private readonly controllerApis: ControllerApis;
  private readonly channel: NodeControllerChannel;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly serverConfig: Partial<ServerConfig> | undefined;
  private readonly brokerRouter: BrokerRouter;
  /** The node's ACLs, SCRAM credentials and authorizer, from the metadata image. */
  readonly security: NodeSecurity;
  private readonly simNetwork: SimNetwork | null;
  private state: 'open' | 'closing' | 'closed' = 'open';

  private constructor(parts: {
    options: GregorNodeOptions;
    identity: NodeIdentity;
    raft: RaftClient;
    controller: QuorumController | null;
    broker: NodeBroker | null;
    loader: MetadataLoader;
    network: NodeNetwork;
    server: Server | null;
    controllerApis: ControllerApis;
    channel: NodeControllerChannel;
    brokerRouter: BrokerRouter;
    security: NodeSecurity;
  }) {
    this.nodeId = parts.options.nodeId;
    this.roles = new Set(parts.options.processRoles ?? ['broker', 'controller']);
    this.identity = parts.identity;
    this.raft = parts.raft;
    this.controller = parts.controller;
    this.broker = parts.broker;
    this.loader = parts.loader;
    this.network = parts.network;
    this.server = parts.server;
    this.controllerApis = parts.controllerApis;
    this.channel = parts.channel;
    this.logger = parts.options.logger;
    this.clock = parts.options.clock;
    this.serverConfig = parts.options.server;
    this.brokerRouter = parts.brokerRouter;
    this.security = parts.security;
    this.simNetwork = parts.options.network !== undefined && parts.options.network !== 'tcp' ? parts.options.network : null;
  }

  /** Opens the node; resolves once it serves (a broker: registered and unfenced). */
  static async open(options: GregorNodeOptions): Promise<GregorNode> {
    const settings = validate(options);
    const identity = loadOrFormatNode({
      fs: options.fs,
      dir: options.dir,
      nodeId: options.nodeId,
      configuredClusterId: options.clusterId,
      voters: options.voters.filter((voter): voter is QuorumVoterAddress => voter.host !== undefined && voter.port !== undefined),
      random: options.random,
    });
    const voterAddresses = new Map<number, PeerAddress>();
    for (const voter of options.voters) if (voter.host !== undefined && voter.port !== undefined) voterAddresses.set(voter.nodeId, { host: voter.host, port: voter.port });
    const brokerRouter = new BrokerRouter();
    let broker: NodeBroker | null = null;
    let channelRef: NodeControllerChannel | null = null;
    const ns = options.networkSettings ?? {};
    const authorizer = options.security?.authorizer;
    const security = new NodeSecurity({
      clock: options.clock,
      controller: {
        send: (apiKey, apiVersion, body) => (channelRef === null ? Promise.reject(new NodeNetworkError('CONTROLLER_UNREACHABLE', 'the node is not open')) : channelRef.send(apiKey, apiVersion, body)),
      },
      authorizer: authorizer === undefined ? undefined : { superUsers: [...(authorizer.superUsers ?? [])], allowEveryoneIfNoAclFound: authorizer.allowEveryoneIfNoAclFound ?? false },
      waitTimeoutMs: ns.controllerRequestTimeoutMs ?? 30_000,
    });
    const controllerApis = new ControllerApis(security.authorizer);
    const network = new NodeNetwork(options.nodeId, peerTransport(options, voterAddresses, () => broker, settings));
    const simNetwork = options.network !== undefined && options.network !== 'tcp' ? options.network : null;
    let server: Server | null = null;
    let raft: RaftClient | null = null;
    try {
      // Listeners first: peers that know this node's address can reach it (their requests wait) while it opens.
      if (settings.listeners.length > 0) server = await bindListeners(options, settings, controllerApis, brokerRouter, security);
      if (simNetwork !== null) simNetwork.attach(options.nodeId, simHandler(controllerApis, brokerRouter));
      raft = await RaftClient.open({
        nodeId: options.nodeId,
        voters: options.voters.map((voter) => voter.nodeId),
        dir: options.dir,
        fs: options.fs,
        clock: options.clock,
        random: options.random,
        network: quorumNetwork(network),
        clusterId: identity.clusterId,
        config: options.quorum,
        logger: raftLogger(options.logger, options.nodeId),
      });
      const openRaft = raft;
      const controller = settings.roles.has('controller')
        ? new QuorumController({
            config: { ...options.controller, nodeId: options.nodeId, clusterId: identity.clusterId },
            log: new RaftControllerLog(openRaft),
            clock: options.clock,
            random: options.random,
            configValidator: options.configValidator ?? acceptAllConfigs,
            bootstrapRecords: options.bootstrapRecords,
          })
        : null;
      if (controller !== null) {
        controllerApis.attach({ raft: openRaft, controller });
        network.setLocalHandler('controller', controllerApis, settings.controllerListenerName);
      }
      const channel = new NodeControllerChannel({
        network,
        leaderId: () => openRaft.leaderAndEpoch.leaderId,
        clock: options.clock,
        random: options.random,
        retryBackoffMs: ns.controllerRetryBackoffMs ?? 50,
        retryBackoffMaxMs: ns.controllerRetryBackoffMaxMs ?? 1000,
        timeoutMs: ns.controllerRequestTimeoutMs ?? 30_000,
      });
      channelRef = channel;
      if (settings.roles.has('broker')) {
        const factory = options.createBroker;
        if (factory === undefined) throw new NodeConfigError('process.roles', 'a node with the broker role needs a broker (createBroker)');
        broker = factory({
          nodeId: options.nodeId,
          clusterId: identity.clusterId,
          dir: options.dir,
          controller: channel,
          network: { send: (brokerId, apiKey, apiVersion, body) => network.send('broker', brokerId, apiKey, apiVersion, body), release: releaseResponse },
          listeners: clientEndpoints(settings, server),
          authorizer: security.authorizer,
        });
        if (security.authorizer !== undefined && (broker as { authorizer?: unknown }).authorizer !== security.authorizer) {
          throw new NodeConfigError('authorizer.class.name', 'the broker made by createBroker does not decide with the node\'s authorizer (pass wiring.authorizer to it)');
        }
        const created = broker;
        const secured = security.wrap({ handle: async (apiKey, apiVersion, body, context) => created.handle(apiKey, apiVersion, body, context) });
        brokerRouter.attach({
          handle: (apiKey, apiVersion, body, context) => secured.handle(apiKey, apiVersion, body, context),
          setAdvertisedListener: (host, port, name) => created.setAdvertisedListener(host, port, name),
        }, channel);
        network.setLocalHandler('broker', broker, settings.interBrokerListenerName);
      }
      const loader = new MetadataLoader({ raft: openRaft, clock: options.clock, controller: controller ?? undefined, logger: raftLogger(options.logger, options.nodeId) });
      loader.onLeaderChange(() => channel.leaderChanged());
      const openBroker = broker;
      // Before the broker: a batch that grants an ACL is decided with from the moment the broker applies it.
      loader.addPublisher((_delta, image) => security.publish(image));
      if (openBroker !== null) {
        loader.addPublisher((delta, image) => openBroker.applyMetadata(delta, image));
        loader.onLeaderChange((leader: LeaderAndEpoch) => {
          openBroker.activeControllerId = leader.leaderId;
        });
      }
      const node = new GregorNode({ options, identity, raft: openRaft, controller, broker, loader, network, server, controllerApis, channel, brokerRouter, security });
      openRaft.register(loader);
      if (openBroker !== null) {
        await openBroker.startup();
        brokerRouter.startServing();
      }
      return node;
    } catch (error) {
      security.close();
      controllerApis.detach(error as Error);
      brokerRouter.detach(error as Error);
      broker?.kill();
      raft?.kill();
      simNetwork?.detach(options.nodeId);
      await server?.close();
      await network.close();
      throw error;
    }
  }

  /** The cluster id (`meta.properties`). */
  get clusterId(): string {
    return this.identity.clusterId;
  }

  /** The quorum's leader as this node knows it: the active controller. */
  get leaderAndEpoch(): LeaderAndEpoch {
    return this.raft.leaderAndEpoch;
  }

  /** The metadata image the broker (and the loader) last published. */
  get image(): MetadataImage {
    return this.loader.image;
  }

  /** Where a listener is bound (undefined: not listening). */
  listenerAddress(name: string): BoundAddress | undefined {
    return this.server?.listenerAddress(name);
  }

  /**
   * Adds a client listener to a node that has none (an embedded node that starts serving Kafka's
   * protocol): the broker answers it and advertises its address.
   */
  async listen(listener: { name?: string; host?: string; port?: number; advertisedHost?: string; advertisedPort?: number; config?: Partial<ServerConfig>; logger?: Logger }): Promise<BoundAddress> {
    if (this.broker === null) throw new NodeConfigError('process.roles', 'only a broker serves clients');
    this.server ??= new Server({ broker: this.brokerRouter, config: { ...this.serverConfig, ...listener.config }, logger: listener.logger ?? this.logger });
    return this.server.listen({ name: listener.name ?? 'PLAINTEXT', host: listener.host, port: listener.port, advertisedHost: listener.advertisedHost, advertisedPort: listener.advertisedPort, handler: this.brokerRouter });
  }

  /**
   * Leaves gracefully: the broker's controlled shutdown (its leaderships move away while the
   * quorum still answers), its logs closed, the listeners closed (in-flight requests answered),
   * then the raft client (a leader resigns) and the network.
   */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'closing';
    const quorumLost = this.broker === null ? null : this.whenQuorumLost();
    try {
      await this.broker?.close({ abandonControlledShutdown: quorumLost?.promise });
    } finally {
      quorumLost?.cancel();
      await this.server?.close();
      this.security.close();
      this.channel.close();
      await this.raft.close();
      this.controllerApis.detach(new NodeNetworkError('NETWORK_CLOSED', `node ${this.nodeId} closed`));
      this.simNetwork?.detach(this.nodeId);
      await this.network.close();
      this.state = 'closed';
    }
  }

  /**
   * Resolves once the quorum has had no leader for `QUORUM_LOST_MS`: no controller can answer a
   * controlled shutdown any more (the other voters are gone, as when a whole cluster stops), so
   * the broker stops waiting for one and closes cleanly at once. An election in between (a
   * leader is known again) starts the wait over.
   */
  private whenQuorumLost(): { promise: Promise<void>; cancel: () => void } {
    let timer: TimerHandle | null = null;
    let leaderlessSince: number | null = null;
    const promise = new Promise<void>((resolve) => {
      const check = () => {
        const now = this.clock.now();
        if (this.raft.leaderAndEpoch.leaderId >= 0) leaderlessSince = null;
        else leaderlessSince ??= now;
        if (leaderlessSince !== null && now - leaderlessSince >= QUORUM_LOST_MS) {
          timer = null;
          resolve();
          return;
        }
        timer = this.clock.setTimeout(check, QUORUM_CHECK_MS);
      };
      check();
    });
    return {
      promise,
      cancel: () => {
        if (timer !== null) this.clock.clearTimeout(timer);
        timer = null;
      },
    };
  }

  /** Stops at once, as a crash: nothing flushed, nobody told; the listeners stop answering. */
  async kill(): Promise<void> {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.simNetwork?.detach(this.nodeId);
    this.raft.kill();
    this.broker?.kill();
    this.security.close();
    this.channel.close();
    this.controllerApis.detach(new NodeNetworkError('NETWORK_CLOSED', `node ${this.nodeId} was killed`));
    await this.server?.close({ graceMs: 0 });
    await this.network.close();
  }
}

// ---------------------------------------------------------------- settings

interface ResolvedSettings {
  roles: ReadonlySet<ProcessRole>;
  listeners: readonly NodeListenerConfig[];
  controllerListenerName: string;
  controllerListenerNames: ReadonlySet<string>;
  interBrokerListenerName: string;
  /** The broker's own SASL credentials on a SASL inter-broker listener (replica fetchers authenticate with them). */
  interBrokerSasl: SaslCredentials | undefined;
  /** The node's own SASL credentials on a SASL controller listener (the quorum and the controller channel authenticate with them). */
  controllerSasl: SaslCredentials | undefined;
}

/** Checks that the settings describe a node that can run; NodeConfigError names the setting at fault. */
function validate(options: GregorNodeOptions): ResolvedSettings {
  const roles = new Set<ProcessRole>(options.processRoles ?? ['broker', 'controller']);
  if (roles.size === 0) throw new NodeConfigError('process.roles', 'needs broker, controller or both');
  const voterIds = options.voters.map((voter) => voter.nodeId);
  if (voterIds.length === 0) throw new NodeConfigError('controller.quorum.voters', 'names no voter');
  if (new Set(voterIds).size !== voterIds.length) throw new NodeConfigError('controller.quorum.voters', 'names a node twice');
  if (roles.has('controller') && !voterIds.includes(options.nodeId)) {
    throw new NodeConfigError('controller.quorum.voters', `node ${options.nodeId} has the controller role but is not a voter`);
  }
  if (!roles.has('controller') && voterIds.includes(options.nodeId)) {
    throw new NodeConfigError('process.roles', `node ${options.nodeId} is a voter in controller.quorum.voters but not a controller`);
  }
  const listeners = options.listeners ?? [];
  const controllerListenerNames = new Set(options.controllerListenerNames ?? [DEFAULT_CONTROLLER_LISTENER]);
  const names = listeners.map((listener) => listener.name);
  if (new Set(names).size !== names.length) throw new NodeConfigError('listeners', 'names a listener twice');
  const inTcp = options.network === undefined || options.network === 'tcp';
  const remoteVoters = options.voters.filter((voter) => voter.nodeId !== options.nodeId);
  if (inTcp) {
    for (const voter of remoteVoters) {
      if (voter.host === undefined || voter.port === undefined) throw new NodeConfigError('controller.quorum.voters', `voter ${voter.nodeId} has no host:port`);
    }
    if (roles.has('controller') && remoteVoters.length > 0 && !names.some((name) => controllerListenerNames.has(name))) {
      throw new NodeConfigError('listeners', `a controller of a quorum of ${voterIds.length} needs a listener named in controller.listener.names (${[...controllerListenerNames].join(', ')})`);
    }
  }
  const clientListeners = listeners.filter((listener) => !controllerListenerNames.has(listener.name));
  if (!roles.has('broker') && clientListeners.length > 0) {
    throw new NodeConfigError('listeners', `a controller-only node serves no client listener (${clientListeners.map((listener) => listener.name).join(', ')})`);
  }
  const interBrokerListenerName = options.interBrokerListenerName ?? clientListeners[0]?.name ?? 'PLAINTEXT';
  if (options.interBrokerListenerName !== undefined && !clientListeners.some((listener) => listener.name === interBrokerListenerName) && listeners.length > 0) {
    throw new NodeConfigError('inter.broker.listener.name', `${interBrokerListenerName} is not one of the listeners`);
  }
  const controllerListenerName = names.find((name) => controllerListenerNames.has(name)) ?? [...controllerListenerNames][0] ?? DEFAULT_CONTROLLER_LISTENER;
  const properties = options.security?.properties ?? new Map<string, string>();
  const interBroker = listeners.find((listener) => listener.name === interBrokerListenerName);
  const interBrokerSasl = interBroker === undefined ? undefined : ownCredentials(interBroker.name, interBroker.securityProtocol ?? 'PLAINTEXT', properties, 'sasl.mechanism.inter.broker.protocol', 'inter-broker');
  // A broker-only node binds no controller listener: its protocol is the map's (the voters' listeners).
  const controllerListener = listeners.find((listener) => listener.name === controllerListenerName);
  const controllerProtocol = controllerListener?.securityProtocol ?? mappedProtocol(properties, controllerListenerName);
  const controllerSasl = ownCredentials(controllerListenerName, controllerProtocol, properties, 'sasl.mechanism.controller.protocol', 'controller');
  return { roles, listeners, controllerListenerName, controllerListenerNames, interBrokerListenerName, interBrokerSasl, controllerSasl };
}

/** A listener's protocol in `listener.security.protocol.map` (PLAINTEXT when it has no entry). */
function mappedProtocol(properties: ReadonlyMap<string, string>, listenerName: string): SecurityProtocol {
  const mapped = parseProtocolMap(properties.get('listener.security.protocol.map') ?? '')[listenerName];
  return mapped !== undefined && isSecurityProtocol(mapped) ? mapped : 'PLAINTEXT';
}

/**
 * The node's own credentials on the inter-broker or the controller listener, as Kafka takes them:
 * the mechanism from `mechanismKey` (`sasl.mechanism.inter.broker.protocol`,
 * `sasl.mechanism.controller.protocol`), the user and password from the listener's JAAS line for
 * that mechanism (`listener.name.<listener>.<mechanism>.sasl.jaas.config`, `username="..."
 * password="..."`). None on a PLAINTEXT listener. A TLS one is refused: the nodes' own
 * connections do not speak TLS yet.
 */
function ownCredentials(listenerName: string, protocol: SecurityProtocol, properties: ReadonlyMap<string, string>, mechanismKey: string, role: string): SaslCredentials | undefined {
  if (protocol === 'PLAINTEXT') return undefined;
  if (protocol !== 'SASL_PLAINTEXT') {
    throw new NodeConfigError('listener.security.protocol.map', `${role} listener ${listenerName} uses ${protocol}; Gregor's nodes reach each other's ${role} listeners over PLAINTEXT or SASL_PLAINTEXT (docs/security.md)`);
  }
  const mechanism = (properties.get(mechanismKey) ?? 'GSSAPI').trim().toUpperCase();
  if (mechanism !== 'PLAIN' && mechanism !== 'SCRAM-SHA-256' && mechanism !== 'SCRAM-SHA-512') {
    throw new NodeConfigError(mechanismKey, `${mechanism} is not served; set PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512 for the SASL_PLAINTEXT ${role} listener ${listenerName}`);
  }
  const prefix = `listener.name.${listenerName.toLowerCase()}.`;
  const key = `${mechanism.toLowerCase()}.sasl.jaas.config`;
  const jaas = properties.get(prefix + key) ?? properties.get(`${prefix}sasl.jaas.config`) ?? properties.get('sasl.jaas.config');
  if (jaas === undefined) throw new NodeConfigError(prefix + key, `the ${role} listener ${listenerName} needs the node's own username="..." password="..." in its JAAS line`);
  try {
    return { mechanism, ...jaasClientCredentials(parseJaasConfig(jaas)) };
  } catch (error) {
    throw new NodeConfigError(prefix + key, (error as Error).message);
  }
}

/** Kafka's SecurityProtocol ids, as endpoints carry them. */
const SECURITY_PROTOCOL_IDS: Readonly<Record<SecurityProtocol, number>> = { PLAINTEXT: 0, SSL: 1, SASL_PLAINTEXT: 2, SASL_SSL: 3 };

/** The client listeners' endpoints the broker registers (advertised address, the bound port for port 0). */
function clientEndpoints(settings: ResolvedSettings, server: Server | null): Endpoint[] {
  return settings.listeners
    .filter((listener) => !settings.controllerListenerNames.has(listener.name))
    .map((listener) => {
      const bound = server?.listenerAddress(listener.name);
      return {
        name: listener.name,
        host: listener.advertisedHost ?? (listener.host === '' || listener.host === '0.0.0.0' || listener.host === '::' ? '127.0.0.1' : listener.host),
        port: listener.advertisedPort ?? bound?.port ?? listener.port,
        securityProtocol: SECURITY_PROTOCOL_IDS[listener.securityProtocol ?? 'PLAINTEXT'],
      };
    });
}

async function bindListeners(options: GregorNodeOptions, settings: ResolvedSettings, controllerApis: ControllerApis, brokerRouter: BrokerRouter, security: NodeSecurity): Promise<Server> {
  const server = new Server({ broker: brokerRouter, config: options.server, logger: options.logger });
  try {
    for (const listener of settings.listeners) {
      const isController = settings.controllerListenerNames.has(listener.name);
      await server.listen({
        security: listenerSecurity(options, listener, security),
        name: listener.name,
        host: listener.host === '' ? '0.0.0.0' : listener.host,
        port: listener.port,
        handler: isController ? controllerApis : brokerRouter,
        advertisedHost: listener.advertisedHost,
        advertisedPort: listener.advertisedPort,
      });
    }
  } catch (error) {
    await server.close();
    throw error;
  }
  return server;
}

/** A listener's TLS and SASL from the node's properties; its SCRAM credentials are the image's. */
function listenerSecurity(options: GregorNodeOptions, listener: NodeListenerConfig, security: NodeSecurity): ListenerSecurity {
  const protocol = listener.securityProtocol ?? 'PLAINTEXT';
  if (protocol === 'PLAINTEXT') return { protocol };
  return listenerSecurityFromProperties(options.security?.properties ?? new Map(), listener.name, protocol, {
    readFile: options.security?.readFile ?? ((filePath) => readFileSync(filePath)),
    scramCredentials: security.scramCredentials,
  });
}

function peerTransport(options: GregorNodeOptions, voters: ReadonlyMap<number, PeerAddress>, broker: () => NodeBroker | null, resolved: ResolvedSettings): PeerTransport {
  const interBrokerListenerName = resolved.interBrokerListenerName;
  if (options.network !== undefined && options.network !== 'tcp') return new SimPeerTransport(options.network, options.nodeId);
  const settings = options.networkSettings ?? {};
  const quorumTimeoutMs = options.quorum?.controllerQuorumRequestTimeoutMs ?? 2000;
  return new TcpPeerTransport({
    clientId: `gregor-node-${options.nodeId}`,
    clock: options.clock,
    voterAddress: (voterId) => voters.get(voterId),
    brokerAddress: (brokerId) => brokerEndpoint(broker(), brokerId, interBrokerListenerName),
    requestTimeoutMs: settings.requestTimeoutMs ?? Math.max(5000, 2 * quorumTimeoutMs),
    connectionTimeoutMs: settings.connectionTimeoutMs ?? 1000,
    reconnectBackoffMs: settings.reconnectBackoffMs ?? 50,
    reconnectBackoffMaxMs: settings.reconnectBackoffMaxMs ?? 1000,
    brokerSasl: resolved.interBrokerSasl,
    voterSasl: resolved.controllerSasl,
  });
}

/** A broker's inter-broker endpoint, from the metadata image this node's broker holds. */
function brokerEndpoint(broker: NodeBroker | null, brokerId: number, listenerName: string): PeerAddress | undefined {
  const image = (broker as { image?: MetadataImage } | null)?.image;
  const endpoint = image?.brokers.get(brokerId)?.endpoints.find((candidate) => candidate.name === listenerName);
  return endpoint === undefined ? undefined : { host: endpoint.host, port: endpoint.port };
}

/** The quorum's network over the node's: any failure to get an answer is PeerUnreachableError, as raft expects. */
function quorumNetwork(network: NodeNetwork): QuorumNetwork {
  return {
    send: (destinationId, apiKey, apiVersion, body) =>
      network.send('quorum', destinationId, apiKey, apiVersion, body).catch((error: unknown) => {
        throw new PeerUnreachableError(destinationId, (error as Error).message);
      }),
  };
}

/**
 * The one handler a node has on the simulated network: quorum and controller APIs to the
 * controller side, everything else (and Fetch of any topic but `__cluster_metadata`) to the broker.
 */
function simHandler(controllerApis: ControllerApis, brokerRouter: BrokerRouter): (apiKey: number, apiVersion: number, body: Body) => Promise<Body> {
  return async (apiKey, apiVersion, body) => {
    const toQuorum = apiKey === ApiKey.Fetch ? isMetadataFetch(body) : QUORUM_API_KEYS.has(apiKey) || CONTROLLER_API_KEYS.has(apiKey);
    // The simulated network decodes every request from its bytes: nobody else holds them.
    const context = { clientId: 'simulated', clientHost: 'simulated', correlationId: 0, listenerName: toQuorum ? DEFAULT_CONTROLLER_LISTENER : 'PLAINTEXT', recordBytesOwned: true };
    return (toQuorum ? controllerApis : brokerRouter).handle(apiKey, apiVersion, body, context) as Promise<Body>;
  };
}

/** An ApiVersions answer that also lists DescribeQuorum (unless it is an error answer or lists it already). */
function withDescribeQuorum(response: Body): Body {
  const apiKeys = (response as { errorCode?: number; apiKeys?: { apiKey: number }[] } | null)?.apiKeys;
  if (response === null || response.errorCode !== ErrorCode.NONE || apiKeys === undefined || apiKeys.some((range) => range.apiKey === ApiKey.DescribeQuorum)) return response;
  return { ...response, apiKeys: [...apiKeys, ...DESCRIBE_QUORUM_VERSIONS].sort((a, b) => a.apiKey - b.apiKey) };
}

function isMetadataFetch(body: Body): boolean {
  const topics = (body as { topics?: { topic?: string; topicId?: string }[] }).topics ?? [];
  return topics.some((topic) => topic.topic === METADATA_TOPIC || topic.topicId === METADATA_TOPIC_ID);
}

function raftLogger(logger: Logger, nodeId: number): RaftLogger {
  return {
    info: (message, fields) => logger.info(`node ${nodeId}: ${message}`, fields),
    warn: (message, fields) => logger.warn(`node ${nodeId}: ${message}`, fields),
    error: (message, fields) => logger.error(`node ${nodeId}: ${message}`, fields),
  };
}

/** Accepts every config change: a node given no validator (tests of the quorum alone). */
const acceptAllConfigs: ConfigValidator = {
  validate: () => null,
  isList: () => false,
  defaultValue: () => null,
};

/** DescribeQuorum as this node serves it: forwarded to the active controller (what the protocol describes). */
const DESCRIBE_QUORUM_VERSIONS = servedApiVersions(new Set([ApiKey.DescribeQuorum]));

/** What the client listeners reach: the broker behind its security APIs. */
interface RoutedBroker extends ListenerHandler {
  setAdvertisedListener(host: string, port: number, listenerName?: string): void;
}

/**
 * The client listeners' handler: the broker once it serves, which is once it is registered and
 * unfenced (Kafka's BrokerServer enables request processing only then). A request that arrives
 * before (the listener is bound first) waits; one that arrives after a failed open fails. Until
 * unfenced the broker's partitions are what its local metadata log said before it stopped: a
 * restarted broker must not answer as a leader it no longer is (with a log that may have lost its
 * unflushed tail) before the controller has fenced its old incarnation and moved its leaderships.
 * DescribeQuorum is forwarded to the active controller, as Kafka's brokers do (its JSON lists the
 * broker listener), so `gregor cluster status --bootstrap-server` and kafka-metadata-quorum see
 * the quorum through any broker; ApiVersions advertises it.
 */
class BrokerRouter implements ListenerHandler {
  private broker: RoutedBroker | null = null;
  private serving = false;
  private controller: { send(apiKey: number, apiVersion: number, body: Body): Promise<Body> } | null = null;
  private readonly ready: Promise<RoutedBroker>;
  private resolveReady!: (broker: RoutedBroker) => void;
  private rejectReady!: (error: Error) => void;
  private readonly advertised: [string, number, string | undefined][] = [];

  constructor() {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
  }

  attach(broker: RoutedBroker, controller: { send(apiKey: number, apiVersion: number, body: Body): Promise<Body> }): void {
    this.broker = broker;
    this.controller = controller;
    for (const [host, port, name] of this.advertised.splice(0)) broker.setAdvertisedListener(host, port, name);
  }

  /** The broker is registered and unfenced: requests go to it from now on. */
  startServing(): void {
    if (this.broker === null) throw new Error('startServing before attach');
    this.serving = true;
    this.resolveReady(this.broker);
  }

  detach(reason: Error): void {
    this.rejectReady(reason);
  }

  async handle(apiKey: number, apiVersion: number, body: Body, context: Body): Promise<unknown> {
    const broker = this.serving && this.broker !== null ? this.broker : await this.ready;
    if (apiKey === ApiKey.DescribeQuorum && this.controller !== null) return this.controller.send(apiKey, apiVersion, body);
    const response = await broker.handle(apiKey, apiVersion, body, context);
    if (apiKey === ApiKey.ApiVersions && this.controller !== null) return withDescribeQuorum(response as Body);
    return response;
  }

  setAdvertisedListener(host: string, port: number, listenerName?: string): void {
    if (this.broker !== null) this.broker.setAdvertisedListener(host, port, listenerName);
    else this.advertised.push([host, port, listenerName]);
  }
}
