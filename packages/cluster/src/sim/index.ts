/** The deterministic simulation: seeded randomness, the simulated network, the scheduler, the quorum's run and checker. */
export { type CommittedRecord, QuorumChecker } from './checker.js';
export { runSimCli } from './cli.js';
export { SeededRandom } from './random.js';
export { type RaftSimOptions, type RaftSimResult, replayCommand, runRaftSimulation, SIM_QUORUM_CONFIG } from './raft-sim.js';
export { SETTLE_TURNS, SimScheduler } from './scheduler.js';
export { type SimHandler, SimNetwork, type SimNetworkOptions, type SimNetworkStats } from './sim-network.js';
export { SimTrace } from './trace.js';
