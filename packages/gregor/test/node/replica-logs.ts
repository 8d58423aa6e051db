/**
 * What the replicas of a partition hold on disk, for the multi-process tests' last check (issue 8:
 * "after healing, every replica's log is identical below the high watermark"), read after the
 * nodes have stopped:
 *
 * - `readStoredBatches(partitionDir)`: every segment file `<20-digit base offset>.log` of a
 *   partition directory, in base-offset order, walked batch by batch with @gregor/records' header
 *   reader (Kafka's RecordBatch v2 framing); each batch keeps its offsets, leader epoch, CRC,
 *   whether the CRC holds, and its bytes. Read-only: no PartitionLog is opened (opening recovers,
 *   and could change what is being checked).
 * - `highWatermarkCheckpoint(dataDir)`: the node's `replication-offset-checkpoint`.
 * - `replicaDivergences(replicas, highWatermark)`: every way the replicas differ below the high
 *   watermark (a batch missing, extra, moved, with another leader epoch, CRC or bytes; a CRC that
 *   does not hold; a replica ending below the high watermark); empty when they are identical.
 * - `recordsBelow(batches, highWatermark)`: the records a replica holds below the high watermark.
 * - `highWatermarksOnceInSync(direct, topics)`: once every broker sees every partition of the topics
 *   led and with all its replicas in sync (`gregor cluster status`'s code), each partition's high
 *   watermark as its leader answers ListOffsets (latest, read_uncommitted), through kafkajs.
 * - `stopAndCompareReplicas(processes, highWatermarks)`: the end of a multi-process test, all of
 *   the above: stops every node cleanly (SIGTERM by pid), then compares each partition's replicas
 *   below the high watermark its leader reported before the stop.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { nodeFileSystem, readOffsetCheckpoint } from '@gregor/log';
import { BATCH_HEADER_BYTES, decodeBatch, isBatchCrcValid, readBatchHeader } from '@gregor/records';
import { statusFromBroker } from '../../src/cli/cluster/status.js';
import type { NodeProcesses } from '../support/node-processes.js';

export interface StoredBatch {
  /** The segment file it was read from, and its position there (for messages). */
  file: string;
  position: number;
  baseOffset: number;
  lastOffset: number;
  partitionLeaderEpoch: number;
  crc: number;
  isCrcValid: boolean;
  isControl: boolean;
  /** The whole batch, header included. */
  bytes: Buffer;
}

export interface StoredLog {
  batches: StoredBatch[];
  /** Bytes at the end of a segment that are not a whole batch (none after a clean shutdown). */
  problems: string[];
}

const SEGMENT_FILE = /^\d{20}\.log$/;

export function readStoredBatches(partitionDir: string): StoredLog {
  const batches: StoredBatch[] = [];
  const problems: string[] = [];
  const segments = fs.readdirSync(partitionDir).filter((name) => SEGMENT_FILE.test(name)).sort();
  for (const name of segments) {
    const data = fs.readFileSync(path.join(partitionDir, name));
    let position = 0;
    while (position < data.length) {
      if (data.length - position < BATCH_HEADER_BYTES) {
        problems.push(`${name}: ${data.length - position} trailing bytes at ${position}`);
        break;
      }
      const header = readBatchHeader(data, position);
      if (position + header.sizeBytes > data.length) {
        problems.push(`${name}: the batch at ${position} (offset ${header.baseOffset}) needs ${header.sizeBytes} bytes, ${data.length - position} left`);
        break;
      }
      batches.push({
        file: name,
        position,
        baseOffset: header.baseOffset,
        lastOffset: header.lastOffset,
        partitionLeaderEpoch: header.partitionLeaderEpoch,
        crc: header.crc,
        isCrcValid: isBatchCrcValid(data, position),
        isControl: header.isControl,
        bytes: data.subarray(position, position + header.sizeBytes),
      });
      position += header.sizeBytes;
    }
  }
  return { batches, problems };
}

/** `topic-partition` → the high watermark the node checkpointed (a missing file is empty). */
export function highWatermarkCheckpoint(dataDir: string): Map<string, number> {
  const entries = readOffsetCheckpoint(nodeFileSystem, path.join(dataDir, 'replication-offset-checkpoint'));
  return new Map([...entries].map(([key, entry]) => [key, entry.offset]));
}

