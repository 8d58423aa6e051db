/**
 * `pnpm sim`: `pnpm sim raft ...` runs the quorum's simulation (@gregor/cluster); `pnpm sim
 * cluster --seed N` replays one seed of the whole-cluster simulation and prints its summary;
 * `pnpm sim cluster --seeds N [--start S]` (or `pnpm sim --seeds N`) runs seeds S..S+N-1 and prints
 * each failing seed with the command that replays it. Options: --chaos-ms M, --trace (print every
 * event of one seed). Exit status 1 when any seed fails.
 */
import { runSimCli as runRaftSimCli } from '@gregor/cluster';
import { type ClusterSimOptions, clusterReplayCommand, runClusterSimulation } from './cluster-sim.js';

type Out = (line: string) => void;
const stdout: Out = (line) => process.stdout.write(`${line}\n`);

function numberOption(args: string[], name: string): number | undefined {
  const index = args.indexOf(name);
  if (index < 0) return undefined;
  const text = args[index + 1];
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} needs a non-negative integer, got ${text}`);
  return value;
}

export async function runSimCli(args: string[], out: Out = stdout): Promise<number> {
  const [target, ...rest] = args;
  if (target === 'raft') return runRaftSimCli(args, out);
  if (target === 'cluster') return runClusterSimCli(rest, out);
  if (target === undefined || target.startsWith('--')) return runClusterSimCli(args, out);
  out('usage: pnpm sim [cluster] (--seed N | --seeds N [--start S]) [--chaos-ms M] [--trace]');
  out('       pnpm sim raft (--seed N | --seeds N [--start S]) [--voters V] [--observers O] [--chaos-ms M] [--no-encode] [--trace] [--wipe-disk-on-crash]');
  return 2;
}

export async function runClusterSimCli(args: string[], out: Out = stdout): Promise<number> {
  const base: Omit<ClusterSimOptions, 'seed'> = { chaosMs: numberOption(args, '--chaos-ms') };
  const single = numberOption(args, '--seed');
  if (single !== undefined) {
    const result = await runClusterSimulation({ ...base, seed: single, keepTrace: args.includes('--trace') });
    if (result.trace) for (const line of result.trace) out(line);
    out(`seed ${result.seed}: ${result.ok ? 'ok' : 'FAILED'} ${JSON.stringify(result.stats)} trace ${result.traceHash}`);
    for (const violation of result.violations) out(`  ${violation}`);
    if (!result.ok) out(`replay: ${result.replay}`);
    return result.ok ? 0 : 1;
  }
  const count = numberOption(args, '--seeds') ?? 100;
  const first = numberOption(args, '--start') ?? 1;
  const started = performance.now();
  let failed = 0;
  const totals = { acknowledgedRecords: 0, producerRetries: 0, powerLosses: 0, processCrashes: 0, pauses: 0, isolations: 0, highestEpoch: 0 };
  for (let seed = first; seed < first + count; seed++) {
    const result = await runClusterSimulation({ ...base, seed });
    totals.acknowledgedRecords += result.stats.acknowledgedRecords;
    totals.producerRetries += result.stats.producerRetries;
    totals.powerLosses += result.stats.faults.powerLosses;
    totals.processCrashes += result.stats.faults.processCrashes;
    totals.pauses += result.stats.faults.pauses;
    totals.isolations += result.stats.faults.isolations;
    totals.highestEpoch = Math.max(totals.highestEpoch, result.stats.highestEpoch);
    if (!result.ok) {
      failed++;
      out(`seed ${seed} FAILED: ${result.violations[0]}`);
      out(`  replay: ${clusterReplayCommand(seed, base)}`);
    }
    const done = seed - first + 1;
    if (done % 10 === 0) out(`${done}/${count} seeds, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  out(`${count} seeds from ${first}: ${count - failed} passed, ${failed} failed in ${((performance.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(totals)}`);
  return failed === 0 ? 0 : 1;
}
