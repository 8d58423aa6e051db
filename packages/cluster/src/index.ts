/**
 * @gregor/cluster: several nodes as one cluster. `raft/` is the controller quorum (KRaft's Raft
 * over the `__cluster_metadata` log, stored with @gregor/log). Depends on @gregor/protocol,
 * @gregor/records and @gregor/log.
 */
export * from './raft/index.js';
