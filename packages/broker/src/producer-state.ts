/**
 * Idempotent producer state of one partition (Kafka's ProducerStateManager): per producer id the
 * current epoch, when the broker last saw it, and the last few batches' sequence → offset ranges,
 * so a retried batch is answered with its original offsets instead of being appended twice, and a
 * gap or a reused sequence is refused.
 *
 * A retry is recognised by producer id, epoch, first and last sequence together (the last sequence
 * is the first plus the record count less one). A batch that starts at a remembered batch's first
 * sequence but ends elsewhere is not a retry: it is refused with OUT_OF_ORDER_SEQUENCE_NUMBER, as
 * Kafka refuses any batch that is neither a duplicate nor next in sequence. (The Partition also
 * compares a duplicate's records with the stored batch; see `Partition.appendRecordsToLeader`.)
 *
 * Snapshot format (`<offset>.snapshot` in the partition dir, Kafka's layout, version 1, big-endian):
 *   Version i16 = 1 | Crc u32 (CRC-32C of everything after this field) | Count i32 | Count entries
 *   of ProducerId i64, ProducerEpoch i16, LastSequence i32, LastOffset i64, OffsetDelta i32,
 *   Timestamp i64, CoordinatorEpoch i32, CurrentTxnFirstOffset i64 (-1: none).
 * As in Kafka, a snapshot keeps only each producer's last batch; the batches after it are rebuilt
 * by replaying the log from the snapshot's offset. Timestamp is when this broker last saw the
 * producer (see `update`). Single-threaded; the Partition owns it.
 */
import assert from 'node:assert';
import { ErrorCode } from '@gregor/protocol';
import { crc32c } from '@gregor/records';
import { BrokerError } from './errors.js';

export const NO_PRODUCER_ID = -1;
export const NO_PRODUCER_EPOCH = -1;
export const NO_SEQUENCE = -1;
const INT32_MAX = 2_147_483_647;
const SNAPSHOT_VERSION = 1;
const SNAPSHOT_HEADER_BYTES = 2 + 4 + 4;
const SNAPSHOT_ENTRY_BYTES = 8 + 2 + 4 + 8 + 4 + 8 + 4 + 8;

/** The batch-header fields producer state looks at. */
export interface ProducerBatchHeader {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  lastOffsetDelta: number;
}

export interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  firstOffset: number;
  lastOffset: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** When the broker last appended or loaded a batch of this producer (ms); expiration counts from it. */
  lastTimestamp: number;
  /** Oldest first, at least one, at most `batchesRetained`. */
  batches: BatchMetadata[];
}

export type ProducerCheck =
  | { kind: 'append' }
  | { kind: 'duplicate'; batch: BatchMetadata }
  | { kind: 'error'; errorCode: number; message: string };

/** The last sequence of a batch, wrapping past Int.MaxValue as Kafka's DefaultRecordBatch does. */
export function lastSequenceOf(baseSequence: number, lastOffsetDelta: number): number {
  const last = baseSequence + lastOffsetDelta;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

/** The first sequence of a batch from its last one (Kafka's DefaultRecordBatch.decrementSequence). */
export function firstSequenceOf(lastSequence: number, lastOffsetDelta: number): number {
  return lastSequence < lastOffsetDelta ? INT32_MAX - (lastOffsetDelta - lastSequence) + 1 : lastSequence - lastOffsetDelta;
}

function isInSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === INT32_MAX);
}

export class ProducerStateManager {
  readonly entries = new Map<number, ProducerEntry>();

  constructor(private readonly batchesRetained: number) {}

