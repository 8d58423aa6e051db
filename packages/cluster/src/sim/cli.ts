/**
 * `pnpm sim raft --seed N` replays one seed and prints its trace summary; `pnpm sim raft --seeds N
 * [--start S]` runs seeds S..S+N-1 and prints each failing seed with the command that replays it.
 * Options: --voters V, --observers O, --chaos-ms M, --no-encode, --trace (print every event),
 * --wipe-disk-on-crash (a fault Raft cannot survive: shows the checker catching it).
 * Exit status 1 when any seed fails.
 */
import { type RaftSimOptions, replayCommand, runRaftSimulation } from './raft-sim.js';

function option(args: string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

function numberOption(args: string[], name: string): number | undefined {
  const text = option(args, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} needs a non-negative integer, got ${text}`);
  return value;
}

export async function runSimCli(args: string[], out: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): Promise<number> {
  const [target, ...rest] = args;
  if (target !== 'raft') {
    out('usage: pnpm sim raft (--seed N | --seeds N [--start S]) [--voters V] [--observers O] [--chaos-ms M] [--no-encode] [--trace] [--wipe-disk-on-crash]');
    return 2;
  }
  const base: Omit<RaftSimOptions, 'seed'> = {
    voters: numberOption(rest, '--voters'),
    observers: numberOption(rest, '--observers'),
    chaosMs: numberOption(rest, '--chaos-ms'),
    encode: rest.includes('--no-encode') ? false : undefined,
    wipeDiskOnCrash: rest.includes('--wipe-disk-on-crash') ? true : undefined,
  };
  const single = numberOption(rest, '--seed');
  if (single !== undefined) {
    const result = await runRaftSimulation({ ...base, seed: single, keepTrace: rest.includes('--trace') });
    if (result.trace) for (const line of result.trace) out(line);
    out(`seed ${result.seed}: ${result.ok ? 'ok' : 'FAILED'} (${result.voters} voters, ${result.observers} observers) ${JSON.stringify(result.stats)} trace ${result.traceHash}`);
    for (const violation of result.violations) out(`  ${violation}`);
    if (!result.ok) out(`replay: ${result.replay}`);
    return result.ok ? 0 : 1;
  }
  const count = numberOption(rest, '--seeds') ?? 100;
  const first = numberOption(rest, '--start') ?? 1;
  const started = performance.now();
  let failed = 0;
  const totals = { committedRecords: 0, crashes: 0, snapshotsLoaded: 0, steps: 0 };
  for (let seed = first; seed < first + count; seed++) {
    const result = await runRaftSimulation({ ...base, seed });
    totals.committedRecords += result.stats.committedRecords;
    totals.crashes += result.stats.crashes;
    totals.snapshotsLoaded += result.stats.snapshotsLoaded;
    totals.steps += result.stats.steps;
    if (!result.ok) {
      failed++;
      out(`seed ${seed} FAILED: ${result.violations[0]}`);
      out(`  replay: ${replayCommand(seed, base)}`);
    }
    const done = seed - first + 1;
    if (done % 100 === 0) out(`${done}/${count} seeds, ${failed} failed, ${((performance.now() - started) / 1000).toFixed(1)} s`);
  }
  out(`${count} seeds from ${first}: ${count - failed} passed, ${failed} failed in ${((performance.now() - started) / 1000).toFixed(1)} s ${JSON.stringify(totals)}`);
  return failed === 0 ? 0 : 1;
}
