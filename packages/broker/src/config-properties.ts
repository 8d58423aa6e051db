/**
 * Broker settings under Kafka's names, as `server.properties` and `kafka-server-start.sh
 * --override key=value` give them, turned into a `BrokerConfig`: `brokerConfigFromProperties`.
 * Three kinds of key:
 *   - settings Gregor acts on (`brokerSettings`), parsed and checked here (type, minimum, choices);
 *   - the cluster settings (`process.roles`, `node.id`, `controller.quorum.voters`, `listeners`,
 *     ...), parsed into `ClusterSettings` and kept for the several-broker work; one node only for
 *     now (`singleNodeProblem`);
 *   - every other broker setting Kafka defines (`kafkaBrokerConfigNames`): accepted and listed as
 *     ignored, so a Kafka `server.properties` loads unchanged.
 * Anything else is an error naming the key. Pure functions.
 */
import { type BrokerConfig, brokerConfigDefaults, topicConfigDefinitions } from './config.js';
import { BrokerError } from './errors.js';

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

type SettingType = 'int' | 'long' | 'boolean' | 'string' | 'list';

interface BrokerSetting {
  /** The BrokerConfig field it sets. */
  field: keyof BrokerConfig;
  type: SettingType;
  minimum?: number;
  valid?: readonly string[];
  /** Converts the parsed value to the field's unit (hours to ms...). */
  scale?: number;
  /**
   * Kafka's precedence among synonyms (`log.retention.ms` over `.minutes` over `.hours`): a
   * setting with a higher rank for the same field wins whatever the order of the keys.
   */
  rank?: number;
}

const HOUR_MS = 3_600_000;
const MINUTE_MS = 60_000;
const INT_MAX = 2_147_483_647;

