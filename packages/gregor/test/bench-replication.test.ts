/**
 * Smoke test of `pnpm bench replication` with tiny sizes: the script starts its three node
 * processes, produces, measures produce-to-consume latency for a second, stops and restarts a
 * follower, prints every row and ends them all. It asserts that the rows are there with finite
 * figures and that the latency runs received every record they sent, never a speed.
 */
import { spawn } from 'node:child_process';
import { expect, it, vi } from 'vitest';
import { ensureBuilt, root } from './support/cli.js';

vi.setConfig({ testTimeout: 180_000 });

it('pnpm bench replication runs end to end with small sizes and prints each row beside its baseline', async () => {
  ensureBuilt();
  // Node itself with tsx's loader (not tsx's CLI, which runs a second process): the SIGTERM below reaches the script.
  const args = ['--import', 'tsx', 'bench/run.ts', 'replication', '--produce-mib', '1', '--rounds', '2', '--catch-up-mib', '2', '--latency-sends', '10', '--latency-seconds', '1', '--latency-warmup-seconds', '0.5'];
  const child = spawn(process.execPath, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_VERBOSE: '', TSX_TSCONFIG_PATH: 'tsconfig.check.json' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on('data', (chunk) => {
    stderr += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
  // SIGTERM by pid lets the script end its node processes; the bench ends itself well within this.
  const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGTERM'), 150_000);
  let code: number | null;
  try {
    code = await exited;
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      process.kill(child.pid, 'SIGTERM');
      await exited;
    }
  }
  expect(code, `stdout:\n${stdout}\nstderr:\n${stderr}`).toBe(0);
  const rows = stdout.split('\n').filter((line) => line.startsWith('| replication: '));
  const names = rows.map((row) => row.split('|')[1]?.trim());
  for (const name of [
    'replication: produce, RF3 acks=all, min.insync.replicas 2',
    'replication: one-record send latency p99, RF3 acks=all, min.insync.replicas 2',
    'replication: produce, RF3 acks=1',
    'replication: follower catch-up, 2 MiB produced while it was stopped: the copy (first to last byte on the follower\'s disk)',
    'replication: produce-to-consume latency p50 at 10,000 records/s, RF3 acks=all, min.insync.replicas 2',
    'replication: produce-to-consume latency p99 at 10,000 records/s, RF3 acks=all, min.insync.replicas 2',
  ]) expect(names).toContain(name);
  // Each configuration ran once per round, on a topic of its own.
  expect(stdout).toMatch(/MB\/s by round: RF3 [\d.]+, [\d.]+; RF1 [\d.]+, [\d.]+/);
  // The latency rows count every record sent as received, RF3 and its RF1 baseline alike.
  const counts = [...stdout.matchAll(/(RF[13]): (\d+)\/(\d+) received/g)];
  expect(counts.map((match) => match[1]), stdout).toEqual(['RF3', 'RF1']);
  for (const [, , received, sent] of counts) expect(received).toBe(sent);
  for (const row of rows) {
    const [, , ours, , baseline] = row.split('|').map((cell) => cell.trim());
    expect(Number((ours ?? '').replaceAll(',', '')), row).toBeGreaterThan(0);
    expect(baseline, row).toMatch(/^[\d,.]+ \(/);
  }
});
