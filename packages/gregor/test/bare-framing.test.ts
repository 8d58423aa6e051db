/**
 * The keyed benchmark's bare baseline writes Kafka's own RecordBatch v2: @gregor/records decodes
 * what `writeBareBatches` wrote, record for record, and `readBareBatches` reaches every key and
 * value. A baseline in another format would not be the same work.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchesIn, decodeBatch } from '@gregor/records';
import { afterEach, describe, expect, it } from 'vitest';
import { readBareBatches, writeBareBatches } from '../src/perf/bare-framing.js';
import { keyedRecords } from '../src/perf/keyed-workload.js';

describe('bare Kafka v2 framing', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-bare-'));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes batches that @gregor/records decodes to the same keys and values, and reads them back', () => {
    const chunks = keyedRecords({ keyBytes: 10, valueBytes: 90, messagesPerSend: 100, chunks: 3 });
    const file = path.join(dir, 'bare.log');
    const written = writeBareBatches(file, chunks, 450, 100, false);
    expect(written.records).toBe(450);
    const bytes = fs.readFileSync(file);
    const decoded: { key: string; value: string; offset: number }[] = [];
    for (const { position } of batchesIn(bytes)) {
      for (const record of decodeBatch(bytes, position).records()) decoded.push({ key: String(record.key), value: String(record.value), offset: record.offset });
    }
    const expected = Array.from({ length: 450 }, (_, i) => chunks[Math.floor(i / 100) % 3][i % 100]);
    expect(decoded.map((r) => r.key)).toEqual(expected.map((m) => String(m.key)));
    expect(decoded.map((r) => r.value)).toEqual(expected.map((m) => String(m.value)));
    expect(decoded.map((r) => r.offset)).toEqual(expected.map((_, i) => i));
    expect(chunks[0][7].key?.toString()).toBe('k000000007');
    expect(chunks[0][7].value.length).toBe(90);
    // A read size that splits batches, so a batch cut by a read is read again whole.
    const read = readBareBatches(file, 16_384);
    expect(read.records).toBe(450);
    expect(read.payloadBytes).toBe(450 * 100);
  });
});
