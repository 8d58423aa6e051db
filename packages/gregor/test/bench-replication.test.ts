/**
 * Smoke test of `pnpm bench replication` with tiny sizes: the script starts its three node
 * processes, produces, stops and restarts a follower, prints every row and ends them all. It
 * asserts that the rows are there with finite figures, never a speed.
 */
import { spawn } from 'node:child_process';
import { expect, it, vi } from 'vitest';
import { ensureBuilt, root } from './support/cli.js';

vi.setConfig({ testTimeout: 180_000 });

it('pnpm bench replication runs end to end with small sizes and prints each row beside its baseline', async () => {
  ensureBuilt();
  // Node itself with tsx's loader (not tsx's CLI, which runs a second process): the SIGTERM below reaches the script.
  const args = ['--import', 'tsx', 'bench/run.ts', 'replication', '--produce-mib', '1', '--catch-up-mib', '2', '--latency-sends', '10'];
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
    'replication: follower catch-up, 2 MiB produced while it was stopped',
  ]) expect(names).toContain(name);
  for (const row of rows) {
    const [, , ours, , baseline] = row.split('|').map((cell) => cell.trim());
    expect(Number((ours ?? '').replaceAll(',', '')), row).toBeGreaterThan(0);
    expect(baseline, row).toMatch(/^[\d,.]+ \(/);
  }
});
