/**
 * Kafka's text checkpoint files: a version line (`0`), a count line, then one entry per line with
 * fields separated by single spaces. Used for `leader-epoch-checkpoint` (`epoch startOffset`),
 * `recovery-point-offset-checkpoint` and `log-start-offset-checkpoint` (`topic partition offset`).
 * Written with `writeFileAtomic` (temporary file, fsync, rename), so a crash leaves the old or the
 * new file, never a mix.
 */
import { CheckpointFormatError } from './errors.js';
import type { FileSystem } from './fs.js';

const CHECKPOINT_VERSION = 0;

export function formatCheckpoint(lines: string[]): Buffer {
  return Buffer.from(`${CHECKPOINT_VERSION}\n${lines.length}\n${lines.map((line) => `${line}\n`).join('')}`, 'utf8');
}

/** Parses a checkpoint into its entry lines split into fields; `fieldCount` per line is enforced. */
export function parseCheckpoint(path: string, text: string, fieldCount: number): string[][] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  if (lines.length < 2) throw new CheckpointFormatError(path, 'missing version or count line');
  if (lines[0].trim() !== String(CHECKPOINT_VERSION)) throw new CheckpointFormatError(path, `unsupported version ${JSON.stringify(lines[0])}`);
  const count = Number(lines[1].trim());
  if (!Number.isSafeInteger(count) || count < 0) throw new CheckpointFormatError(path, `bad count ${JSON.stringify(lines[1])}`);
  if (lines.length - 2 !== count) throw new CheckpointFormatError(path, `expected ${count} entries, found ${lines.length - 2}`);
  return lines.slice(2).map((line, i) => {
    const fields = line.trim().split(/\s+/);
    if (fields.length !== fieldCount) throw new CheckpointFormatError(path, `entry ${i} has ${fields.length} fields, expected ${fieldCount}`);
    return fields;
  });
}

export function parseCheckpointInteger(path: string, field: string): number {
  const value = Number(field);
  if (!/^-?\d+$/.test(field) || !Number.isSafeInteger(value)) throw new CheckpointFormatError(path, `not an integer: ${JSON.stringify(field)}`);
  return value;
}

export interface TopicPartitionOffset {
  topic: string;
  partition: number;
  offset: number;
}

/** Reads a `topic partition offset` checkpoint; a missing file is empty. */
export function readOffsetCheckpoint(fs: FileSystem, path: string): Map<string, TopicPartitionOffset> {
  const result = new Map<string, TopicPartitionOffset>();
  if (!fs.exists(path)) return result;
  for (const [topic, partition, offset] of parseCheckpoint(path, fs.readFile(path).toString('utf8'), 3)) {
    const entry = { topic, partition: parseCheckpointInteger(path, partition), offset: parseCheckpointInteger(path, offset) };
    result.set(`${entry.topic}-${entry.partition}`, entry);
  }
  return result;
}

/** A `topic partition offset` checkpoint's bytes. */
export function formatOffsetCheckpoint(entries: Iterable<TopicPartitionOffset>): Buffer {
  return formatCheckpoint([...entries].map((entry) => `${entry.topic} ${entry.partition} ${entry.offset}`));
}

export function writeOffsetCheckpoint(fs: FileSystem, path: string, entries: Iterable<TopicPartitionOffset>): void {
  fs.writeFileAtomic(path, formatOffsetCheckpoint(entries));
}
