/**
 * The controller's settings, with Kafka's names and defaults (KafkaConfig, KRaftConfigs,
 * ReplicationConfigs, ServerLogConfigs). Validated once, at construction; a bad value is a
 * ControllerConfigError naming the setting.
 */

export interface ControllerConfig {
  /** `node.id`: this controller's id; it is active when the quorum's leader has this id. */
  nodeId: number;
  /** The cluster id (`meta.properties`); a broker registering with another gets INCONSISTENT_CLUSTER_ID. */
  clusterId: string;
  /**
   * `broker.session.timeout.ms` (9000): a broker that has not heartbeated for this long is fenced:
   * it leaves every ISR it shares with others and its leaderships move to other ISR members.
   */
  brokerSessionTimeoutMs: number;
  /** `num.partitions` (1): partitions of a topic created with numPartitions -1. */
  numPartitions: number;
  /** `default.replication.factor` (1): replicas of a topic created with replicationFactor -1. */
  defaultReplicationFactor: number;
  /**
   * `unclean.leader.election.enable` (false): the cluster-wide default, overridden by the dynamic
   * cluster default and by each topic's own config. When a partition has no live ISR member, true
   * lets the controller elect any live replica: the partition comes back online, but every record
   * the new leader did not have is lost, including records acknowledged with acks=all. False
   * (the default) keeps the partition offline until an ISR member returns: the only safe mode.
   */
  uncleanLeaderElectionEnable: boolean;
  /**
   * `min.insync.replicas` (1): the cluster-wide default of the topic setting, as this node's
   * brokers have it. The controller needs it for eligible leader replicas: a replica that leaves
   * an ISR below this size stays eligible to lead.
   */
  minInsyncReplicas: number;
  /**
   * `eligible.leader.replicas.enable` (true): a new cluster starts with the
   * `eligible.leader.replicas.version` feature at 1 (KIP-966, on by default in Kafka 4.1 for new
   * clusters). Read when the cluster is created; the feature, in the metadata log, decides after.
   */
  eligibleLeaderReplicasEnable: boolean;
  /** `unclean.leader.election.interval.ms` (300000): how often leaderless partitions are checked for an unclean election. */
  uncleanLeaderElectionIntervalMs: number;
  /** `auto.leader.rebalance.enable` (true): move leadership back to each partition's preferred (first) replica. */
  autoLeaderRebalanceEnable: boolean;
  /** `leader.imbalance.check.interval.seconds` (300): how often the preferred-leader balance is checked. */
  leaderImbalanceCheckIntervalSeconds: number;
  /**
   * `leader.imbalance.per.broker.percentage` (10): a broker's partitions are rebalanced when more
   * than this percentage of the partitions it is the preferred leader of are led by others (the
   * rule of Kafka's ZooKeeper controller; KRaft's controller rebalances any imbalance).
   */
  leaderImbalancePerBrokerPercentage: number;
  /** `delete.topic.enable` (true): false answers DeleteTopics with TOPIC_DELETION_DISABLED. */
  deleteTopicEnable: boolean;
  /** Kafka's MAX_RECORDS_PER_USER_OP (10000): a request needing more records is refused with POLICY_VIOLATION. */
  maxRecordsPerUserOp: number;
  /** Kafka's MAX_ELECTIONS_PER_IMBALANCE (1000): elections one balance or unclean pass writes at most. */
  maxElectionsPerImbalance: number;
}

export const CONTROLLER_CONFIG_DEFAULTS: Omit<ControllerConfig, 'nodeId' | 'clusterId'> = Object.freeze({
  brokerSessionTimeoutMs: 9000,
  numPartitions: 1,
  defaultReplicationFactor: 1,
  uncleanLeaderElectionEnable: false,
  minInsyncReplicas: 1,
  eligibleLeaderReplicasEnable: true,
  uncleanLeaderElectionIntervalMs: 300_000,
  autoLeaderRebalanceEnable: true,
  leaderImbalanceCheckIntervalSeconds: 300,
  leaderImbalancePerBrokerPercentage: 10,
  deleteTopicEnable: true,
  maxRecordsPerUserOp: 10_000,
  maxElectionsPerImbalance: 1000,
});

export class ControllerConfigError extends Error {
  readonly code = 'INVALID_CONTROLLER_CONFIG';
  readonly retriable = false;
  constructor(readonly setting: string, message: string) {
    super(`${setting}: ${message}`);
    this.name = 'ControllerConfigError';
  }
}

/** Kafka's name of each setting, for error messages and documentation. */
const KAFKA_NAMES: Record<keyof ControllerConfig, string> = {
  nodeId: 'node.id',
  clusterId: 'cluster.id',
  brokerSessionTimeoutMs: 'broker.session.timeout.ms',
  numPartitions: 'num.partitions',
  defaultReplicationFactor: 'default.replication.factor',
  uncleanLeaderElectionEnable: 'unclean.leader.election.enable',
  minInsyncReplicas: 'min.insync.replicas',
  eligibleLeaderReplicasEnable: 'eligible.leader.replicas.enable',
  uncleanLeaderElectionIntervalMs: 'unclean.leader.election.interval.ms',
  autoLeaderRebalanceEnable: 'auto.leader.rebalance.enable',
  leaderImbalanceCheckIntervalSeconds: 'leader.imbalance.check.interval.seconds',
  leaderImbalancePerBrokerPercentage: 'leader.imbalance.per.broker.percentage',
  deleteTopicEnable: 'delete.topic.enable',
  maxRecordsPerUserOp: 'maxRecordsPerUserOp',
  maxElectionsPerImbalance: 'maxElectionsPerImbalance',
};

/** The full config from the given settings and Kafka's defaults; throws ControllerConfigError on a bad value. */
export function controllerConfig(settings: Partial<ControllerConfig> & Pick<ControllerConfig, 'nodeId' | 'clusterId'>): ControllerConfig {
  const config: ControllerConfig = { ...CONTROLLER_CONFIG_DEFAULTS, ...settings };
  const integer = (key: keyof ControllerConfig, min: number, max = Number.MAX_SAFE_INTEGER) => {
    const value = config[key];
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new ControllerConfigError(KAFKA_NAMES[key], `must be an integer in [${min}, ${max}], not ${String(value)}`);
    }
  };
  const boolean = (key: keyof ControllerConfig) => {
    if (typeof config[key] !== 'boolean') throw new ControllerConfigError(KAFKA_NAMES[key], `must be true or false, not ${String(config[key])}`);
  };
  integer('nodeId', 0, 0x7fffffff);
  if (typeof config.clusterId !== 'string' || config.clusterId.length === 0) throw new ControllerConfigError('cluster.id', 'must be a non-empty string');
  integer('brokerSessionTimeoutMs', 1);
  integer('numPartitions', 1, 0x7fffffff);
  integer('defaultReplicationFactor', 1, 0x7fff);
  boolean('uncleanLeaderElectionEnable');
  integer('minInsyncReplicas', 1, 0x7fffffff);
  boolean('eligibleLeaderReplicasEnable');
  integer('uncleanLeaderElectionIntervalMs', 1);
  boolean('autoLeaderRebalanceEnable');
  integer('leaderImbalanceCheckIntervalSeconds', 1);
  integer('leaderImbalancePerBrokerPercentage', 0, 100);
  boolean('deleteTopicEnable');
  integer('maxRecordsPerUserOp', 1);
  integer('maxElectionsPerImbalance', 1);
  return config;
}
