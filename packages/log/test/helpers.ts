/** Shared test helpers: batches, backends (real temp dir and MemoryFileSystem), record reading. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeBatch, encodeBatch, forEachBatch } from '@gregor/records';
import { type FileSystem, MemoryFileSystem, nodeFileSystem } from '../src/index.js';

export interface Backend {
  name: 'node' | 'memory';
  fs: FileSystem;
  /** A fresh directory for one test. */
  dir: string;
  memory?: MemoryFileSystem;
  cleanup(): void;
}

export const backends: [string, () => Backend][] = [
  [
    'node',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-log-'));
      return { name: 'node', fs: nodeFileSystem, dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  [
    'memory',
    () => {
      const memory = new MemoryFileSystem({ seed: 7 });
      return { name: 'memory', fs: memory, memory, dir: '/data', cleanup: () => {} };
    },
  ],
];

export interface TestRecord {
  key: string | null;
  value: string | null;
  timestamp: number;
}

/** One batch of records (offsets from 0; the log assigns the real ones). */
export function batchOf(records: TestRecord[], options: { compression?: number; baseOffset?: number; partitionLeaderEpoch?: number } = {}): Buffer {
  return encodeBatch({
    compression: options.compression ?? 0,
    baseOffset: options.baseOffset ?? 0,
    partitionLeaderEpoch: options.partitionLeaderEpoch,
    records: records.map((record) => ({
      key: record.key === null ? null : Buffer.from(record.key),
      value: record.value === null ? null : Buffer.from(record.value),
      timestamp: record.timestamp,
    })),
  });
}

/** `count` records with values `v<n>` and the given timestamp. */
export function simpleBatch(count: number, timestamp = 1000, prefix = 'v'): Buffer {
  return batchOf(Array.from({ length: count }, (_, i) => ({ key: null, value: `${prefix}${i}`, timestamp })));
}

export interface ReadRecord {
  offset: number;
  key: string | null;
  value: string | null;
  timestamp: number;
}

/** Decodes every record of a record set. */
export function recordsOf(buffer: Buffer): ReadRecord[] {
  const out: ReadRecord[] = [];
  forEachBatch(buffer, (position) => {
    for (const record of decodeBatch(buffer, position).records()) {
      out.push({ offset: record.offset, key: record.key?.toString() ?? null, value: record.value?.toString() ?? null, timestamp: record.timestamp });
    }
  });
  return out;
}

/** Reads every record from `from` to the LEO, segment by segment. */
export function readAll(log: { read(offset: number, options?: { maxBytes?: number }): { records: Buffer; nextOffset: number }; logEndOffset: number }, from: number): ReadRecord[] {
  const out: ReadRecord[] = [];
  let offset = from;
  for (let guard = 0; offset < log.logEndOffset && guard < 100_000; guard++) {
    const read = log.read(offset, { maxBytes: 64 * 1024 });
    if (read.records.length === 0) break;
    out.push(...recordsOf(read.records).filter((record) => record.offset >= from));
    offset = read.nextOffset;
  }
  return out;
}

/** Overwrites bytes of a file through the FileSystem (both backends; not fsynced: tests that crash afterwards sync themselves). */
export function overwriteFile(fs: FileSystem, filePath: string, position: number, data: Uint8Array): void {
  const file = fs.openFile(filePath);
  file.write(data, 0, data.length, position);
  file.close();
}

/** Cuts a file to `length` (not fsynced). */
export function truncateFile(fs: FileSystem, filePath: string, length: number): void {
  const file = fs.openFile(filePath);
  file.truncate(length);
  file.close();
}

export function fileSize(fs: FileSystem, filePath: string): number {
  const file = fs.openFile(filePath);
  const size = file.size();
  file.close();
  return size;
}
