/** Entry point of `pnpm sim` (see src/sim/cli.ts). */
import { runSimCli } from '../src/sim/cli.js';

process.exitCode = await runSimCli(process.argv.slice(2));
