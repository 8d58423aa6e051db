/**
 * Broker settings under Kafka's names, as `server.properties` and `kafka-server-start.sh
 * --override key=value` give them, turned into a `BrokerConfig`: `brokerConfigFromProperties`.
 * Every key is checked against Kafka's broker config definitions (broker-config-table.ts: type,
 * range, choices, with Kafka's messages) and kept as its Kafka string in `staticBrokerConfigs`, so
 * DescribeConfigs reports exactly what was given. Then three kinds of key:
 *   - settings Gregor acts on (`brokerSettings`), converted into BrokerConfig fields;
 *   - the cluster settings (`process.roles`, `node.id`, `controller.quorum.voters`, `listeners`,
 *     ...), parsed into `ClusterSettings` and kept for the several-broker work; one node only for
 *     now (`singleNodeProblem`);
 *   - every other broker setting Kafka defines (`kafkaBrokerConfigNames`): accepted and listed as
 *     ignored, so a Kafka `server.properties` loads unchanged.
 * Anything else is an error naming the key. Pure functions.
 */
import { brokerConfigsByName, brokerConfigTable } from './broker-config-table.js';
import { type BrokerConfig, brokerConfigDefaults } from './config.js';
import { configNumber, ConfigValueError, normalizeConfigValue } from './config-types.js';
import { BrokerError } from './errors.js';
import { topicConfigsByName } from './topic-config-table.js';

/** Kafka's INVALID_CONFIG (40). */
const INVALID_CONFIG = 40;

/** A setting that is not one of Kafka's broker settings, or a value that does not parse or is out of range. */
export class BrokerConfigError extends BrokerError {
  constructor(
    code: 'UNKNOWN_CONFIG' | 'INVALID_CONFIG' | 'UNSUPPORTED_CONFIG',
    /** The setting's Kafka name. */
    readonly key: string,
    message: string,
  ) {
    super(code, message, INVALID_CONFIG);
    this.name = 'BrokerConfigError';
  }
}

