/**
 * `/api/messages/<topic>` and `/api/latest/<topic>`: records read through Fetch, bounded three
 * ways (records answered `limit` ≤ messagesLimitMax, bytes answered ≤ responseBytesMax, records
 * scanned per partition ≤ scanRecordsMax and Fetch round trips ≤ fetchRequestsMax). An answer cut
 * by a bound says so (`complete: false` and why), so a script knows to narrow its query.
 *
 * Where reading starts in each partition:
 *   - `offset=N` (with or without `partition`): from N forward (clamped to the log start offset);
 *   - `timestamp=T` (ms since the epoch, or an ISO 8601 date): from the first record at or after T;
 *   - neither: the newest records; with a filter (`key`, `search`, `to_timestamp`) the newest
 *     matches among the last `scanRecordsMax` records of each partition.
 * `end_offset` and `to_timestamp` bound the range from above (inclusive).
 */
import { badParameter, ConsoleError } from './errors.js';
import type { ClusterReader, TopicMetadata } from './cluster-reader.js';
import { partitionKey } from './cluster-reader.js';
import type { ConsoleConfig } from './config.js';
import { fetchPartitions } from './partition-fetcher.js';
import { FIELD_FORMATS, type FieldFormat, isFiltering, matches, type RecordFilter, type RecordView, viewRecord } from './record-view.js';

export interface MessageQuery {
  partitions: number[] | null;
  offset: number | null;
  timestamp: number | null;
  limit: number;
  format: FieldFormat;
  filter: RecordFilter;
}

const KNOWN_PARAMETERS = new Set(['partition', 'offset', 'end_offset', 'timestamp', 'to_timestamp', 'limit', 'search', 'key', 'format']);

function integerParameter(params: URLSearchParams, name: string, min: number, max = Number.MAX_SAFE_INTEGER): number | null {
  const raw = params.get(name);
  if (raw === null || raw === '') return null;
  if (!/^-?\d+$/.test(raw)) throw badParameter(name, `must be an integer, got '${raw}'`);
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < min || value > max) throw badParameter(name, `must be between ${min} and ${max}, got ${raw}`);
  return value;
}

/** Milliseconds since the epoch, or an ISO 8601 date-time (2024-05-01T12:00:00Z). */
export function timestampParameter(params: URLSearchParams, name: string): number | null {
  const raw = params.get(name);
  if (raw === null || raw === '') return null;
  if (/^\d+$/.test(raw)) {
    const value = Number(raw);
    if (!Number.isSafeInteger(value)) throw badParameter(name, `is out of range: ${raw}`);
    return value;
  }
  const parsed = /^\d{4}-\d{2}-\d{2}/.test(raw) ? Date.parse(raw) : Number.NaN;
  if (Number.isNaN(parsed)) throw badParameter(name, `must be milliseconds since the epoch or an ISO 8601 date, got '${raw}'`);
  return parsed;
}

function textParameter(params: URLSearchParams, name: string, maxLength: number): string | null {
  const raw = params.get(name);
  if (raw === null || raw === '') return null;
  if (raw.length > maxLength) throw badParameter(name, `is longer than ${maxLength} characters`);
  return raw;
}

export function formatParameter(params: URLSearchParams): FieldFormat {
  const raw = params.get('format') ?? 'auto';
  if (!(FIELD_FORMATS as readonly string[]).includes(raw)) throw badParameter('format', `must be one of ${FIELD_FORMATS.join(', ')}, got '${raw}'`);
  return raw as FieldFormat;
}