  /**
   * Kafka's checks for a client append of one batch: an older epoch is fenced, a retried batch is a
   * duplicate, a sequence that does not follow the last one is out of order, a new epoch starts at
   * sequence 0, and a producer this partition does not know must start at sequence 0.
   */
  check(header: ProducerBatchHeader): ProducerCheck {
    if (header.producerId === NO_PRODUCER_ID) return { kind: 'append' };
    const entry = this.entries.get(header.producerId);
    if (entry === undefined) {
      if (header.baseSequence !== 0) return error(ErrorCode.UNKNOWN_PRODUCER_ID, `Unknown producer ${header.producerId} starting at sequence ${header.baseSequence}`);
      return { kind: 'append' };
    }
    if (header.producerEpoch < entry.producerEpoch) {
      return error(ErrorCode.INVALID_PRODUCER_EPOCH, `Producer ${header.producerId} epoch ${header.producerEpoch} is older than ${entry.producerEpoch}`);
    }
    if (header.producerEpoch > entry.producerEpoch) {
      if (header.baseSequence !== 0) return error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `Producer ${header.producerId}: new epoch ${header.producerEpoch} must start at sequence 0, not ${header.baseSequence}`);
      return { kind: 'append' };
    }
    const lastSequence = lastSequenceOf(header.baseSequence, header.lastOffsetDelta);
    const sameStart = entry.batches.find((batch) => batch.firstSequence === header.baseSequence);
    if (sameStart !== undefined) {
      if (sameStart.lastSequence === lastSequence) return { kind: 'duplicate', batch: sameStart };
      return error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER,
        `Producer ${header.producerId}: sequences ${header.baseSequence}..${lastSequence} start the batch already stored at offset ${sameStart.firstOffset} with sequences ${sameStart.firstSequence}..${sameStart.lastSequence}; a retry must carry the same records`);
    }
    const last = entry.batches[entry.batches.length - 1];
    if (!isInSequence(last.lastSequence, header.baseSequence)) {
      return error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `Producer ${header.producerId}: sequence ${header.baseSequence} does not follow ${last.lastSequence}`);
    }
    return { kind: 'append' };
  }

  /**
   * Records a batch appended at `firstOffset` (a client append after `check`, or a batch replayed
   * from the log at open), seen at `timestampMs`. A new epoch forgets the old epoch's batches.
   */
  update(header: ProducerBatchHeader, firstOffset: number, timestampMs: number): void {
    if (header.producerId === NO_PRODUCER_ID) return;
    const current = this.entries.get(header.producerId);
    const batches = current !== undefined && current.producerEpoch === header.producerEpoch ? current.batches : [];
    batches.push({
      firstSequence: header.baseSequence,
      lastSequence: lastSequenceOf(header.baseSequence, header.lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + header.lastOffsetDelta,
    });
    while (batches.length > this.batchesRetained) batches.shift();
    this.entries.set(header.producerId, {
      producerId: header.producerId,
      producerEpoch: header.producerEpoch,
      coordinatorEpoch: current?.coordinatorEpoch ?? -1,
      lastTimestamp: Math.max(timestampMs, current?.lastTimestamp ?? timestampMs),
      batches,
    });
  }

  /** Kafka's removeExpiredProducers: forgets producers not seen for `expirationMs` or more. */
  removeExpired(nowMs: number, expirationMs: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.entries) {
      if (nowMs - entry.lastTimestamp >= expirationMs) {
        this.entries.delete(producerId);
        removed++;
      }
    }
    return removed;
  }

  /** The highest producer id this partition remembers, or -1. */
  highestProducerId(): number {
    let highest = NO_PRODUCER_ID;
    for (const producerId of this.entries.keys()) highest = Math.max(highest, producerId);
    return highest;
  }

  clear(): void {
    this.entries.clear();
  }

  encodeSnapshot(): Buffer {
    const buffer = Buffer.alloc(SNAPSHOT_HEADER_BYTES + this.entries.size * SNAPSHOT_ENTRY_BYTES);
    buffer.writeInt16BE(SNAPSHOT_VERSION, 0);
    buffer.writeInt32BE(this.entries.size, 6);
    let position = SNAPSHOT_HEADER_BYTES;
    for (const entry of this.entries.values()) {
      const last = entry.batches[entry.batches.length - 1];
      assert(last !== undefined, 'a producer entry holds at least one batch');
      buffer.writeBigInt64BE(BigInt(entry.producerId), position);
      buffer.writeInt16BE(entry.producerEpoch, position + 8);
      buffer.writeInt32BE(last.lastSequence, position + 10);
      buffer.writeBigInt64BE(BigInt(last.lastOffset), position + 14);
      buffer.writeInt32BE(last.lastOffset - last.firstOffset, position + 22);
      buffer.writeBigInt64BE(BigInt(entry.lastTimestamp), position + 26);
      buffer.writeInt32BE(entry.coordinatorEpoch, position + 34);
      buffer.writeBigInt64BE(-1n, position + 38);
      position += SNAPSHOT_ENTRY_BYTES;
    }
    buffer.writeUInt32BE(crc32c(buffer.subarray(6)) >>> 0, 2);
    return buffer;
  }

  /**
   * Replaces the state with a snapshot's; a corrupt snapshot is a typed error. As Kafka's
   * loadFromSnapshot, producers already expired at `nowMs` are not loaded.
   */
  loadSnapshot(snapshot: Buffer, path: string, nowMs: number, expirationMs: number): void {
    const corrupt = (why: string): BrokerError => new BrokerError('CORRUPT_SNAPSHOT', `${path}: ${why}`, ErrorCode.CORRUPT_MESSAGE);
    if (snapshot.length < SNAPSHOT_HEADER_BYTES) throw corrupt('shorter than its header');
    if (snapshot.readInt16BE(0) !== SNAPSHOT_VERSION) throw corrupt(`unknown version ${snapshot.readInt16BE(0)}`);
    if ((crc32c(snapshot.subarray(6)) >>> 0) !== snapshot.readUInt32BE(2)) throw corrupt('CRC mismatch');
    const count = snapshot.readInt32BE(6);
    if (count < 0 || SNAPSHOT_HEADER_BYTES + count * SNAPSHOT_ENTRY_BYTES !== snapshot.length) throw corrupt(`entry count ${count} does not match its length`);
    const loaded: ProducerEntry[] = [];
    for (let position = SNAPSHOT_HEADER_BYTES; position < snapshot.length; position += SNAPSHOT_ENTRY_BYTES) {
      const entry = readSnapshotEntry(snapshot, position);
      if (entry === null) throw corrupt(`entry at byte ${position} is out of range`);
      loaded.push(entry);
    }
    this.entries.clear();
    for (const entry of loaded) if (nowMs - entry.lastTimestamp < expirationMs) this.entries.set(entry.producerId, entry);
  }
}