/** The Kafka broker settings Gregor acts on, by Kafka's name. */
export const brokerSettings: Readonly<Record<string, BrokerSetting>> = {
  'node.id': { field: 'nodeId', type: 'int', minimum: 0 },
  'broker.id': { field: 'nodeId', type: 'int', minimum: 0, rank: -1 },
  'auto.create.topics.enable': { field: 'autoCreateTopicsEnable', type: 'boolean' },
  'num.partitions': { field: 'numPartitions', type: 'int', minimum: 1 },
  'default.replication.factor': { field: 'defaultReplicationFactor', type: 'int', minimum: 1 },
  'offsets.topic.num.partitions': { field: 'offsetsTopicNumPartitions', type: 'int', minimum: 1 },
  'offsets.topic.segment.bytes': { field: 'offsetsTopicSegmentBytes', type: 'int', minimum: 1 },
  'offset.metadata.max.bytes': { field: 'offsetMetadataMaxBytes', type: 'int', minimum: 0 },
  'offsets.retention.minutes': { field: 'offsetsRetentionMs', type: 'int', minimum: 1, scale: MINUTE_MS },
  'offsets.retention.check.interval.ms': { field: 'offsetsRetentionCheckIntervalMs', type: 'long', minimum: 1 },
  'replica.lag.time.max.ms': { field: 'replicaLagTimeMaxMs', type: 'long', minimum: 0 },
  'replica.fetch.wait.max.ms': { field: 'replicaFetchWaitMaxMs', type: 'int', minimum: 0 },
  'replica.fetch.min.bytes': { field: 'replicaFetchMinBytes', type: 'int', minimum: 0 },
  'replica.fetch.max.bytes': { field: 'replicaFetchMaxBytes', type: 'int', minimum: 0 },
  'replica.fetch.response.max.bytes': { field: 'replicaFetchResponseMaxBytes', type: 'int', minimum: 0 },
  'replica.fetch.backoff.ms': { field: 'replicaFetchBackoffMs', type: 'int', minimum: 0 },
  'replica.high.watermark.checkpoint.interval.ms': { field: 'replicaHighWatermarkCheckpointIntervalMs', type: 'long', minimum: 1 },
  'broker.heartbeat.interval.ms': { field: 'brokerHeartbeatIntervalMs', type: 'int', minimum: 1 },
  'broker.session.timeout.ms': { field: 'brokerSessionTimeoutMs', type: 'int', minimum: 1 },
  'controlled.shutdown.enable': { field: 'controlledShutdownEnable', type: 'boolean' },
  'request.timeout.ms': { field: 'requestTimeoutMs', type: 'int', minimum: 0 },
  'offsets.topic.replication.factor': { field: 'offsetsTopicReplicationFactor', type: 'int', minimum: 1 },
  'offsets.commit.timeout.ms': { field: 'offsetsCommitTimeoutMs', type: 'int', minimum: 1 },
  'min.insync.replicas': { field: 'minInsyncReplicas', type: 'int', minimum: 1 },
  'message.max.bytes': { field: 'messageMaxBytes', type: 'int', minimum: 0 },
  'fetch.max.bytes': { field: 'fetchMaxBytes', type: 'int', minimum: 1024 },
  'group.min.session.timeout.ms': { field: 'groupMinSessionTimeoutMs', type: 'int', minimum: 0 },
  'group.max.session.timeout.ms': { field: 'groupMaxSessionTimeoutMs', type: 'int', minimum: 0 },
  'group.initial.rebalance.delay.ms': { field: 'groupInitialRebalanceDelayMs', type: 'int', minimum: 0 },
  'group.max.size': { field: 'groupMaxSize', type: 'int', minimum: 1 },
  'delete.topic.enable': { field: 'deleteTopicEnable', type: 'boolean' },
  'producer.id.expiration.ms': { field: 'producerIdExpirationMs', type: 'int', minimum: 1 },
  'producer.id.expiration.check.interval.ms': { field: 'producerIdExpirationCheckIntervalMs', type: 'int', minimum: 1 },
  'log.segment.bytes': { field: 'logSegmentBytes', type: 'int', minimum: 14 },
  'log.roll.ms': { field: 'logRollMs', type: 'long', minimum: 1, rank: 1 },
  'log.roll.hours': { field: 'logRollMs', type: 'int', minimum: 1, scale: HOUR_MS },
  'log.retention.ms': { field: 'logRetentionMs', type: 'long', minimum: -1, rank: 2 },
  'log.retention.minutes': { field: 'logRetentionMs', type: 'int', minimum: -1, scale: MINUTE_MS, rank: 1 },
  'log.retention.hours': { field: 'logRetentionMs', type: 'int', minimum: -1, scale: HOUR_MS },
  'log.retention.bytes': { field: 'logRetentionBytes', type: 'long', minimum: -1 },
  'log.cleanup.policy': { field: 'logCleanupPolicy', type: 'list', valid: ['delete', 'compact'] },
  'log.index.interval.bytes': { field: 'logIndexIntervalBytes', type: 'int', minimum: 0 },
  'log.index.size.max.bytes': { field: 'logIndexSizeMaxBytes', type: 'int', minimum: 4 },
  'log.cleaner.delete.retention.ms': { field: 'logCleanerDeleteRetentionMs', type: 'long', minimum: 0 },
  'log.flush.interval.messages': { field: 'logFlushIntervalMessages', type: 'long', minimum: 1 },
  'log.flush.interval.ms': { field: 'logFlushIntervalMs', type: 'long', minimum: 0 },
  'log.message.timestamp.type': { field: 'logMessageTimestampType', type: 'string', valid: ['CreateTime', 'LogAppendTime'] },
};

/** The settings that shape a cluster: parsed into ClusterSettings (node.id also sets BrokerConfig.nodeId). */
const CLUSTER_SETTING_NAMES = [
  'process.roles', 'node.id', 'controller.quorum.voters', 'controller.quorum.bootstrap.servers', 'listeners',
  'advertised.listeners', 'controller.listener.names', 'inter.broker.listener.name', 'listener.security.protocol.map',
] as const;

/**
 * Every broker setting Kafka defines (its broker ConfigDef, Kafka 3.9), by name. Those not in
 * `brokerSettings` and not cluster settings have no effect in Gregor: accepted and reported.
 */
