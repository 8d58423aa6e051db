/**
 * `gregor dump-log --verify-index-only`, as kafka-dump-log's: checks an `.index` or `.timeindex`
 * against its segment's `.log` without printing the entries. An offset index entry must name the
 * last offset of the batch that starts at its position, with offsets and positions increasing; a
 * time index entry must name an offset of the segment whose batch has that max timestamp, with
 * timestamps and offsets never decreasing. Yields one line per mismatch. Reads through node:fs.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BATCH_HEADER_BYTES, BATCH_LENGTH_MIN, BATCH_OVERHEAD_BYTES, readBatchHeader } from '@gregor/records';

interface Batch {
  position: number;
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
}

function readBatches(logPath: string): Batch[] {
  const fd = fs.openSync(logPath, 'r');
  try {
    const size = fs.fstatSync(fd).size;
    const batches: Batch[] = [];
    const head = Buffer.alloc(BATCH_HEADER_BYTES);
    for (let position = 0; position + BATCH_HEADER_BYTES <= size; ) {
      fs.readSync(fd, head, 0, BATCH_HEADER_BYTES, position);
      const batchLength = head.readInt32BE(8);
      if (batchLength < BATCH_LENGTH_MIN || position + batchLength + BATCH_OVERHEAD_BYTES > size) break;
      const header = readBatchHeader(head, 0);
      batches.push({ position, baseOffset: header.baseOffset, lastOffset: header.lastOffset, maxTimestamp: header.maxTimestamp });
      position += batchLength + BATCH_OVERHEAD_BYTES;
    }
    return batches;
  } finally {
    fs.closeSync(fd);
  }
}

/** Entries of an index file, stopping at the preallocated zeros after the last one. */
function entries(indexPath: string, entryBytes: number): Buffer[] {
  const bytes = fs.readFileSync(indexPath);
  const list: Buffer[] = [];
  for (let at = 0; at + entryBytes <= bytes.length; at += entryBytes) {
    const entry = bytes.subarray(at, at + entryBytes);
    if (at > 0 && entry.every((byte) => byte === 0)) break;
    list.push(entry);
  }
  return list;
}

export interface IndexVerification {
  entries: number;
  mismatches: string[];
}

export function verifyIndex(indexPath: string): IndexVerification {
  const name = path.basename(indexPath);
  const baseOffset = Number(name.slice(0, 20));
  const logPath = path.join(path.dirname(indexPath), `${name.slice(0, 20)}.log`);
  const batches = readBatches(logPath);
  const mismatches: string[] = [];
  if (name.endsWith('.timeindex')) {
    const list = entries(indexPath, 12);
    let previous = { timestamp: Number.NEGATIVE_INFINITY, offset: Number.NEGATIVE_INFINITY };
    list.forEach((entry, i) => {
      const timestamp = Number(entry.readBigInt64BE(0));
      const offset = baseOffset + entry.readInt32BE(8);
      if (i === 0 && timestamp === 0 && offset === baseOffset && batches.length === 0) return;
      if (timestamp < previous.timestamp) mismatches.push(`entry ${i}: timestamp ${timestamp} is below the previous entry's ${previous.timestamp}`);
      if (offset < previous.offset) mismatches.push(`entry ${i}: offset ${offset} is below the previous entry's ${previous.offset}`);
      const batch = batches.find((b) => b.baseOffset <= offset && offset <= b.lastOffset);
      if (batch === undefined) mismatches.push(`entry ${i}: offset ${offset} is in no batch of ${path.basename(logPath)}`);
      else if (batch.maxTimestamp !== timestamp) mismatches.push(`entry ${i}: timestamp ${timestamp}, but the batch ${batch.baseOffset}-${batch.lastOffset} holding offset ${offset} has max timestamp ${batch.maxTimestamp}`);
      previous = { timestamp, offset };
    });
    return { entries: list.length, mismatches };
  }
  const list = entries(indexPath, 8);
  const byPosition = new Map(batches.map((b) => [b.position, b]));
  let previous = { offset: Number.NEGATIVE_INFINITY, position: Number.NEGATIVE_INFINITY };
  list.forEach((entry, i) => {
    const offset = baseOffset + entry.readInt32BE(0);
    const position = entry.readInt32BE(4);
    if (i === 0 && offset === baseOffset && position === 0 && batches.length === 0) return;
    if (offset <= previous.offset) mismatches.push(`entry ${i}: offset ${offset} does not increase (previous ${previous.offset})`);
    if (position <= previous.position) mismatches.push(`entry ${i}: position ${position} does not increase (previous ${previous.position})`);
    const batch = byPosition.get(position);
    if (batch === undefined) mismatches.push(`entry ${i}: Index offset: ${offset}, no batch starts at position ${position} of ${path.basename(logPath)}`);
    else if (batch.lastOffset !== offset) mismatches.push(`entry ${i}: Index offset: ${offset}, log offset: ${batch.lastOffset} (the batch at position ${position} is ${batch.baseOffset}-${batch.lastOffset})`);
    previous = { offset, position };
  });
  return { entries: list.length, mismatches };
}