/** The record filter parameters shared by `/api/messages` and the tail. */
export function filterParameters(params: URLSearchParams): RecordFilter {
  const key = textParameter(params, 'key', 4096);
  const fromOffset = integerParameter(params, 'offset', 0);
  const toOffset = integerParameter(params, 'end_offset', 0);
  const fromTimestamp = timestampParameter(params, 'timestamp');
  const toTimestamp = timestampParameter(params, 'to_timestamp');
  if (fromOffset !== null && toOffset !== null && toOffset < fromOffset) throw badParameter('end_offset', `(${toOffset}) is below offset (${fromOffset})`);
  if (fromTimestamp !== null && toTimestamp !== null && toTimestamp < fromTimestamp) throw badParameter('to_timestamp', `is before timestamp`);
  return { key: key === null ? null : Buffer.from(key, 'utf8'), search: textParameter(params, 'search', 1024), fromOffset, toOffset, fromTimestamp, toTimestamp };
}

export function partitionParameter(params: URLSearchParams, topic: TopicMetadata): number[] | null {
  const partition = integerParameter(params, 'partition', 0);
  if (partition === null) return null;
  if (partition >= topic.partitions.length) throw badParameter('partition', `must be below ${topic.partitions.length}: ${topic.name} has ${topic.partitions.length} partition(s)`);
  return [partition];
}

export function parseMessageQuery(params: URLSearchParams, topic: TopicMetadata, config: ConsoleConfig): MessageQuery {
  for (const name of params.keys()) if (!KNOWN_PARAMETERS.has(name)) throw badParameter(name, `is not known; the parameters are ${[...KNOWN_PARAMETERS].join(', ')}`);
  const limit = integerParameter(params, 'limit', 1, config.messagesLimitMax) ?? config.messagesLimitDefault;
  const filter = filterParameters(params);
  return { partitions: partitionParameter(params, topic), offset: filter.fromOffset, timestamp: filter.fromTimestamp, limit, format: formatParameter(params), filter };
}

export interface MessagesAnswer {
  topic: string;
  records: RecordView[];
  /** Per partition: the range read, where to continue, and any error the leader answered. */
  partitions: { partition: number; logStartOffset: number | null; highWatermark: number | null; from: number | null; nextOffset: number | null; scanned: number; error: string | null }[];
  complete: boolean;
  /** Why reading stopped early: 'limit', 'response_bytes', 'scan_records', 'fetch_requests'. */
  stoppedBy: string | null;
}

interface PartitionRead {
  partition: number;
  leader: number;
  position: number;
  end: number;
  scanned: number;
  found: RecordView[];
  done: boolean;
  logStartOffset: number | null;
  highWatermark: number | null;
  from: number | null;
  error: string | null;
}

