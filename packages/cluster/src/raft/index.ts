/** The controller quorum: KRaft's Raft over the metadata log. See the package README. */
export { defaultQuorumConfig, type QuorumConfig, QuorumConfigError, quorumConfigKeys, resolveQuorumConfig } from './config.js';
export {
  InvalidAppendError,
  InvalidSnapshotError,
  type LeaderAndEpoch,
  NotLeaderError,
  PeerUnreachableError,
  RaftClosedError,
  RaftError,
  RaftStorageError,
  QuorumStateError,
} from './errors.js';
export { LeaderState, type ReplicaProgress } from './leader-state.js';
export { type RaftListener, type RaftLogger, silentRaftLogger } from './listeners.js';
export { QUORUM_API_KEYS, QUORUM_REQUEST_VERSIONS, type QuorumApiKey, type QuorumNetwork } from './network.js';
export { type ElectionState, QUORUM_STATE_FILE, QuorumStateStore } from './quorum-state.js';
export { RaftClient, type RaftClientOptions, type ScheduledAppend } from './raft-client.js';
export { type FetchPositionCheck, type OffsetAndEpoch, RaftLog } from './raft-log.js';
export { ControlRecordType, type ControlRecord, METADATA_PARTITION, METADATA_TOPIC, METADATA_TOPIC_ID, type RaftBatch } from './records.js';
export { SnapshotPolicy } from './snapshot-policy.js';
export { type SnapshotId, SnapshotReader, SnapshotWriter, snapshotFileName } from './snapshots.js';
