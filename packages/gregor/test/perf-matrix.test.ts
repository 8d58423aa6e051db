/**
 * `gregor perf matrix`: seed 004's rows, and a small run end to end (table, JSON, SVG, plain
 * progress lines when stdout is not a terminal). Speed itself is never asserted here.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { configurations } from '../src/cli/commands/perf-matrix.js';
import { markdownTable, percentile, svgChart } from '../src/cli/perf-matrix-report.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cliArgs = ['--tsconfig', path.join(root, 'tsconfig.check.json'), path.join(root, 'packages/gregor/src/cli.ts')];

describe('gregor perf matrix', () => {
  it('varies acks, batching and compression one at a time from acks=all, 16 KiB, linger 5 ms, none', () => {
    const rows = configurations({});
    expect(rows.filter((r) => r.group === 'acks').map((r) => r.acks)).toEqual([0, 1, -1]);
    expect(rows.filter((r) => r.group === 'batching').map((r) => [r.batchBytes, r.lingerMs])).toEqual([[16384, 0], [16384, 20], [32768, 20], [131072, 20]]);
    expect(rows.filter((r) => r.group === 'compression').map((r) => r.compression)).toEqual(['none', 'gzip', 'snappy', 'lz4', 'zstd']);
    for (const r of rows.filter((row) => row.group === 'compression')) expect([r.acks, r.batchBytes, r.lingerMs]).toEqual([-1, 16384, 5]);
    expect(configurations({ full: true, acks: 'all,1', compression: 'none,lz4' })).toHaveLength(4);
    expect(() => configurations({ compression: 'brotli' })).toThrow(/brotli/);
  });

  it('takes the nearest-rank percentile', () => {
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 50)).toBe(5);
    expect(percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 99)).toBe(10);
  });

  it('runs against an in-process broker and writes the table, JSON and an SVG chart', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-perf-matrix-test-'));
    try {
      const out = path.join(dir, 'result');
      const result = spawnSync(tsx, [...cliArgs, 'perf', 'matrix', '--records', '300', '--record-size', '64', '--full', '--acks', 'all,1', '--compression', 'none,zstd', '--warmup-records', '200', '--out', out], { cwd: root, encoding: 'utf8', timeout: 120_000 });
      expect(result.stderr).toMatch(/^100% perf matrix 1400\/1400 records/m);
      expect(result.status).toBe(0);
      const report = JSON.parse(fs.readFileSync(`${out}.json`, 'utf8'));
      expect(report.rows).toHaveLength(4);
      for (const row of report.rows) {
        expect(row.records).toBe(300);
        expect(row.recordsPerSecond).toBeGreaterThan(0);
        expect(row.latencyMsP99).toBeGreaterThanOrEqual(row.latencyMsP50);
        expect(row.rawDiskMegabytesPerSecond).toBeGreaterThan(0);
        expect(row.logBytesRatio).toBeGreaterThan(0);
      }
      // zstd stores the JSON-like values in fewer bytes than no compression.
      const ratio = (codec: string) => report.rows.find((r: { compression: string; acks: number }) => r.compression === codec && r.acks === -1).logBytesRatio;
      expect(ratio('zstd')).toBeLessThan(ratio('none'));
      expect(result.stdout).toContain(markdownTable(report));
      const svg = fs.readFileSync(`${out}.svg`, 'utf8');
      expect(svg).toBe(svgChart(report));
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"[^>]*>/);
      expect(svg.match(/<rect x="290"/g)).toHaveLength(4);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
