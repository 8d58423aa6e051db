/**
 * Idempotent producer state of one partition (Kafka's ProducerStateManager): per producer id the
 * current epoch and the last few batches' sequence → offset ranges, so a retried batch is answered
 * with its original offsets instead of being appended twice, and a gap in sequences is refused.
 *
 * Snapshot format (`<offset>.snapshot` in the partition dir, Kafka's layout, version 1, big-endian):
 *   Version i16 = 1 | Crc u32 (CRC-32C of everything after this field) | Count i32 | Count entries
 *   of ProducerId i64, ProducerEpoch i16, LastSequence i32, LastOffset i64, OffsetDelta i32,
 *   Timestamp i64, CoordinatorEpoch i32, CurrentTxnFirstOffset i64 (-1: none).
 * As in Kafka, a snapshot keeps only each producer's last batch; the batches after it are rebuilt
 * by replaying the log from the snapshot's offset. Single-threaded; the Partition owns it.
 */
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
  maxTimestamp: number;
}

export interface BatchMetadata {
  firstSequence: number;
  lastSequence: number;
  firstOffset: number;
  lastOffset: number;
  timestamp: number;
}

export interface ProducerEntry {
  producerId: number;
  producerEpoch: number;
  coordinatorEpoch: number;
  /** Oldest first, at most `batchesRetained`. */
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

function isInSequence(lastSequence: number, nextSequence: number): boolean {
  return nextSequence === lastSequence + 1 || (nextSequence === 0 && lastSequence === INT32_MAX);
}

export class ProducerStateManager {
  readonly entries = new Map<number, ProducerEntry>();

  constructor(private readonly batchesRetained: number) {}

  /**
   * Kafka's checks for a client append of one batch: an older epoch is fenced, a retried batch is a
   * duplicate, a sequence that does not follow the last one is out of order, and an unknown
   * producer must start at sequence 0. `pending` holds entries already updated by earlier
   * batches of the same request.
   */
  check(header: ProducerBatchHeader, pending?: Map<number, ProducerEntry>): ProducerCheck {
    if (header.producerId === NO_PRODUCER_ID) return { kind: 'append' };
    const entry = pending?.get(header.producerId) ?? this.entries.get(header.producerId);
    if (entry === undefined) {
      if (header.baseSequence !== 0) return error(ErrorCode.UNKNOWN_PRODUCER_ID, `Unknown producer ${header.producerId} starting at sequence ${header.baseSequence}`);
      return { kind: 'append' };
    }
    if (header.producerEpoch < entry.producerEpoch) {
      return error(ErrorCode.INVALID_PRODUCER_EPOCH, `Producer ${header.producerId} epoch ${header.producerEpoch} is older than ${entry.producerEpoch}`);
    }
    const lastSequence = lastSequenceOf(header.baseSequence, header.lastOffsetDelta);
    if (header.producerEpoch === entry.producerEpoch) {
      const duplicate = entry.batches.find((batch) => batch.firstSequence === header.baseSequence && batch.lastSequence === lastSequence);
      if (duplicate !== undefined) return { kind: 'duplicate', batch: duplicate };
      const last = entry.batches.at(-1);
      if (last !== undefined && !isInSequence(last.lastSequence, header.baseSequence)) {
        return error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `Producer ${header.producerId}: sequence ${header.baseSequence} does not follow ${last.lastSequence}`);
      }
      return { kind: 'append' };
    }
    if (header.baseSequence !== 0) {
      return error(ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER, `Producer ${header.producerId}: new epoch ${header.producerEpoch} must start at sequence 0`);
    }
    return { kind: 'append' };
  }

  /** The entry after appending the batch at firstOffset; does not modify this manager. */
  updated(header: ProducerBatchHeader, firstOffset: number, pending?: Map<number, ProducerEntry>): ProducerEntry {
    const current = pending?.get(header.producerId) ?? this.entries.get(header.producerId);
    const sameEpoch = current !== undefined && current.producerEpoch === header.producerEpoch;
    const batches = sameEpoch ? current.batches.slice() : [];
    batches.push({
      firstSequence: header.baseSequence,
      lastSequence: lastSequenceOf(header.baseSequence, header.lastOffsetDelta),
      firstOffset,
      lastOffset: firstOffset + header.lastOffsetDelta,
      timestamp: header.maxTimestamp,
    });
    while (batches.length > this.batchesRetained) batches.shift();
    return { producerId: header.producerId, producerEpoch: header.producerEpoch, coordinatorEpoch: current?.coordinatorEpoch ?? -1, batches };
  }

