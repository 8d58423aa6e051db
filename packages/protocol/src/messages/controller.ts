/**
 * Descriptions of the APIs a broker sends to the active controller (Kafka's "controller"
 * listener): BrokerRegistration and BrokerHeartbeat (KIP-631), UnregisterBroker, AlterPartition
 * (KIP-497: a partition leader's ISR change), AllocateProducerIds (KIP-730), and ElectLeaders
 * (KIP-460: preferred and unclean elections, which Kafka also accepts from admin clients on the
 * broker listener and forwards). Only ElectLeaders is advertised to clients by the broker's ApiVersions.
 * Transcribed from apache/kafka's message JSON; every version Kafka defines is described.
 */
import { api, f, s } from '../spec.js';

export const BrokerRegistration = api('BrokerRegistration', 62, {
  versions: '0-4',
  flexibleFrom: 0,
  request: [
    f('brokerId', 'int32', '0+'),
    f('clusterId', 'string', '0+'),
    f('incarnationId', 'uuid', '0+'),
    s('listeners', '0+', [
      f('name', 'string', '0+'),
      f('host', 'string', '0+'),
      f('port', 'uint16', '0+'),
      f('securityProtocol', 'int16', '0+'),
    ]),
    s('features', '0+', [f('name', 'string', '0+'), f('minSupportedVersion', 'int16', '0+'), f('maxSupportedVersion', 'int16', '0+')]),
    f('rack', 'string', '0+', { nullable: '0+' }),
    f('isMigratingZkBroker', 'bool', '1+', { default: false }),
    f('logDirs', '[]uuid', '2+'),
    f('previousBrokerEpoch', 'int64', '3+', { default: -1 }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('brokerEpoch', 'int64', '0+', { default: -1 }),
  ],
});

export const BrokerHeartbeat = api('BrokerHeartbeat', 63, {
  versions: '0-1',
  flexibleFrom: 0,
  request: [
    f('brokerId', 'int32', '0+'),
    f('brokerEpoch', 'int64', '0+', { default: -1 }),
    f('currentMetadataOffset', 'int64', '0+'),
    f('wantFence', 'bool', '0+'),
    f('wantShutDown', 'bool', '0+'),
    f('offlineLogDirs', '[]uuid', '1+', { tag: 0 }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('isCaughtUp', 'bool', '0+', { default: false }),
    f('isFenced', 'bool', '0+', { default: true }),
    f('shouldShutDown', 'bool', '0+'),
  ],
});

export const UnregisterBroker = api('UnregisterBroker', 64, {
  versions: '0',
  flexibleFrom: 0,
  request: [f('brokerId', 'int32', '0+')],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
  ],
});

export const AlterPartition = api('AlterPartition', 56, {
  versions: '0-3',
  flexibleFrom: 0,
  request: [
    f('brokerId', 'int32', '0+'),
    f('brokerEpoch', 'int64', '0+', { default: -1 }),
    s('topics', '0+', [
      f('topicName', 'string', '0-1'),
      f('topicId', 'uuid', '2+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('leaderEpoch', 'int32', '0+'),
        // Up to v2 the new ISR is a list of ids; from v3 each member carries its broker epoch
        // (-1: not checked), so a replica that restarted in between cannot be added by mistake.
        f('newIsr', '[]int32', '0-2'),
        s('newIsrWithEpochs', '3+', [f('brokerId', 'int32', '3+'), f('brokerEpoch', 'int64', '3+', { default: -1 })]),
        f('leaderRecoveryState', 'int8', '1+', { default: 0 }),
        f('partitionEpoch', 'int32', '0+'),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    s('topics', '0+', [
      f('topicName', 'string', '0-1'),
      f('topicId', 'uuid', '2+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '0+'),
        f('isr', '[]int32', '0+'),
        f('leaderRecoveryState', 'int8', '1+', { default: 0 }),
        f('partitionEpoch', 'int32', '0+'),
      ]),
    ]),
  ],
});

export const AllocateProducerIds = api('AllocateProducerIds', 67, {
  versions: '0',
  flexibleFrom: 0,
  request: [f('brokerId', 'int32', '0+'), f('brokerEpoch', 'int64', '0+', { default: -1 })],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('producerIdStart', 'int64', '0+'),
    f('producerIdLen', 'int32', '0+'),
  ],
});

export const ElectLeaders = api('ElectLeaders', 43, {
  versions: '0-2',
  flexibleFrom: 2,
  request: [
    // 0 preferred, 1 unclean (Kafka's ElectionType); v0 always elects the preferred leader.
    f('electionType', 'int8', '1+'),
    s('topicPartitions', '0+', [f('topic', 'string', '0+'), f('partitions', '[]int32', '0+')], { nullable: '0+' }),
    f('timeoutMs', 'int32', '0+', { default: 60000 }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '1+'),
    s('replicaElectionResults', '0+', [
      f('topic', 'string', '0+'),
      s('partitionResult', '0+', [
        f('partitionId', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('errorMessage', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
  ],
});