/** One snapshot entry, or null when a field is outside what a real entry can hold. */
function readSnapshotEntry(snapshot: Buffer, position: number): ProducerEntry | null {
  const producerId = Number(snapshot.readBigInt64BE(position));
  const producerEpoch = snapshot.readInt16BE(position + 8);
  const lastSequence = snapshot.readInt32BE(position + 10);
  const lastOffset = Number(snapshot.readBigInt64BE(position + 14));
  const offsetDelta = snapshot.readInt32BE(position + 22);
  const lastTimestamp = Number(snapshot.readBigInt64BE(position + 26));
  if (!Number.isSafeInteger(producerId) || producerId < 0 || lastSequence < 0 || offsetDelta < 0 || !Number.isSafeInteger(lastOffset) || lastOffset < offsetDelta || !Number.isSafeInteger(lastTimestamp)) return null;
  return {
    producerId,
    producerEpoch,
    coordinatorEpoch: snapshot.readInt32BE(position + 34),
    lastTimestamp,
    batches: [{ firstSequence: firstSequenceOf(lastSequence, offsetDelta), lastSequence, firstOffset: lastOffset - offsetDelta, lastOffset }],
  };
}

function error(errorCode: number, message: string): ProducerCheck {
  return { kind: 'error', errorCode, message };
}