  /** Records a batch found in the log (replay at open or an append); no validation. */
  replay(header: ProducerBatchHeader, firstOffset: number): void {
    if (header.producerId === NO_PRODUCER_ID) return;
    this.entries.set(header.producerId, this.updated(header, firstOffset));
  }

  commit(entries: Map<number, ProducerEntry>): void {
    for (const [producerId, entry] of entries) this.entries.set(producerId, entry);
  }

  /** Kafka's removeExpiredProducers: forgets producers whose last batch is older than the cutoff. */
  removeExpired(cutoffTimestamp: number): number {
    let removed = 0;
    for (const [producerId, entry] of this.entries) {
      const last = entry.batches.at(-1);
      if (last === undefined || last.timestamp < cutoffTimestamp) {
        this.entries.delete(producerId);
        removed++;
      }
    }
    return removed;
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
      const last = entry.batches.at(-1);
      if (last === undefined) continue;
      buffer.writeBigInt64BE(BigInt(entry.producerId), position);
      buffer.writeInt16BE(entry.producerEpoch, position + 8);
      buffer.writeInt32BE(last.lastSequence, position + 10);
      buffer.writeBigInt64BE(BigInt(last.lastOffset), position + 14);
      buffer.writeInt32BE(last.lastOffset - last.firstOffset, position + 22);
      buffer.writeBigInt64BE(BigInt(last.timestamp), position + 26);
      buffer.writeInt32BE(entry.coordinatorEpoch, position + 34);
      buffer.writeBigInt64BE(-1n, position + 38);
      position += SNAPSHOT_ENTRY_BYTES;
    }
    buffer.writeInt32BE((position - SNAPSHOT_HEADER_BYTES) / SNAPSHOT_ENTRY_BYTES, 6);
    const snapshot = buffer.subarray(0, position);
    snapshot.writeUInt32BE(crc32c(snapshot.subarray(6)) >>> 0, 2);
    return snapshot;
  }

  /** Replaces the state with a snapshot's; a corrupt snapshot is a typed error. */
  loadSnapshot(snapshot: Buffer, path: string): void {
    const corrupt = (why: string): BrokerError => new BrokerError('CORRUPT_SNAPSHOT', `${path}: ${why}`, ErrorCode.CORRUPT_MESSAGE);
    if (snapshot.length < SNAPSHOT_HEADER_BYTES) throw corrupt('shorter than its header');
    if (snapshot.readInt16BE(0) !== SNAPSHOT_VERSION) throw corrupt(`unknown version ${snapshot.readInt16BE(0)}`);
    if ((crc32c(snapshot.subarray(6)) >>> 0) !== snapshot.readUInt32BE(2)) throw corrupt('CRC mismatch');
    const count = snapshot.readInt32BE(6);
    if (count < 0 || SNAPSHOT_HEADER_BYTES + count * SNAPSHOT_ENTRY_BYTES !== snapshot.length) throw corrupt(`entry count ${count} does not match its length`);
    this.entries.clear();
    for (let position = SNAPSHOT_HEADER_BYTES; position < snapshot.length; position += SNAPSHOT_ENTRY_BYTES) {
      const producerId = Number(snapshot.readBigInt64BE(position));
      const lastSequence = snapshot.readInt32BE(position + 10);
      const lastOffset = Number(snapshot.readBigInt64BE(position + 14));
      const offsetDelta = snapshot.readInt32BE(position + 22);
      this.entries.set(producerId, {
        producerId,
        producerEpoch: snapshot.readInt16BE(position + 8),
        coordinatorEpoch: snapshot.readInt32BE(position + 34),
        batches: [{
          firstSequence: Math.max(0, lastSequence - offsetDelta),
          lastSequence,
          firstOffset: lastOffset - offsetDelta,
          lastOffset,
          timestamp: Number(snapshot.readBigInt64BE(position + 26)),
        }],
      });
    }
  }
}

function error(errorCode: number, message: string): ProducerCheck {
  return { kind: 'error', errorCode, message };
}
