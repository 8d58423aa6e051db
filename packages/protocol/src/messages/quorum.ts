/**
 * Descriptions of the controller quorum's APIs (KRaft, KIP-595/KIP-996): Vote, BeginQuorumEpoch,
 * EndQuorumEpoch, DescribeQuorum and FetchSnapshot, and of the control records KRaft writes into
 * its log and snapshots (LeaderChangeMessage, SnapshotHeaderRecord, SnapshotFooterRecord).
 * Transcribed from apache/kafka's message JSON (field names camelCased, versions and tags as there).
 * Kafka serves these on the controller listener only, so they are described but not advertised by a
 * broker's ApiVersions (see `servedApiVersions` in apis.ts). Fetch of the metadata log uses the
 * ordinary Fetch description (v12+ carries divergingEpoch, currentLeader and snapshotId).
 */
import { api, f, o, s } from '../spec.js';

/** A node's address in a response's tagged `nodeEndpoints` (KIP-853). */
const nodeEndpoint = [f('nodeId', 'int32', '1+'), f('host', 'string', '1+'), f('port', 'uint16', '1+')] as const;
/** The leader's listeners in BeginQuorumEpoch / EndQuorumEpoch v1 (KIP-853). */
const leaderEndpoint = [f('name', 'string', '1+'), f('host', 'string', '1+'), f('port', 'uint16', '1+')] as const;

/**
 * Vote (52): a candidate asks for a vote in its epoch; with `preVote` (v2, KIP-996) a prospective
 * voter asks whether it could win before bumping the epoch. v1 adds directory ids (KIP-853).
 * Kafka renamed candidateEpoch / candidateId to replicaEpoch / replicaId in v2; the bytes are the same.
 */
export const Vote = api('Vote', 52, {
  versions: '0-2',
  flexibleFrom: 0,
  request: [
    f('clusterId', 'string', '0+', { nullable: '0+', default: null }),
    f('voterId', 'int32', '1+', { default: -1 }),
    s('topics', '0+', [
      f('topicName', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('replicaEpoch', 'int32', '0+'),
        f('replicaId', 'int32', '0+'),
        f('replicaDirectoryId', 'uuid', '1+'),
        f('voterDirectoryId', 'uuid', '1+'),
        f('lastOffsetEpoch', 'int32', '0+'),
        f('lastOffset', 'int64', '0+'),
        f('preVote', 'bool', '2+', { default: false }),
      ]),
    ]),
  ],
  response: [
    f('errorCode', 'int16', '0+'),
    s('topics', '0+', [
      f('topicName', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '0+'),
        f('voteGranted', 'bool', '0+'),
      ]),
    ]),
    s('nodeEndpoints', '1+', nodeEndpoint, { tag: 0 }),
  ],
});

const quorumEpochResponse = [
  f('errorCode', 'int16', '0+'),
  s('topics', '0+', [
    f('topicName', 'string', '0+'),
    s('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+'), f('leaderId', 'int32', '0+'), f('leaderEpoch', 'int32', '0+')]),
  ]),
  s('nodeEndpoints', '1+', nodeEndpoint, { tag: 0 }),
] as const;

/** BeginQuorumEpoch (53): a newly elected leader tells the voters of its epoch. v1 is flexible (KIP-853). */
export const BeginQuorumEpoch = api('BeginQuorumEpoch', 53, {
  versions: '0-1',
  flexibleFrom: 1,
  request: [
    f('clusterId', 'string', '0+', { nullable: '0+', default: null }),
    f('voterId', 'int32', '1+', { default: -1 }),
    s('topics', '0+', [
      f('topicName', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('voterDirectoryId', 'uuid', '1+'),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '0+'),
      ]),
    ]),
    s('leaderEndpoints', '1+', leaderEndpoint),
  ],
  response: quorumEpochResponse,
});

/**
 * EndQuorumEpoch (54): a resigning leader tells the voters to elect a successor now, preferred
 * ones first. v1 is flexible and replaces preferredSuccessors with preferredCandidates (KIP-853).
 */
export const EndQuorumEpoch = api('EndQuorumEpoch', 54, {
  versions: '0-1',
  flexibleFrom: 1,
  request: [
    f('clusterId', 'string', '0+', { nullable: '0+', default: null }),
    s('topics', '0+', [
      f('topicName', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '0+'),
        f('preferredSuccessors', '[]int32', '0'),
        s('preferredCandidates', '1+', [f('candidateId', 'int32', '1+'), f('candidateDirectoryId', 'uuid', '1+')]),
      ]),
    ]),
    s('leaderEndpoints', '1+', leaderEndpoint),
  ],
  response: quorumEpochResponse,
});