/** How a Kafka broker setting Gregor acts on maps to a BrokerConfig field (its type and checks are Kafka's, from the table). */
export interface BrokerSetting {
  /** The BrokerConfig field it sets. */
  field: keyof BrokerConfig;
  /** Converts the parsed value to the field's unit (hours to ms...); a negative value stays -1 ("no limit"). */
  scale?: number;
  /**
   * Kafka's precedence among synonyms (`log.retention.ms` over `.minutes` over `.hours`): a
   * setting with a higher rank for the same field wins whatever the order of the keys.
   */
  rank?: number;
  /** A lower bound Gregor needs beyond Kafka's own check. */
  minimum?: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;

/** The Kafka broker settings Gregor acts on (or keeps for the cluster work), by Kafka's name. */
export const brokerSettings: Readonly<Record<string, BrokerSetting>> = {
  'node.id': { field: 'nodeId', minimum: 0 },
  'broker.id': { field: 'nodeId', rank: -1, minimum: 0 },
  'auto.create.topics.enable': { field: 'autoCreateTopicsEnable' },
  'num.partitions': { field: 'numPartitions' },
  'default.replication.factor': { field: 'defaultReplicationFactor', minimum: 1 },
  'offsets.topic.num.partitions': { field: 'offsetsTopicNumPartitions' },
  'offsets.topic.segment.bytes': { field: 'offsetsTopicSegmentBytes' },
  'offsets.topic.replication.factor': { field: 'offsetsTopicReplicationFactor' },
  'offset.metadata.max.bytes': { field: 'offsetMetadataMaxBytes', minimum: 0 },
  'offsets.retention.minutes': { field: 'offsetsRetentionMs', scale: MINUTE_MS },
  'offsets.retention.check.interval.ms': { field: 'offsetsRetentionCheckIntervalMs' },
  'replica.lag.time.max.ms': { field: 'replicaLagTimeMaxMs', minimum: 0 },
  'replica.fetch.wait.max.ms': { field: 'replicaFetchWaitMaxMs', minimum: 0 },
  'replica.fetch.max.bytes': { field: 'replicaFetchMaxBytes' },
  'replica.fetch.min.bytes': { field: 'replicaFetchMinBytes' },
  'replica.fetch.response.max.bytes': { field: 'replicaFetchResponseMaxBytes' },
  'replica.fetch.backoff.ms': { field: 'replicaFetchBackoffMs' },
  'replica.high.watermark.checkpoint.interval.ms': { field: 'replicaHighWatermarkCheckpointIntervalMs', minimum: 1 },
  'controlled.shutdown.enable': { field: 'controlledShutdownEnable' },
  'offsets.commit.timeout.ms': { field: 'offsetsCommitTimeoutMs' },
  'offsets.load.buffer.size': { field: 'offsetsLoadBufferSize' },
  'request.timeout.ms': { field: 'requestTimeoutMs', minimum: 0 },
  'unclean.leader.election.enable': { field: 'uncleanLeaderElectionEnable' },
  'broker.session.timeout.ms': { field: 'brokerSessionTimeoutMs', minimum: 1 },
  'broker.heartbeat.interval.ms': { field: 'brokerHeartbeatIntervalMs', minimum: 1 },
  'min.insync.replicas': { field: 'minInsyncReplicas' },
  'message.max.bytes': { field: 'messageMaxBytes' },
  'fetch.max.bytes': { field: 'fetchMaxBytes' },
  'group.min.session.timeout.ms': { field: 'groupMinSessionTimeoutMs', minimum: 0 },
  'group.max.session.timeout.ms': { field: 'groupMaxSessionTimeoutMs', minimum: 0 },
  'group.initial.rebalance.delay.ms': { field: 'groupInitialRebalanceDelayMs', minimum: 0 },
  'group.max.size': { field: 'groupMaxSize' },
  'delete.topic.enable': { field: 'deleteTopicEnable' },
  'producer.id.expiration.ms': { field: 'producerIdExpirationMs' },
  'producer.id.expiration.check.interval.ms': { field: 'producerIdExpirationCheckIntervalMs' },
  'log.segment.bytes': { field: 'logSegmentBytes' },
  'log.roll.ms': { field: 'logRollMs', rank: 1, minimum: 1 },
  'log.roll.hours': { field: 'logRollMs', scale: HOUR_MS },
  'log.roll.jitter.ms': { field: 'logRollJitterMs', rank: 1, minimum: 0 },
  'log.roll.jitter.hours': { field: 'logRollJitterMs', scale: HOUR_MS },
  'log.retention.ms': { field: 'logRetentionMs', rank: 2 },
  'log.retention.minutes': { field: 'logRetentionMs', scale: MINUTE_MS, rank: 1 },
  'log.retention.hours': { field: 'logRetentionMs', scale: HOUR_MS },
  'log.retention.bytes': { field: 'logRetentionBytes' },
  'log.retention.check.interval.ms': { field: 'logRetentionCheckIntervalMs' },
  'log.cleanup.policy': { field: 'logCleanupPolicy' },
  'log.index.interval.bytes': { field: 'logIndexIntervalBytes' },
  'log.index.size.max.bytes': { field: 'logIndexSizeMaxBytes' },
  'log.cleaner.delete.retention.ms': { field: 'logCleanerDeleteRetentionMs' },
  'log.cleaner.min.compaction.lag.ms': { field: 'logCleanerMinCompactionLagMs' },
  'log.cleaner.max.compaction.lag.ms': { field: 'logCleanerMaxCompactionLagMs' },
  'log.cleaner.min.cleanable.ratio': { field: 'logCleanerMinCleanableRatio' },
  'log.cleaner.backoff.ms': { field: 'logCleanerBackoffMs' },
  'log.flush.interval.messages': { field: 'logFlushIntervalMessages' },
  'log.flush.interval.ms': { field: 'logFlushIntervalMs', rank: 1, minimum: 0 },
  'log.flush.scheduler.interval.ms': { field: 'logFlushIntervalMs', minimum: 0 },
  'log.flush.offset.checkpoint.interval.ms': { field: 'logFlushOffsetCheckpointIntervalMs', minimum: 1 },
  'log.message.timestamp.type': { field: 'logMessageTimestampType' },
  'log.message.timestamp.difference.max.ms': { field: 'logMessageTimestampDifferenceMaxMs' },
  'log.message.timestamp.before.max.ms': { field: 'logMessageTimestampBeforeMaxMs' },
  'log.message.timestamp.after.max.ms': { field: 'logMessageTimestampAfterMaxMs' },
};

/** The settings that shape a cluster: parsed into ClusterSettings (node.id also sets BrokerConfig.nodeId). */
const CLUSTER_SETTING_NAMES = [
  'process.roles', 'node.id', 'controller.quorum.voters', 'controller.quorum.bootstrap.servers', 'listeners',
  'advertised.listeners', 'controller.listener.names', 'inter.broker.listener.name', 'listener.security.protocol.map',
] as const;

/**
 * Every broker setting Kafka defines, by name (broker-config-table.ts). Those not in
 * `brokerSettings` and not cluster settings have no effect in Gregor: accepted and reported.
 */
export const kafkaBrokerConfigNames: ReadonlySet<string> = new Set(brokerConfigTable.map((definition) => definition.name));

/** `NAME://host:port`; an empty host means every interface, as in Kafka. */
export interface Listener {
  name: string;
  host: string;
  port: number;
}

export interface QuorumVoter {
  nodeId: number;
  host: string;
  port: number;
}

/** What a Kafka properties file says about the cluster this node belongs to. */
export interface ClusterSettings {
  /** `process.roles`: empty when not set (Gregor runs one node that is broker and controller). */
  processRoles: ('broker' | 'controller')[];
  /** `node.id` (or `broker.id`), when set. */
  nodeId: number | undefined;
  /** `controller.quorum.voters`: `id@host:port,...`. */
  controllerQuorumVoters: QuorumVoter[];
  /** `controller.quorum.bootstrap.servers`: `host:port,...`. */
  controllerQuorumBootstrapServers: { host: string; port: number }[];
  listeners: Listener[];
  advertisedListeners: Listener[];
  controllerListenerNames: string[];
  interBrokerListenerName: string | undefined;
  /** `listener.security.protocol.map`: listener name to PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL. */
  listenerSecurityProtocolMap: Record<string, string>;
}

export interface BrokerConfigFromProperties {
  /** The settings given, as BrokerConfig fields (pass to `Broker.open({ config })`), with every key's Kafka string in `staticBrokerConfigs`. */
  config: Partial<BrokerConfig>;
  /** Kafka settings given that Gregor does not act on, in the order given. */
  ignored: string[];
  cluster: ClusterSettings;
}

/**
 * Turns Kafka-named broker settings into a BrokerConfig. Throws BrokerConfigError naming the first
 * key that is not a Kafka broker setting or whose value does not parse or is out of range.
 */
export function brokerConfigFromProperties(properties: ReadonlyMap<string, string> | Readonly<Record<string, string>>): BrokerConfigFromProperties {
  const entries = properties instanceof Map ? [...properties] : Object.entries(properties);
  const config: Partial<Record<keyof BrokerConfig, unknown>> = {};
  const ranks = new Map<keyof BrokerConfig, number>();
  const ignored: string[] = [];
  const staticBrokerConfigs: Record<string, string> = {};
  for (const [key, raw] of entries) {
    const listenerSetting = /^listener\.name\.[^.]+\.(.+)$/.exec(key);
    if (!kafkaBrokerConfigNames.has(key) && listenerSetting === null) throw unknownSetting(key);
    const value = normalizeBrokerSetting(listenerSetting === null ? key : (listenerSetting[1] as string), raw, key);
    staticBrokerConfigs[key] = value;
    const setting = brokerSettings[key];
    if (setting !== undefined) {
      const rank = setting.rank ?? 0;
      if ((ranks.get(setting.field) ?? Number.NEGATIVE_INFINITY) <= rank) {
        config[setting.field] = brokerSettingValue(key, value);
        ranks.set(setting.field, rank);
      }
    } else if (!(CLUSTER_SETTING_NAMES as readonly string[]).includes(key)) {
      ignored.push(key);
    }
  }
  if (entries.length > 0) config.staticBrokerConfigs = staticBrokerConfigs;
  return { config: config as Partial<BrokerConfig>, ignored, cluster: clusterSettings(new Map(entries)) };
}

/**
 * A broker setting's value as Kafka's ConfigDef parses it (`name` is the setting's definition,
 * `key` the name given, which differs for `listener.name.<listener>.` settings), checked against
 * Gregor's extra bounds; throws BrokerConfigError INVALID_CONFIG naming `key`.
 */
export function normalizeBrokerSetting(name: string, raw: string, key = name): string {
  const definition = brokerConfigsByName.get(name);
  if (definition === undefined) return raw.trim();
  let value: string;
  try {
    value = normalizeConfigValue(key, definition.type, raw, definition.validator);
  } catch (error) {
    if (error instanceof ConfigValueError) throw new BrokerConfigError('INVALID_CONFIG', key, error.message);
    throw error;
  }
  const minimum = brokerSettings[key]?.minimum;
  if (minimum !== undefined && configNumber(value) < minimum) throw new BrokerConfigError('INVALID_CONFIG', key, `Invalid value ${value} for configuration ${key}: Value must be at least ${minimum}`);
  return value;
}

/** The BrokerConfig field value of an acted-on setting, from its normalized Kafka string. */
export function brokerSettingValue(key: string, value: string): unknown {
  const setting = brokerSettings[key];
  const definition = brokerConfigsByName.get(key);
  if (setting === undefined || definition === undefined) throw new TypeError(`${key} is not a setting Gregor acts on`);
  switch (definition.type) {
    case 'boolean':
      return value === 'true';
    case 'short':
    case 'int':
    case 'long':
    case 'double': {
      const number = configNumber(value);
      if (setting.scale === undefined) return number;
      return number < 0 ? -1 : number * setting.scale;
    }
    default:
      return value;
  }
}

function unknownSetting(key: string): BrokerConfigError {
  const topicSynonym = topicConfigsByName.get(key)?.brokerSynonyms[0]?.name;
  const hint = topicSynonym !== undefined && topicSynonym !== key ? ` (${key} is a topic config; the broker's default is ${topicSynonym})` : '';
  return new BrokerConfigError('UNKNOWN_CONFIG', key, `unknown broker config '${key}'${hint}`);
}

/** Parses the cluster settings; throws BrokerConfigError for one that does not parse. */
export function clusterSettings(properties: ReadonlyMap<string, string>): ClusterSettings {
  const list = (key: string) => (properties.get(key) ?? '').split(',').map((item) => item.trim()).filter((item) => item !== '');
  const roles = list('process.roles');
  for (const role of roles) if (role !== 'broker' && role !== 'controller') throw new BrokerConfigError('INVALID_CONFIG', 'process.roles', `invalid value '${properties.get('process.roles')}' for process.roles: each role must be broker or controller`);
  const nodeIdText = properties.get('node.id') ?? properties.get('broker.id');
  const securityMap: Record<string, string> = {};
  for (const item of list('listener.security.protocol.map')) {
    const [name, protocol] = item.split(':');
    if (name === undefined || protocol === undefined || name === '' || protocol === '') throw new BrokerConfigError('INVALID_CONFIG', 'listener.security.protocol.map', `invalid entry '${item}' in listener.security.protocol.map: expected NAME:PROTOCOL`);
    securityMap[name] = protocol;
  }
  return {
    processRoles: roles as ('broker' | 'controller')[],
    nodeId: nodeIdText === undefined ? undefined : Number(nodeIdText.trim()),
    controllerQuorumVoters: list('controller.quorum.voters').map((item) => parseVoter(item)),
    controllerQuorumBootstrapServers: list('controller.quorum.bootstrap.servers').map((item) => parseHostPort('controller.quorum.bootstrap.servers', item)),
    listeners: list('listeners').map((item) => parseListener('listeners', item)),
    advertisedListeners: list('advertised.listeners').map((item) => parseListener('advertised.listeners', item)),
    controllerListenerNames: list('controller.listener.names'),
    interBrokerListenerName: properties.get('inter.broker.listener.name')?.trim() || undefined,
    listenerSecurityProtocolMap: securityMap,
  };
}

function parseListener(key: string, item: string): Listener {
  const match = /^([A-Za-z0-9_]+):\/\/(.*)$/.exec(item);
  if (match === null) throw new BrokerConfigError('INVALID_CONFIG', key, `invalid listener '${item}' in ${key}: expected NAME://host:port`);
  return { name: match[1] as string, ...parseHostPort(key, match[2] as string, true) };
}

function parseVoter(item: string): QuorumVoter {
  const match = /^(\d+)@(.+)$/.exec(item);
  if (match === null) throw new BrokerConfigError('INVALID_CONFIG', 'controller.quorum.voters', `invalid voter '${item}' in controller.quorum.voters: expected id@host:port`);
  return { nodeId: Number(match[1]), ...parseHostPort('controller.quorum.voters', match[2] as string) };
}

function parseHostPort(key: string, text: string, hostMayBeEmpty = false): { host: string; port: number } {
  const at = text.lastIndexOf(':');
  const host = at < 0 ? '' : text.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(text.slice(at + 1));
  if (at < 0 || (!hostMayBeEmpty && host === '') || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new BrokerConfigError('INVALID_CONFIG', key, `invalid address '${text}' in ${key}: expected host:port with a port from 0 to 65535`);
  }
  return { host, port };
}

/**
 * Why these settings describe more than the one node Gregor runs today, or null when they do not:
 * several voters, a voter other than this node, or a node that is only a broker or only a
 * controller.
 */
export function singleNodeProblem(cluster: ClusterSettings, nodeId = cluster.nodeId ?? brokerConfigDefaults.nodeId): string | null {
  const roles = cluster.processRoles;
  if (roles.length > 0 && !(roles.includes('broker') && roles.includes('controller'))) {
    return `process.roles=${roles.join(',')} needs other nodes; Gregor runs one node that is broker and controller (process.roles=broker,controller) for now`;
  }
  const voters = cluster.controllerQuorumVoters;
  if (voters.length > 1) return `controller.quorum.voters names ${voters.length} voters; Gregor runs a single node for now (one voter, this node)`;
  if (voters.length === 1 && voters[0]?.nodeId !== nodeId) return `controller.quorum.voters names node ${voters[0]?.nodeId}, but this is node ${nodeId}; Gregor runs a single node for now`;
  if (cluster.controllerQuorumBootstrapServers.length > 1) return `controller.quorum.bootstrap.servers names ${cluster.controllerQuorumBootstrapServers.length} controllers; Gregor runs a single node for now`;
  return null;
}