const describe = (batch: StoredBatch) =>
  `offsets ${batch.baseOffset}-${batch.lastOffset} epoch ${batch.partitionLeaderEpoch} crc ${batch.crc.toString(16)} (${batch.bytes.length} bytes at ${batch.file}:${batch.position})`;

/**
 * Every difference between the replicas' batches below `highWatermark` (those whose base offset
 * is below it), each replica against the first one named; plus, per replica, batches below the
 * high watermark that fail their CRC, that do not follow each other without a gap, or a log that
 * ends before the high watermark. Empty when every replica holds the same bytes below it.
 */
export function replicaDivergences(replicas: ReadonlyMap<number, readonly StoredBatch[]>, highWatermark: number): string[] {
  const divergences: string[] = [];
  const below = new Map([...replicas].map(([node, batches]) => [node, batches.filter((batch) => batch.baseOffset < highWatermark)] as const));
  for (const [node, batches] of below) {
    for (const batch of batches) if (!batch.isCrcValid) divergences.push(`node ${node}: the batch at ${describe(batch)} fails its CRC`);
    for (let i = 1; i < batches.length; i++) {
      const previous = batches[i - 1] as StoredBatch;
      const batch = batches[i] as StoredBatch;
      if (batch.baseOffset !== previous.lastOffset + 1) divergences.push(`node ${node}: ${describe(batch)} follows ${describe(previous)}`);
    }
    const end = (batches.at(-1)?.lastOffset ?? -1) + 1;
    if (end < highWatermark) divergences.push(`node ${node}: the log ends at ${end}, below the high watermark ${highWatermark}`);
  }
  const [[reference, expected] = [0, []], ...others] = [...below];
  for (const [node, batches] of others) {
    for (let i = 0; i < Math.max(batches.length, expected.length); i++) {
      const mine = batches[i];
      const theirs = expected[i];
      if (mine === undefined || theirs === undefined) {
        divergences.push(`batch ${i} below the high watermark: node ${node} has ${mine === undefined ? 'none' : describe(mine)}, node ${reference} has ${theirs === undefined ? 'none' : describe(theirs)}`);
        break;
      }
      const same =
        mine.baseOffset === theirs.baseOffset &&
        mine.lastOffset === theirs.lastOffset &&
        mine.partitionLeaderEpoch === theirs.partitionLeaderEpoch &&
        mine.crc === theirs.crc &&
        mine.bytes.equals(theirs.bytes);
      if (!same) {
        // The first difference says it; the batches after it would all differ too.
        divergences.push(`batch ${i} below the high watermark: node ${node} has ${describe(mine)}${mine.bytes.equals(theirs.bytes) ? '' : ' (other bytes)'}, node ${reference} has ${describe(theirs)}`);
        break;
      }
    }
  }
  return divergences;
}

/** The data records (no control records) of `batches` below `highWatermark`, in offset order (CRCs are `replicaDivergences`' to check). */
export function recordsBelow(batches: readonly StoredBatch[], highWatermark: number): { offset: number; value: string | null }[] {
  const records: { offset: number; value: string | null }[] = [];
  for (const batch of batches) {
    if (batch.baseOffset >= highWatermark) break;
    if (batch.isControl) continue;
    for (const record of decodeBatch(batch.bytes, 0, { verifyCrc: false }).records()) {
      if (record.offset < highWatermark) records.push({ offset: record.offset, value: record.value === null ? null : record.value.toString('utf8') });
    }
  }
  return records;
}

export interface ReplicaComparison {
  /** Every difference found, each naming the partition and the node; empty when all agree. */
  divergences: string[];
  /** `topic-partition` → node id → the records that node's replica holds below the high watermark. */
  records: Map<string, Map<number, { offset: number; value: string | null }[]>>;
  /** How long the clean stop of all the nodes took. */
  stopMs: number;
}

/**
 * Stops every node of `processes` cleanly and at once (SIGTERM by pid; each must exit with code 0),
 * then, for each `topic-partition` of `highWatermarks` (the high watermark its leader answered
 * while the ISR was full, so every replica had the log up to it), reads each node's replica from
 * disk and reports: a replica missing or with a torn tail, a node whose checkpointed high
 * watermark is beyond its own log, no node having checkpointed at least the leader's high
 * watermark (the high watermark never goes back, and a clean stop checkpoints it), and every
 * divergence below the high watermark (`replicaDivergences`).
 */