export const kafkaBrokerConfigNames: ReadonlySet<string> = new Set([
  'advertised.listeners', 'alter.config.policy.class.name', 'alter.log.dirs.replication.quota.window.num',
  'alter.log.dirs.replication.quota.window.size.seconds', 'authorizer.class.name',
  'auto.create.topics.enable', 'auto.leader.rebalance.enable', 'background.threads',
  'broker.heartbeat.interval.ms', 'broker.id', 'broker.id.generation.enable', 'broker.rack',
  'broker.session.timeout.ms', 'client.quota.callback.class', 'compression.gzip.level',
  'compression.lz4.level', 'compression.type', 'compression.zstd.level',
  'connection.failed.authentication.delay.ms', 'connections.max.idle.ms', 'connections.max.reauth.ms',
  'control.plane.listener.name', 'controlled.shutdown.enable', 'controlled.shutdown.max.retries',
  'controlled.shutdown.retry.backoff.ms', 'controller.listener.names', 'controller.quorum.append.linger.ms',
  'controller.quorum.bootstrap.servers', 'controller.quorum.election.backoff.max.ms',
  'controller.quorum.election.timeout.ms', 'controller.quorum.fetch.timeout.ms',
  'controller.quorum.request.timeout.ms', 'controller.quorum.retry.backoff.ms', 'controller.quorum.voters',
  'controller.quota.window.num', 'controller.quota.window.size.seconds', 'controller.socket.timeout.ms',
  'create.topic.policy.class.name', 'default.replication.factor',
  'delegation.token.expiry.check.interval.ms', 'delegation.token.expiry.time.ms',
  'delegation.token.max.lifetime.ms', 'delegation.token.secret.key',
  'delete.records.purgatory.purge.interval.requests', 'delete.topic.enable', 'early.start.listeners',
  'eligible.leader.replicas.enable', 'fetch.max.bytes', 'fetch.purgatory.purge.interval.requests',
  'follower.replication.throttled.rate', 'group.consumer.assignors', 'group.consumer.heartbeat.interval.ms',
  'group.consumer.max.heartbeat.interval.ms', 'group.consumer.max.session.timeout.ms',
  'group.consumer.max.size', 'group.consumer.migration.policy', 'group.consumer.min.heartbeat.interval.ms',
  'group.consumer.min.session.timeout.ms', 'group.consumer.session.timeout.ms',
  'group.coordinator.append.linger.ms', 'group.coordinator.new.enable',
  'group.coordinator.rebalance.protocols', 'group.coordinator.threads', 'group.initial.rebalance.delay.ms',
  'group.max.session.timeout.ms', 'group.max.size', 'group.min.session.timeout.ms',
  'group.share.delivery.count.limit', 'group.share.enable', 'group.share.heartbeat.interval.ms',
  'group.share.max.groups', 'group.share.max.heartbeat.interval.ms',
  'group.share.max.record.lock.duration.ms', 'group.share.max.session.timeout.ms', 'group.share.max.size',
  'group.share.min.heartbeat.interval.ms', 'group.share.min.record.lock.duration.ms',
  'group.share.min.session.timeout.ms', 'group.share.partition.max.record.locks',
  'group.share.record.lock.duration.ms', 'group.share.session.timeout.ms',
  'initial.broker.registration.timeout.ms', 'inter.broker.listener.name', 'inter.broker.protocol.version',
  'kafka.metrics.polling.interval.secs', 'kafka.metrics.reporters',
  'leader.imbalance.check.interval.seconds', 'leader.imbalance.per.broker.percentage',
  'leader.replication.throttled.rate', 'listener.security.protocol.map', 'listeners',
  'log.cleaner.backoff.ms', 'log.cleaner.dedupe.buffer.size', 'log.cleaner.delete.retention.ms',
  'log.cleaner.enable', 'log.cleaner.io.buffer.load.factor', 'log.cleaner.io.buffer.size',
  'log.cleaner.io.max.bytes.per.second', 'log.cleaner.max.compaction.lag.ms',
  'log.cleaner.min.cleanable.ratio', 'log.cleaner.min.compaction.lag.ms', 'log.cleaner.threads',
  'log.cleanup.policy', 'log.dir', 'log.dir.failure.timeout.ms', 'log.dirs', 'log.flush.interval.messages',
  'log.flush.interval.ms', 'log.flush.offset.checkpoint.interval.ms', 'log.flush.scheduler.interval.ms',
  'log.flush.start.offset.checkpoint.interval.ms', 'log.index.interval.bytes', 'log.index.size.max.bytes',
  'log.initial.task.delay.ms', 'log.local.retention.bytes', 'log.local.retention.ms',
  'log.message.downconversion.enable', 'log.message.format.version', 'log.message.timestamp.after.max.ms',
  'log.message.timestamp.before.max.ms', 'log.message.timestamp.difference.max.ms',
  'log.message.timestamp.type', 'log.preallocate', 'log.retention.bytes', 'log.retention.check.interval.ms',
  'log.retention.hours', 'log.retention.minutes', 'log.retention.ms', 'log.roll.hours',
  'log.roll.jitter.hours', 'log.roll.jitter.ms', 'log.roll.ms', 'log.segment.bytes',
  'log.segment.delete.delay.ms', 'max.connection.creation.rate', 'max.connections', 'max.connections.per.ip',
  'max.connections.per.ip.overrides', 'max.incremental.fetch.session.cache.slots',
  'max.request.partition.size.limit', 'message.max.bytes', 'metadata.log.dir',
  'metadata.log.max.record.bytes.between.snapshots', 'metadata.log.max.snapshot.interval.ms',
  'metadata.log.segment.bytes', 'metadata.log.segment.min.bytes', 'metadata.log.segment.ms',
  'metadata.max.idle.interval.ms', 'metadata.max.retention.bytes', 'metadata.max.retention.ms',
  'metric.reporters', 'metrics.num.samples', 'metrics.recording.level', 'metrics.sample.window.ms',
  'min.insync.replicas', 'node.id', 'num.io.threads', 'num.network.threads', 'num.partitions',
  'num.recovery.threads.per.data.dir', 'num.replica.alter.log.dirs.threads', 'num.replica.fetchers',
  'offset.metadata.max.bytes', 'offsets.commit.timeout.ms', 'offsets.load.buffer.size',
  'offsets.retention.check.interval.ms', 'offsets.retention.minutes', 'offsets.topic.compression.codec',
  'offsets.topic.num.partitions', 'offsets.topic.replication.factor', 'offsets.topic.segment.bytes',
  'password.encoder.cipher.algorithm', 'password.encoder.iterations', 'password.encoder.key.length',
  'password.encoder.keyfactory.algorithm', 'password.encoder.old.secret', 'password.encoder.secret',
  'principal.builder.class', 'process.roles', 'producer.id.expiration.check.interval.ms',
  'producer.id.expiration.ms', 'producer.purgatory.purge.interval.requests', 'queued.max.request.bytes',
  'queued.max.requests', 'quota.window.num', 'quota.window.size.seconds', 'remote.fetch.max.wait.ms',
  'remote.list.offsets.request.timeout.ms', 'remote.log.index.file.cache.total.size.bytes',
  'remote.log.manager.copier.thread.pool.size', 'remote.log.manager.copy.max.bytes.per.second',
  'remote.log.manager.copy.quota.window.num', 'remote.log.manager.copy.quota.window.size.seconds',
  'remote.log.manager.expiration.thread.pool.size', 'remote.log.manager.fetch.max.bytes.per.second',
  'remote.log.manager.fetch.quota.window.num', 'remote.log.manager.fetch.quota.window.size.seconds',
  'remote.log.manager.task.interval.ms', 'remote.log.manager.task.retry.backoff.max.ms',
  'remote.log.manager.task.retry.backoff.ms', 'remote.log.manager.task.retry.jitter',
  'remote.log.manager.thread.pool.size', 'remote.log.metadata.custom.metadata.max.bytes',
  'remote.log.metadata.manager.class.name', 'remote.log.metadata.manager.class.path',
  'remote.log.metadata.manager.impl.prefix', 'remote.log.metadata.manager.listener.name',
  'remote.log.reader.max.pending.tasks', 'remote.log.reader.threads',
  'remote.log.storage.manager.class.name', 'remote.log.storage.manager.class.path',
  'remote.log.storage.manager.impl.prefix', 'remote.log.storage.system.enable',
  'replica.alter.log.dirs.io.max.bytes.per.second', 'replica.fetch.backoff.ms', 'replica.fetch.max.bytes',
  'replica.fetch.min.bytes', 'replica.fetch.response.max.bytes', 'replica.fetch.wait.max.ms',
  'replica.high.watermark.checkpoint.interval.ms', 'replica.lag.time.max.ms', 'replica.selector.class',
  'replica.socket.receive.buffer.bytes', 'replica.socket.timeout.ms', 'replication.quota.window.num',
  'replication.quota.window.size.seconds', 'request.timeout.ms', 'reserved.broker.max.id',
  'sasl.client.callback.handler.class', 'sasl.enabled.mechanisms', 'sasl.jaas.config',
  'sasl.kerberos.kinit.cmd', 'sasl.kerberos.min.time.before.relogin',
  'sasl.kerberos.principal.to.local.rules', 'sasl.kerberos.service.name',
  'sasl.kerberos.ticket.renew.jitter', 'sasl.kerberos.ticket.renew.window.factor',
  'sasl.login.callback.handler.class', 'sasl.login.class', 'sasl.login.connect.timeout.ms',
  'sasl.login.read.timeout.ms', 'sasl.login.refresh.buffer.seconds', 'sasl.login.refresh.min.period.seconds',
  'sasl.login.refresh.window.factor', 'sasl.login.refresh.window.jitter', 'sasl.login.retry.backoff.max.ms',
  'sasl.login.retry.backoff.ms', 'sasl.mechanism.controller.protocol',
  'sasl.mechanism.inter.broker.protocol', 'sasl.oauthbearer.clock.skew.seconds',
  'sasl.oauthbearer.expected.audience', 'sasl.oauthbearer.expected.issuer',
  'sasl.oauthbearer.jwks.endpoint.refresh.ms', 'sasl.oauthbearer.jwks.endpoint.retry.backoff.max.ms',
  'sasl.oauthbearer.jwks.endpoint.retry.backoff.ms', 'sasl.oauthbearer.jwks.endpoint.url',
  'sasl.oauthbearer.scope.claim.name', 'sasl.oauthbearer.sub.claim.name',
  'sasl.oauthbearer.token.endpoint.url', 'sasl.server.callback.handler.class',
  'sasl.server.max.receive.size', 'security.inter.broker.protocol', 'security.providers',
  'server.max.startup.time.ms', 'share.coordinator.append.linger.ms', 'share.coordinator.load.buffer.size',
  'share.coordinator.snapshot.update.records.per.snapshot',
  'share.coordinator.state.topic.compression.codec', 'share.coordinator.state.topic.min.isr',
  'share.coordinator.state.topic.num.partitions', 'share.coordinator.state.topic.replication.factor',
  'share.coordinator.state.topic.segment.bytes', 'share.coordinator.threads',
  'share.coordinator.write.timeout.ms', 'share.fetch.max.fetch.records',
  'share.fetch.purgatory.purge.interval.requests', 'socket.connection.setup.timeout.max.ms',
  'socket.connection.setup.timeout.ms', 'socket.listen.backlog.size', 'socket.receive.buffer.bytes',
  'socket.request.max.bytes', 'socket.send.buffer.bytes', 'ssl.allow.dn.changes', 'ssl.allow.san.changes',
  'ssl.cipher.suites', 'ssl.client.auth', 'ssl.enabled.protocols', 'ssl.endpoint.identification.algorithm',
  'ssl.engine.factory.class', 'ssl.key.password', 'ssl.keymanager.algorithm',
  'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.keystore.location', 'ssl.keystore.password',
  'ssl.keystore.type', 'ssl.principal.mapping.rules', 'ssl.protocol', 'ssl.provider',
  'ssl.secure.random.implementation', 'ssl.trustmanager.algorithm', 'ssl.truststore.certificates',
  'ssl.truststore.location', 'ssl.truststore.password', 'ssl.truststore.type', 'telemetry.max.bytes',
  'transaction.abort.timed.out.transaction.cleanup.interval.ms', 'transaction.max.timeout.ms',
  'transaction.partition.verification.enable', 'transaction.remove.expired.transaction.cleanup.interval.ms',
  'transaction.state.log.load.buffer.size', 'transaction.state.log.min.isr',
  'transaction.state.log.num.partitions', 'transaction.state.log.replication.factor',
  'transaction.state.log.segment.bytes', 'transactional.id.expiration.ms', 'unclean.leader.election.enable',
  'unclean.leader.election.interval.ms', 'unstable.api.versions.enable', 'unstable.feature.versions.enable',
  'zookeeper.clientCnxnSocket', 'zookeeper.connect', 'zookeeper.connection.timeout.ms',
  'zookeeper.max.in.flight.requests', 'zookeeper.metadata.migration.enable',
  'zookeeper.metadata.migration.min.batch.size', 'zookeeper.session.timeout.ms', 'zookeeper.set.acl',
  'zookeeper.ssl.cipher.suites', 'zookeeper.ssl.client.enable', 'zookeeper.ssl.crl.enable',
  'zookeeper.ssl.enabled.protocols', 'zookeeper.ssl.endpoint.identification.algorithm',
  'zookeeper.ssl.keystore.location', 'zookeeper.ssl.keystore.password', 'zookeeper.ssl.keystore.type',
  'zookeeper.ssl.ocsp.enable', 'zookeeper.ssl.protocol', 'zookeeper.ssl.truststore.location',
  'zookeeper.ssl.truststore.password', 'zookeeper.ssl.truststore.type',
]);

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
  /** The settings given, as BrokerConfig fields (pass to `Broker.open({ config })`). */
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
  for (const [key, raw] of entries) {
    const setting = brokerSettings[key];
    if (setting !== undefined) {
      const rank = setting.rank ?? 0;
      const value = parseSetting(key, raw, setting);
      if ((ranks.get(setting.field) ?? Number.NEGATIVE_INFINITY) <= rank) {
        config[setting.field] = value;
        ranks.set(setting.field, rank);
      }
      continue;
    }
    if ((CLUSTER_SETTING_NAMES as readonly string[]).includes(key)) continue;
    if (kafkaBrokerConfigNames.has(key) || key.startsWith('listener.name.')) {
      ignored.push(key);
      continue;
    }
    throw unknownSetting(key);
  }
  return { config: config as Partial<BrokerConfig>, ignored, cluster: clusterSettings(new Map(entries)) };
}

