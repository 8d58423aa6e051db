/**
 * A node of a cluster from Kafka's `server.properties` (KRaft mode): which settings make a node
 * part of a cluster (`isClusterNode`), and what they say about it (`clusterNodeSettings`):
 *
 *   process.roles                 broker, controller or both (required, as in Kafka's KRaft mode)
 *   node.id                       this node's id (required)
 *   controller.quorum.voters      id@host:port of every voter (the controllers' CONTROLLER listeners)
 *   controller.quorum.bootstrap.servers
 *                                 accepted beside the voters (Kafka 3.9's dynamic quorum is not
 *                                 supported: the voters are fixed, so they must be listed)
 *   listeners                     NAME://host:port, every listener this node binds
 *   advertised.listeners          how clients reach the client listeners (host empty: the bound one)
 *   controller.listener.names     which listeners serve the quorum and controller APIs (CONTROLLER)
 *   inter.broker.listener.name    which client listener the replica fetchers use (default: the
 *                                 listener named after security.inter.broker.protocol if there is
 *                                 one, else the first client listener)
 *   listener.security.protocol.map  each listener's protocol: PLAINTEXT, SSL, SASL_PLAINTEXT or
 *                                 SASL_SSL for client listeners (their TLS and SASL settings are the
 *                                 single broker's, docs/security.md); PLAINTEXT for the controller
 *                                 listeners; PLAINTEXT or SASL_PLAINTEXT for the inter-broker one
 *   log.dirs                      the data directory (one)
 * and the quorum's and the controller's settings under Kafka's names (`controller.quorum.*`,
 * `metadata.log.*`, `broker.session.timeout.ms`, `default.replication.factor`, ...), which the
 * single-broker path lists as ignored.
 *
 * The values arrive already checked against Kafka's definitions (`brokerConfigFromProperties`:
 * type, range, choices) as normalized strings; this module checks how they fit together and throws
 * NodeConfigError naming the setting at fault. Pure functions.
 */
import { type ClusterSettings, type Listener, singleNodeProblem } from '@gregor/broker';
import { isSecurityProtocol, type SecurityProtocol } from '@gregor/security';
import { type QuorumConfig, quorumConfigKeys } from '@gregor/cluster';
import type { ControllerConfig } from '@gregor/metadata';
import { NodeConfigError } from './errors.js';
import type { NodeListenerConfig, ProcessRole, QuorumVoter } from './node.js';

/** What a cluster node runs with, ready for `GregorNode.open` (plus what the caller injects). */
export interface ClusterNodeSettings {
  nodeId: number;
  processRoles: ProcessRole[];
  voters: Required<QuorumVoter>[];
  listeners: NodeListenerConfig[];
  controllerListenerNames: string[];
  interBrokerListenerName: string | undefined;
  quorum: Partial<QuorumConfig>;
  controller: Partial<Omit<ControllerConfig, 'nodeId' | 'clusterId'>>;
}

/** Overrides from the command line (`gregor serve --host/--port/--advertised-host`): they apply to the first client listener. */
export interface ClusterNodeFlags {
  host?: string;
  port?: number;
  advertisedHost?: string;
}

const DEFAULT_CONTROLLER_LISTENER = 'CONTROLLER';

/** The controller's settings under Kafka's names. */
const CONTROLLER_KEYS: Readonly<Record<string, keyof Omit<ControllerConfig, 'nodeId' | 'clusterId'>>> = {
  'broker.session.timeout.ms': 'brokerSessionTimeoutMs',
  'num.partitions': 'numPartitions',
  'default.replication.factor': 'defaultReplicationFactor',
  'unclean.leader.election.enable': 'uncleanLeaderElectionEnable',
  'unclean.leader.election.interval.ms': 'uncleanLeaderElectionIntervalMs',
  'min.insync.replicas': 'minInsyncReplicas',
  'eligible.leader.replicas.enable': 'eligibleLeaderReplicasEnable',
  'auto.leader.rebalance.enable': 'autoLeaderRebalanceEnable',
  'leader.imbalance.check.interval.seconds': 'leaderImbalanceCheckIntervalSeconds',
  'leader.imbalance.per.broker.percentage': 'leaderImbalancePerBrokerPercentage',
  'delete.topic.enable': 'deleteTopicEnable',
};

const BOOLEAN_CONTROLLER_FIELDS = new Set(['uncleanLeaderElectionEnable', 'autoLeaderRebalanceEnable', 'deleteTopicEnable', 'eligibleLeaderReplicasEnable']);

/** The quorum's settings under Kafka's names (the internal constants have none). */
const QUORUM_KEYS: ReadonlyMap<string, keyof QuorumConfig> = new Map(
  (Object.entries(quorumConfigKeys) as [keyof QuorumConfig, string][]).filter(([, key]) => !key.startsWith('(')).map(([field, key]) => [key, field]),
);

/** The Kafka settings a cluster node acts on beyond the broker's own (not to be reported as ignored). */
export const CLUSTER_NODE_KEYS: ReadonlySet<string> = new Set([...Object.keys(CONTROLLER_KEYS), ...QUORUM_KEYS.keys()]);

/**
 * True when the settings describe a node of a cluster of several nodes (several voters, a voter
 * that is not this node, or a node that is only a broker or only a controller); false for the one
 * combined node `gregor serve` has always run (Gregor.open, existing data dirs adopted).
 */