export async function stopAndCompareReplicas(processes: NodeProcesses, highWatermarks: ReadonlyMap<string, number>): Promise<ReplicaComparison> {
  const divergences: string[] = [];
  const started = Date.now();
  const exitCodes = await Promise.all(processes.nodes.map((node) => processes.stop(node.nodeId)));
  const stopMs = Date.now() - started;
  exitCodes.forEach((code, index) => {
    if (code !== 0) divergences.push(`node ${processes.nodes[index]?.nodeId} exited with ${code} after SIGTERM`);
  });
  const checkpoints = new Map(processes.nodes.map((node) => [node.nodeId, highWatermarkCheckpoint(node.dataDir)] as const));
  const records = new Map<string, Map<number, { offset: number; value: string | null }[]>>();
  for (const [key, highWatermark] of highWatermarks) {
    const replicas = new Map<number, StoredBatch[]>();
    for (const node of processes.nodes) {
      const dir = path.join(node.dataDir, key);
      if (!fs.existsSync(dir)) {
        divergences.push(`${key}: node ${node.nodeId} has no replica`);
        continue;
      }
      const stored = readStoredBatches(dir);
      for (const problem of stored.problems) divergences.push(`${key}: node ${node.nodeId}: ${problem}`);
      const logEnd = (stored.batches.at(-1)?.lastOffset ?? -1) + 1;
      const checkpointed = checkpoints.get(node.nodeId)?.get(key);
      if (checkpointed !== undefined && checkpointed > logEnd) divergences.push(`${key}: node ${node.nodeId} checkpointed the high watermark ${checkpointed} beyond its log end ${logEnd}`);
      replicas.set(node.nodeId, stored.batches);
    }
    const checkpointedMax = Math.max(-1, ...processes.nodes.map((node) => checkpoints.get(node.nodeId)?.get(key) ?? -1));
    if (checkpointedMax < highWatermark) divergences.push(`${key}: no node checkpointed the high watermark ${highWatermark} its leader answered (the highest is ${checkpointedMax})`);
    divergences.push(...replicaDivergences(replicas, highWatermark).map((divergence) => `${key}: ${divergence}`));
    records.set(key, new Map([...replicas].map(([node, batches]) => [node, recordsBelow(batches, highWatermark)] as const)));
  }
  return { divergences, records, stopMs };
}

/**
 * Waits (up to `timeoutMs`) until each broker at `direct` sees every partition of `topics` with a
 * leader and all its replicas in sync, then asks the leaders for the high watermarks: with the ISR
 * full, every replica has the log up to them. `topic-partition` → high watermark.
 */
export async function highWatermarksOnceInSync(direct: readonly string[], topics: readonly string[], timeoutMs = 60_000): Promise<Map<string, number>> {
  const deadline = Date.now() + timeoutMs;
  for (const address of direct) {
    let last = 'no answer';
    for (;;) {
      try {
        const partitions = (await statusFromBroker(address, 'test')).partitions.filter((p) => topics.includes(p.topic));
        if (topics.every((topic) => partitions.some((p) => p.topic === topic)) && partitions.every((p) => p.leader > 0 && p.isr.length === p.replicas.length)) break;
        last = JSON.stringify(partitions.map((p) => `${p.topic}-${p.partition} leader ${p.leader} isr ${p.isr} of ${p.replicas}`));
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`${address} did not see every partition of ${topics.join(', ')} with a full ISR in ${timeoutMs} ms; last: ${last}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  const admin = new Kafka({ clientId: 'replica-check', brokers: [...direct], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100, maxRetryTime: 1000 } }).admin();
  await admin.connect();
  try {
    const highWatermarks = new Map<string, number>();
    for (const topic of topics) {
      for (const { partition, high } of await admin.fetchTopicOffsets(topic)) highWatermarks.set(`${topic}-${partition}`, Number(high));
    }
    return highWatermarks;
  } finally {
    await admin.disconnect();
  }
}
