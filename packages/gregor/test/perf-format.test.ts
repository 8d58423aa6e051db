/**
 * What `gregor perf produce` writes is Kafka's format: the CLI command runs in-process with every
 * codec (a small topic each, two partitions, small segments so several roll), then the
 * independent Python reader of Kafka's format (packages/log/test/kafka_format_reader.py, standard
 * library only, no code shared with Gregor) must accept every partition directory. `perf consume`
 * then reads every record back.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as perf } from '../src/cli/commands/perf.js';
import { Gregor } from '../src/index.js';

const reader = fileURLToPath(new URL('../../log/test/kafka_format_reader.py', import.meta.url));
const RECORDS = 3000;

describe('gregor perf produce writes what an independent Kafka reader accepts', () => {
  let dir: string;
  const output: string[] = [];
  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-perf-format-'));
    // Small segments, so the reader also checks rolls and several index files.
    const gregor = await Gregor.open({ dir, config: { groupInitialRebalanceDelayMs: 0 } });
    const admin = gregor.admin();
    for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
      await admin.createTopics({ topics: [{ topic: `perf-${codec}`, numPartitions: 2, configEntries: [{ name: 'segment.bytes', value: '65536' }] }] });
    }
    await gregor.close();
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output.push(String(chunk));
      return true;
    });
  });
  afterAll(() => {
    vi.restoreAllMocks();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`with --compression ${codec}`, async () => {
      const topic = `perf-${codec}`;
      await perf(['produce', '--dir', dir, '--topic', topic, '--records', String(RECORDS), '--record-size', '100', '--compression', codec, '--batch-bytes', '4096']);
      expect(output.join('')).toMatch(new RegExp(`${RECORDS} records sent, [\\d,]+ records/sec .* ms avg latency, .* ms 99\\.9th\\.`));
      const partitions = fs.readdirSync(dir).filter((name) => name.startsWith(`${topic}-`)).map((name) => path.join(dir, name));
      expect(partitions).toHaveLength(2);
      const result = spawnSync('python3', [reader, ...partitions], { encoding: 'utf8', timeout: 30_000 });
      const report = `${result.stdout}${result.stderr}`;
      for (const partition of partitions) expect(report).toContain(`${partition}: OK`);
      expect(result.status).toBe(0);
      const segments = partitions.flatMap((partition) => fs.readdirSync(partition).filter((name) => name.endsWith('.log')));
      // Uncompressed, 3000 × ~110 bytes roll 64 KiB segments; the compressed topics are far smaller.
      expect(segments.length).toBeGreaterThan(codec === 'none' ? 2 : 1);

      output.length = 0;
      await perf(['consume', '--dir', dir, '--topic', topic]);
      expect(output.join('')).toContain(`${RECORDS} records in`);
    });
  }
});
