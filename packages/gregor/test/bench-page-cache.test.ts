/**
 * Smoke test of `pnpm bench page-cache` with tiny files: both rows are printed, each beside its
 * baseline, with one figure per file written. No speed is asserted.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { root } from './support/cli.js';

it('pnpm bench page-cache times every file it writes, growing and rolling, beside the first files', async () => {
  const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'bench/run.ts', 'page-cache', '--page-cache-gib', '0.01', '--file-mib', '1'], {
    cwd: root,
    env: { ...process.env, TSX_TSCONFIG_PATH: 'tsconfig.check.json' },
    timeout: 60_000,
  });
  const rows = stdout.split('\n').filter((line) => line.startsWith('| page-cache: '));
  expect(rows).toHaveLength(2);
  for (const row of rows) {
    const [, , ours, , baseline, , note] = row.split('|').map((cell) => cell.trim());
    expect(Number(ours), row).toBeGreaterThan(0);
    expect(baseline, row).toMatch(/^[\d.]+ \(the first 2 files/);
    expect((note ?? '').replace('ms/MB per file in order: ', '').split(' ')).toHaveLength(10);
  }
});
