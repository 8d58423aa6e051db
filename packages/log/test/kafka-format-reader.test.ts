/**
 * Runs the independent Python reader (kafka_format_reader.py, standard library only) over
 * partitions written by PartitionLog with every codec, over a compacted partition, and over
 * damaged copies, which it must reject. Few invocations: the reader takes several directories.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Compression } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, nodeFileSystem, PartitionLog } from '../src/index.js';
import { batchOf } from './helpers.js';

const reader = fileURLToPath(new URL('./kafka_format_reader.py', import.meta.url));

function runReader(...args: string[]): { status: number; output: string } {
  const result = spawnSync('python3', [reader, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { status: result.status ?? -1, output: `${result.stdout}${result.stderr}` };
}

describe('the independent Kafka format reader', () => {
  let root: string;
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-pyreader-'));
  });
  afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

  function writePartition(name = 'topic-0'): string {
    const dir = path.join(root, name);
    const log = PartitionLog.open({ fs: nodeFileSystem, dir, clock: new FakeClock(), config: { segmentBytes: 2048, indexIntervalBytes: 256 } });
    let timestamp = 1_700_000_000_000;
    for (let round = 0; round < 6; round++) {
      for (const compression of Object.values(Compression)) {
        const records = Array.from({ length: 5 + round }, (_, i) => ({ key: i % 2 === 0 ? `k${i}` : null, value: `value ${round}/${i} ${'x'.repeat(40)}`, timestamp: timestamp + (i % 3) }));
        timestamp += 7;
        log.append(batchOf(records, { compression }), { leaderEpoch: round });
      }
    }
    log.close();
    return dir;
  }

  it('accepts segments written with every codec, with their indexes and time indexes', () => {
    const dir = writePartition();
    const { status, output } = runReader(dir);
    expect(output).toContain(`${dir}: OK`);
    expect(output).toMatch(/codecs gzip=6, lz4=6, none=6, snappy=6, zstd=6/);
    expect(status).toBe(0);
    expect(fs.readdirSync(dir).filter((name) => name.endsWith('.log')).length).toBeGreaterThan(1);
  });

  it('rejects a flipped bit, a torn tail, a bad index entry and a missing directory, each', () => {
    const flippedDir = writePartition('flipped-0');
    const flippedLog = path.join(flippedDir, '00000000000000000000.log');
    const flipped = fs.readFileSync(flippedLog);
    flipped[100] ^= 1;
    fs.writeFileSync(flippedLog, flipped);
    const tornDir = writePartition('torn-0');
    const tornLog = path.join(tornDir, '00000000000000000000.log');
    fs.truncateSync(tornLog, fs.statSync(tornLog).size - 5);
    const indexDir = writePartition('index-0');
    const indexFile = path.join(indexDir, '00000000000000000000.index');
    const index = fs.readFileSync(indexFile);
    index.writeInt32BE(index.readInt32BE(4) + 1, 4);
    fs.writeFileSync(indexFile, index);
    const missingDir = path.join(root, 'missing-0');
    const { status, output } = runReader(flippedDir, tornDir, indexDir, missingDir);
    expect(status).toBe(1);
    expect(output).toContain('CRC-32C mismatch');
    expect(output).toMatch(/trailing bytes|does not fit the file/);
    expect(output).toContain('is not a batch start');
    expect(output).toContain('not a directory');
    for (const dir of [flippedDir, tornDir, indexDir, missingDir]) expect(output).toContain(`${dir}: FAILED`);
  });

  it('accepts a compacted partition (offset gaps allowed) with its rewritten segments and indexes', () => {
    const dir = path.join(root, 'compacted-0');
    const clock = new FakeClock();
    const log = PartitionLog.open({ fs: nodeFileSystem, dir, clock, config: { cleanupPolicy: 'compact', segmentBytes: 1024, indexIntervalBytes: 128 } });
    for (let i = 0; i < 60; i++) {
      const records = Array.from({ length: 3 }, (_, j) => ({ key: `key-${(i * 3 + j) % 7}`, value: `value-${i}-${j}`, timestamp: clock.now() + i }));
      log.append(batchOf(records, { compression: i % 2 === 0 ? Compression.none : Compression.gzip }));
    }
    expect(log.compact().recordsRemoved).toBeGreaterThan(100);
    log.close();
    const { status, output } = runReader(dir, '--allow-gaps');
    expect(output).toContain(`${dir}: OK`);
    expect(status).toBe(0);
  });
});
