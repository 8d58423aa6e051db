/**
 * @gregor/cluster: several nodes as one cluster. `raft/` is the controller quorum (KRaft's Raft
 * over the `__cluster_metadata` log, stored with @gregor/log); `sim/` the deterministic simulation
 * that runs nodes on a simulated network from a seed. Depends on @gregor/protocol, @gregor/records
 * and @gregor/log.
 */
export * from './raft/index.js';
export * from './sim/index.js';