export function isClusterNode(cluster: ClusterSettings): boolean {
  return singleNodeProblem(cluster) !== null;
}

/**
 * The node's settings from the parsed cluster settings and every given property's normalized
 * value (`staticBrokerConfigs`). Throws NodeConfigError naming the setting that does not fit.
 */
export function clusterNodeSettings(cluster: ClusterSettings, values: Readonly<Record<string, string>>, flags: ClusterNodeFlags = {}): ClusterNodeSettings {
  if (cluster.processRoles.length === 0) throw new NodeConfigError('process.roles', 'must be set for a node of a cluster (broker, controller, or broker,controller)');
  const roles = [...new Set(cluster.processRoles)];
  const nodeId = cluster.nodeId;
  if (nodeId === undefined) throw new NodeConfigError('node.id', 'must be set for a node of a cluster');
  const voters = cluster.controllerQuorumVoters;
  if (voters.length === 0) {
    if (cluster.controllerQuorumBootstrapServers.length > 0) {
      throw new NodeConfigError('controller.quorum.voters', "must list the voters: Gregor's quorum has a fixed set of voters (Kafka's dynamic quorum, controller.quorum.bootstrap.servers alone, is not supported)");
    }
    throw new NodeConfigError('controller.quorum.voters', 'must list the controllers as id@host:port,...');
  }
  const controllerListenerNames = cluster.controllerListenerNames.length > 0 ? cluster.controllerListenerNames : [DEFAULT_CONTROLLER_LISTENER];
  const protocols = new Map<string, SecurityProtocol>();
  for (const listener of cluster.listeners) {
    const protocol = cluster.listenerSecurityProtocolMap[listener.name]?.toUpperCase() ?? (isSecurityProtocol(listener.name) ? listener.name : 'PLAINTEXT');
    if (!isSecurityProtocol(protocol)) throw new NodeConfigError('listener.security.protocol.map', `listener ${listener.name} maps to ${protocol}, not PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL`);
    protocols.set(listener.name, protocol);
  }
  const self = voters.find((voter) => voter.nodeId === nodeId);
  const clientListeners = cluster.listeners.filter((listener) => !controllerListenerNames.includes(listener.name));
  if (roles.includes('broker') && clientListeners.length === 0) throw new NodeConfigError('listeners', 'a broker needs a client listener (for example PLAINTEXT://127.0.0.1:9092)');
  const firstClient = clientListeners[0];
  const listeners = cluster.listeners.map((listener): NodeListenerConfig => {
    const securityProtocol = protocols.get(listener.name) ?? 'PLAINTEXT';
    if (controllerListenerNames.includes(listener.name)) {
      // A controller's own voter entry is where the others reach it: port 0 binds that port.
      const port = listener.port === 0 && self !== undefined ? self.port : listener.port;
      return { name: listener.name, host: listener.host, port, securityProtocol };
    }
    const advertised = advertisedFor(cluster.advertisedListeners, listener.name);
    const isFirst = listener === firstClient;
    return {
      name: listener.name,
      securityProtocol,
      host: isFirst && flags.host !== undefined ? flags.host : listener.host,
      port: isFirst && flags.port !== undefined ? flags.port : listener.port,
      ...(isFirst && flags.advertisedHost !== undefined
        ? { advertisedHost: flags.advertisedHost }
        : advertised === undefined
          ? {}
          : { ...(advertised.host === '' ? {} : { advertisedHost: advertised.host }), ...(isFirst && flags.port !== undefined ? {} : { advertisedPort: advertised.port }) }),
    };
  });
  return {
    nodeId,
    processRoles: roles,
    voters: voters.map((voter) => ({ nodeId: voter.nodeId, host: voter.host, port: voter.port })),
    listeners,
    controllerListenerNames,
    interBrokerListenerName: cluster.interBrokerListenerName ?? interBrokerByProtocol(clientListeners, values['security.inter.broker.protocol']),
    quorum: quorumSettings(values),
    controller: controllerSettings(values),
  };
}

/** Kafka's default inter-broker listener: the one named after `security.inter.broker.protocol`, when it is given and such a listener exists. */
function interBrokerByProtocol(clientListeners: readonly Listener[], protocol: string | undefined): string | undefined {
  if (protocol === undefined) return undefined;
  return clientListeners.some((listener) => listener.name === protocol) ? protocol : undefined;
}

function advertisedFor(advertised: readonly Listener[], name: string): Listener | undefined {
  return advertised.find((listener) => listener.name === name);
}

function quorumSettings(values: Readonly<Record<string, string>>): Partial<QuorumConfig> {
  const quorum: Partial<Record<keyof QuorumConfig, number>> = {};
  for (const [key, field] of QUORUM_KEYS) {
    const value = values[key];
    if (value !== undefined) quorum[field] = Number(value);
  }
  return quorum;
}

function controllerSettings(values: Readonly<Record<string, string>>): Partial<Omit<ControllerConfig, 'nodeId' | 'clusterId'>> {
  const controller: Record<string, number | boolean> = {};
  for (const [key, field] of Object.entries(CONTROLLER_KEYS)) {
    const value = values[key];
    if (value === undefined) continue;
    controller[field] = BOOLEAN_CONTROLLER_FIELDS.has(field) ? value === 'true' : Number(value);
  }
  return controller;
}