function unknownSetting(key: string): BrokerConfigError {
  const topicSynonym = topicConfigDefinitions[key]?.synonym;
  const hint = topicSynonym !== undefined && topicSynonym !== key ? ` (${key} is a topic config; the broker's default is ${topicSynonym})` : '';
  return new BrokerConfigError('UNKNOWN_CONFIG', key, `unknown broker config '${key}'${hint}`);
}

function parseSetting(key: string, raw: string, setting: BrokerSetting): unknown {
  const value = raw.trim();
  const invalid = (why: string) => new BrokerConfigError('INVALID_CONFIG', key, `invalid value '${raw}' for ${key}: ${why}`);
  switch (setting.type) {
    case 'boolean':
      if (value !== 'true' && value !== 'false') throw invalid('expected true or false');
      return value === 'true';
    case 'int':
    case 'long': {
      if (!/^-?\d+$/.test(value)) throw invalid('not a number');
      const number = Number(value);
      if (setting.type === 'int' && (number > INT_MAX || number < -INT_MAX - 1)) throw invalid('not an int');
      if (!Number.isSafeInteger(number)) throw invalid(`above ${Number.MAX_SAFE_INTEGER}, the largest Gregor keeps exactly`);
      if (setting.minimum !== undefined && number < setting.minimum) throw invalid(`must be at least ${setting.minimum}`);
      // A negative retention means "no limit" whatever the unit.
      return setting.scale !== undefined && number >= 0 ? number * setting.scale : number;
    }
    case 'list': {
      const items = value.split(',').map((item) => item.trim());
      for (const item of items) if (setting.valid !== undefined && !setting.valid.includes(item)) throw invalid(`each item must be one of ${setting.valid.join(', ')}`);
      return items.join(',');
    }
    case 'string':
      if (setting.valid !== undefined && !setting.valid.includes(value)) throw invalid(`must be one of ${setting.valid.join(', ')}`);
      return value;
  }
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
