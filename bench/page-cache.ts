/**
 * What a write into new page cache costs on this machine as the page cache grows: the fact behind
 * `pnpm bench replication` giving each configuration a fresh topic, deleted once measured.
 *
 * Writes `--page-cache-gib` GiB (default 3) as files of `--file-mib` MiB (default 256) in 100 kB `fs.writeSync` calls (a
 * log's appends), keeping every file, and times each file. Then deletes them and writes the same
 * bytes again keeping at most `--keep-files` files (default 2, older ones deleted as it goes: a log
 * whose old segments are deleted). On a VM that backs guest memory only when first touched, the
 * files past what the guest has touched before cost many times the first ones; the rolling writes
 * reuse pages just freed and stay at the first files' cost.
 *
 * Run: `pnpm bench page-cache`. Not part of the default `pnpm bench`: it writes gigabytes.
 */
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { numberOption } from './options.js';
import type { Row } from './row.js';

const WRITE_BYTES = 100_000;

/** Writes one file of `fileBytes`; milliseconds per MB. */
function writeFile(file: string, fileBytes: number, chunk: Buffer): number {
  const fd = fs.openSync(file, 'w');
  try {
    const started = performance.now();
    for (let written = 0; written < fileBytes; written += chunk.length) fs.writeSync(fd, chunk);
    return (performance.now() - started) / (fileBytes / 1e6);
  } finally {
    fs.closeSync(fd);
  }
}

function median(values: number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor((values.length - 1) / 2)] as number;
}

export async function run(): Promise<Row[]> {
  const fileBytes = numberOption('file-mib', 256) * 1024 * 1024;
  const files = Math.max(4, Math.round((numberOption('page-cache-gib', 3) * 1024 ** 3) / fileBytes));
  const keep = numberOption('keep-files', 2);
  const dir = fs.mkdtempSync(path.join(tmpdir(), 'gregor-bench-page-cache-'));
  const chunk = Buffer.alloc(WRITE_BYTES, 0x61);
  try {
    const growing: number[] = [];
    for (let i = 0; i < files; i++) growing.push(writeFile(path.join(dir, `grow-${i}`), fileBytes, chunk));
    for (let i = 0; i < files; i++) fs.rmSync(path.join(dir, `grow-${i}`));
    const rolling: number[] = [];
    for (let i = 0; i < files; i++) {
      rolling.push(writeFile(path.join(dir, `roll-${i}`), fileBytes, chunk));
      if (i >= keep) fs.rmSync(path.join(dir, `roll-${i - keep}`));
    }
    const quarter = Math.max(1, Math.floor(files / 4));
    const first = median(growing.slice(0, quarter));
    const last = median(growing.slice(-quarter));
    const mib = fileBytes / 1024 / 1024;
    const perFile = (values: number[]) => values.map((value) => value.toFixed(2)).join(' ');
    return [
      {
        name: `fs.writeSync into new page cache, the last ${quarter} of ${files} files of ${mib} MiB, all kept`,
        value: last,
        unit: 'ms/MB',
        baseline: first,
        baselineName: `the first ${quarter} files`,
        note: `ms/MB per file in order: ${perFile(growing)}`,
      },
      {
        name: `fs.writeSync, the same ${files} files with at most ${keep} kept (older ones deleted)`,
        value: median(rolling),
        unit: 'ms/MB',
        baseline: first,
        baselineName: `the first ${quarter} files above`,
        note: `ms/MB per file in order: ${perFile(rolling)}`,
      },
    ];
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