export async function readMessages(reader: ClusterReader, topic: TopicMetadata, query: MessageQuery, config: ConsoleConfig): Promise<MessagesAnswer> {
  const indexes = query.partitions ?? topic.partitions.map((p) => p.partition);
  const offsets = await reader.offsets([{ ...topic, partitions: topic.partitions.filter((p) => indexes.includes(p.partition)) }]);
  const byTime = query.offset === null && query.timestamp !== null ? await reader.offsetsForTimestamp(topic, indexes, query.timestamp) : null;
  const newest = query.offset === null && query.timestamp === null;
  // The newest records: read the last `limit` of each partition, or the last scanRecordsMax when filtering.
  const window = isFiltering(query.filter) ? config.scanRecordsMax : query.limit;
  const reads: PartitionRead[] = indexes.map((partition) => {
    const meta = topic.partitions[partition];
    const known = offsets.get(partitionKey(topic.name, partition));
    const start = known?.logStartOffset ?? null;
    const hw = known?.highWatermark ?? null;
    const read: PartitionRead = { partition, leader: meta.leader, position: 0, end: 0, scanned: 0, found: [], done: true, logStartOffset: start, highWatermark: hw, from: null, error: known?.error ?? null };
    if (start === null || hw === null || read.error !== null) return read;
    let from: number;
    if (query.offset !== null) from = Math.max(query.offset, start);
    else if (byTime !== null) from = byTime.get(partition) ?? hw;
    else from = Math.max(start, hw - window);
    const end = query.filter.toOffset === null ? hw : Math.min(hw, query.filter.toOffset + 1);
    Object.assign(read, { position: from, end, from, done: from >= end });
    return read;
  });

  let fetches = 0;
  let bytes = 0;
  let stoppedBy: string | null = null;
  const stop = (reason: string) => {
    stoppedBy ??= reason;
    for (const r of reads) r.done = true;
  };
  while (reads.some((r) => !r.done)) {
    // One round: one Fetch per leader for its partitions still reading.
    const byLeader = new Map<number, PartitionRead[]>();
    for (const r of reads) if (!r.done) byLeader.set(r.leader, [...(byLeader.get(r.leader) ?? []), r]);
    if (fetches + byLeader.size > config.fetchRequestsMax) {
      stop('fetch_requests');
      break;
    }
    fetches += byLeader.size;
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const fetched = await fetchPartitions(reader.cluster, topic, leader, new Map(list.map((r) => [r.partition, r.position])), {
          maxBytes: config.fetchBytesMax,
          maxWaitMs: 0,
          decompressedBytesMax: config.fetchBytesMax * 64,
        });
        for (const part of fetched) {
          const r = list.find((item) => item.partition === part.partition)!;
          if (part.error !== null) {
            r.error = part.error;
            r.done = true;
            continue;
          }
          for (const message of part.messages) {
            if (message.offsetNumber >= r.end) break;
            r.scanned++;
            if (!matches(message, query.filter)) continue;
            r.found.push(viewRecord(part.partition, message, query.format, config.fieldBytesMax));
            // Newest mode keeps the last `limit` matches; forward mode stops at `limit`.
            if (newest && r.found.length > query.limit) r.found.shift();
          }
          const advanced = part.nextOffset > r.position;
          r.position = part.nextOffset;
          if (!advanced || r.position >= r.end || (!newest && r.found.length >= query.limit)) r.done = true;
          if (r.scanned >= config.scanRecordsMax && !r.done) {
            r.done = true;
            stoppedBy ??= 'scan_records';
          }
        }
      }),
    );
    bytes = reads.reduce((sum, r) => sum + r.found.reduce((s, v) => s + Math.min(v.sizeBytes, config.fieldBytesMax * (2 + v.headers.length)), 0), 0);
    if (bytes > config.responseBytesMax) stop('response_bytes');
  }

  let records = reads.flatMap((r) => r.found);
  records.sort((a, b) => a.timestamp - b.timestamp || a.partition - b.partition || a.offset - b.offset);
  if (records.length > query.limit) {
    records = newest ? records.slice(records.length - query.limit) : records.slice(0, query.limit);
    stoppedBy ??= 'limit';
  }
  // Keep the answer within responseBytesMax: drop from the far end (oldest in newest mode).
  let total = 0;
  const kept: RecordView[] = [];
  const ordered = newest ? [...records].reverse() : records;
  for (const record of ordered) {
    const size = Math.min(record.sizeBytes, config.fieldBytesMax * (2 + record.headers.length));
    if (total + size > config.responseBytesMax && kept.length > 0) {
      stoppedBy = 'response_bytes';
      break;
    }
    total += size;
    kept.push(record);
  }
  if (newest) kept.reverse();
  return {
    topic: topic.name,
    records: kept,
    partitions: reads.map((r) => ({
      partition: r.partition,
      logStartOffset: r.logStartOffset,
      highWatermark: r.highWatermark,
      from: r.from,
      nextOffset: r.from === null ? null : r.position,
      scanned: r.scanned,
      error: r.error,
    })),
    complete: stoppedBy === null || stoppedBy === 'limit',
    stoppedBy,
  };
}

/** The topic's metadata, or a 404 naming it. */
export function requireTopic(topics: readonly TopicMetadata[], name: string): TopicMetadata {
  const topic = topics.find((t) => t.name === name);
  if (topic === undefined) throw new ConsoleError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${name}' does not exist`, 404);
  return topic;
}