const replicaState = [
  f('replicaId', 'int32', '0+'),
  f('replicaDirectoryId', 'uuid', '2+'),
  f('logEndOffset', 'int64', '0+'),
  f('lastFetchTimestamp', 'int64', '1+', { default: -1 }),
  f('lastCaughtUpTimestamp', 'int64', '1+', { default: -1 }),
] as const;

/**
 * DescribeQuorum (55): the leader's view of the quorum (kafka-metadata-quorum). v1 adds the fetch
 * and caught-up timestamps (KIP-836), v2 error messages, directory ids and the nodes (KIP-853).
 */
export const DescribeQuorum = api('DescribeQuorum', 55, {
  versions: '0-2',
  flexibleFrom: 0,
  request: [s('topics', '0+', [f('topicName', 'string', '0+'), s('partitions', '0+', [f('partitionIndex', 'int32', '0+')])])],
  response: [
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '2+', { nullable: '2+', default: null }),
    s('topics', '0+', [
      f('topicName', 'string', '0+'),
      s('partitions', '0+', [
        f('partitionIndex', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        f('errorMessage', 'string', '2+', { nullable: '2+', default: null }),
        f('leaderId', 'int32', '0+'),
        f('leaderEpoch', 'int32', '0+'),
        f('highWatermark', 'int64', '0+'),
        s('currentVoters', '0+', replicaState),
        s('observers', '0+', replicaState),
      ]),
    ]),
    s('nodes', '2+', [f('nodeId', 'int32', '2+'), s('listeners', '2+', [f('name', 'string', '2+'), f('host', 'string', '2+'), f('port', 'uint16', '2+')])]),
  ],
});

const snapshotId = [f('endOffset', 'int64', '0+'), f('epoch', 'int32', '0+')] as const;

/** FetchSnapshot (59): a follower too far behind downloads the leader's snapshot in byte ranges. v1 adds directory ids. */
export const FetchSnapshot = api('FetchSnapshot', 59, {
  versions: '0-1',
  flexibleFrom: 0,
  request: [
    f('clusterId', 'string', '0+', { nullable: '0+', default: null, tag: 0 }),
    f('replicaId', 'int32', '0+', { default: -1 }),
    f('maxBytes', 'int32', '0+', { default: 0x7fffffff }),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('partition', 'int32', '0+'),
        f('currentLeaderEpoch', 'int32', '0+'),
        o('snapshotId', '0+', snapshotId),
        f('position', 'int64', '0+'),
        f('replicaDirectoryId', 'uuid', '1+', { tag: 0 }),
      ]),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      s('partitions', '0+', [
        f('index', 'int32', '0+'),
        f('errorCode', 'int16', '0+'),
        o('snapshotId', '0+', snapshotId),
        o('currentLeader', '0+', [f('leaderId', 'int32', '0+'), f('leaderEpoch', 'int32', '0+')], { tag: 0 }),
        f('size', 'int64', '0+'),
        f('position', 'int64', '0+'),
        f('unalignedRecords', 'records', '0+'),
      ]),
    ]),
    s('nodeEndpoints', '1+', nodeEndpoint, { tag: 0 }),
  ],
});

// ---- Control records of the metadata log and its snapshots (Kafka "data" messages, flexible) ----

/**
 * Value of a LEADER_CHANGE control record (type 2), written by a new leader as the first record of
 * its epoch. v1 adds the voters' directory ids (KIP-853).
 */
export const leaderChangeMessageFields = [
  f('version', 'int16', '0+'),
  f('leaderId', 'int32', '0+'),
  s('voters', '0+', [f('voterId', 'int32', '0+'), f('voterDirectoryId', 'uuid', '1+')]),
  s('grantingVoters', '0+', [f('voterId', 'int32', '0+'), f('voterDirectoryId', 'uuid', '1+')]),
] as const;

/** Value of a SNAPSHOT_HEADER control record (type 3), the first record of every snapshot. */
export const snapshotHeaderRecordFields = [f('version', 'int16', '0+'), f('lastContainedLogTimestamp', 'int64', '0+')] as const;

/** Value of a SNAPSHOT_FOOTER control record (type 4), the last record of every snapshot. */
export const snapshotFooterRecordFields = [f('version', 'int16', '0+')] as const;
