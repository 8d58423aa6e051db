/** Entry point of `pnpm sim` (see src/sim/cli.ts): the whole-cluster simulation, and `pnpm sim raft` for the quorum's. */
import { runSimCli } from '../src/sim/cli.js';

process.exitCode = await runSimCli(process.argv.slice(2));
