/** The deterministic simulation of a whole cluster: nodes, clients, faults, checker, runner, CLI. */
export { ClusterChecker, partitionKey, recordValue } from './cluster-checker.js';
export { FaultSchedule, type FaultStats, type FaultTarget } from './cluster-faults.js';
export { type ClusterSimOptions, type ClusterSimResult, type ClusterSimStats, clusterReplayCommand, runClusterSimulation, SIM_TOPIC } from './cluster-sim.js';
export { runClusterSimCli, runSimCli } from './cli.js';
export { NodeClock } from './node-clock.js';
export { GroupChecker } from './group-checker.js';
export { type SimClientContext, SimProducer } from './sim-clients.js';
export { type Assignor, rangeAssignor, SimGroupMember } from './sim-group-member.js';
