/**
 * The record set one partition answered in a Fetch, decoded one RecordBatch at a time straight into
 * the consumer's message list: `readBatch(into)` appends the messages of the next batch at or after
 * the fetch offset, skipping control batches and, under read_committed, the batches of transactions
 * the broker lists as aborted (Kafka's consumer: a producer's batches from its aborted firstOffset
 * up to its next control marker). Decoding goes batch by batch so that each message is short-lived
 * (a whole fetch decoded at once outlives the young generation and makes garbage collection the main
 * cost), and straight into the caller's list so that an eachBatch group of a few thousand messages is
 * built without a list per batch and a copy. The first batch that does not decode ends the set
 * quietly (`damage` holds why) with none of its messages appended: the caller hands out what came
 * before and then reports the damage at its position. One caller; not shared.
 */
import { batchesIn, type DecodedBatch, decodeBatch, type RecordCursor, type RecordHeader, RecordsError } from '@gregor/records';
import { FetchedMessage } from './message.js';
import { fromRecordHeaders } from './values.js';

/** decodeNext's answer for a control or aborted batch: nothing to hand out, the position moves past it. */
const PASSED = Symbol('passed');

/** Shared by every message without headers (most), so none allocates an empty object. */
const NO_HEADERS: Readonly<Record<string, never>> = Object.freeze({});

export class FetchedRecords {
  /** Why the set ended early: the first batch that does not decode; null while every batch decoded. */
  damage: RecordsError | null = null;
  /** The offset after the last batch read (control and skipped batches included). */
  nextPosition: number;
  private readonly batches: Iterator<{ position: number; sizeBytes: number }>;
  private readonly pendingAborts: { producerId: number; firstOffset: number }[];
  private readonly abortedProducers = new Set<number>();
  private ended = false;
  /** Size of the batch decodeNext returned last (each message's `size`, as kafkajs). */
  private batchSizeBytes = 0;
  /** nextRecord's position: the batch being walked, and the offset after it. */
  private cursor: RecordCursor | null = null;
  private cursorBatchEnd = 0;
  /** The offset of the last record nextRecord handed out; -1 before the first. */
  lastRecordOffset = -1;

  constructor(
    private readonly fetchOffset: number,
    private readonly records: Buffer,
    aborted: readonly { producerId: number; firstOffset: number }[] | null,
    private readonly decompressedBytesMax: number,
    private readonly verifyCrc = true,
  ) {
    this.nextPosition = fetchOffset;
    this.pendingAborts = aborted === null ? [] : [...aborted].sort((a, b) => a.firstOffset - b.firstOffset);
    this.batches = batchesIn(records, { allowPartialTail: true });
  }

  /**
   * Decodes the next RecordBatch and appends its messages to `into`: returns how many (0 for a
   * control, aborted or wholly skipped batch), or -1 when no batch is left or this one does not
   * decode (`damage` says why; `into` is then as it was).
   */
  readBatch(into: FetchedMessage[]): number {
    if (this.ended) return -1;
    const lengthBefore = into.length;
    try {
      const batch = this.decodeNext();
      if (batch === null) return this.end(null);
      if (batch === PASSED) return 0;
      const fetchOffset = this.fetchOffset;
      const sizeBytes = this.batchSizeBytes;
      const cursor = batch.recordCursor();
      while (cursor.next()) {
        if (cursor.offset < fetchOffset) continue;
        into.push(new FetchedMessage(cursor, cursor.headerCount === 0 ? NO_HEADERS : fromRecordHeaders(cursor.headers()), cursor.attributes, sizeBytes));
      }
      return this.passed(batch.baseOffset + batch.lastOffsetDelta + 1, into.length - lengthBefore);
    } catch (error) {
      if (!(error instanceof RecordsError)) throw error;
      into.length = lengthBefore;
      return this.end(error);
    }
  }

  /**
   * The next record at or after the fetch offset, across batches (control and aborted ones passed
   * over), as a cursor valid until the following call; null when the set ended: every batch read,
   * or a batch or record that does not decode (`damage` says why; the records before it were
   * handed out, as Kafka's consumer does). For `eachRecords`: no object per record.
   */
  nextRecord(): RecordCursor | null {
    if (this.ended) return null;
    try {
      for (;;) {
        const cursor = this.cursor;
        if (cursor !== null) {
          while (cursor.next()) {
            if (cursor.offset < this.fetchOffset) continue;
            this.lastRecordOffset = cursor.offset;
            return cursor;
          }
          this.cursor = null;
          this.passed(this.cursorBatchEnd, 0);
        }
        const batch = this.decodeNext();
        if (batch === null) {
          this.end(null);
          return null;
        }
        if (batch === PASSED) continue;
        this.cursor = batch.recordCursor();
        this.cursorBatchEnd = batch.baseOffset + batch.lastOffsetDelta + 1;
      }
    } catch (error) {
      if (!(error instanceof RecordsError)) throw error;
      this.cursor = null;
      this.end(error);
      return null;
    }
  }

  /** Whether every batch was read without damage (the position is then past the whole set). */
  get isComplete(): boolean {
    return this.ended && this.damage === null;
  }

  /**
   * Decodes the next batch with records to hand out; PASSED for a control or aborted batch (the
   * position moves past it), null when none is left. Throws the RecordsError of a bad batch.
   */
  private decodeNext(): DecodedBatch | typeof PASSED | null {
    const step = this.batches.next();
    if (step.done === true) return null;
    const { position, sizeBytes } = step.value;
    const batch = decodeBatch(this.records, position, { decompressedBytesMax: this.decompressedBytesMax, verifyCrc: this.verifyCrc });
    this.batchSizeBytes = sizeBytes;
    const batchEnd = batch.baseOffset + batch.lastOffsetDelta + 1;
    const pendingAborts = this.pendingAborts;
    while (pendingAborts.length > 0 && pendingAborts[0].firstOffset < batchEnd) this.abortedProducers.add(pendingAborts.shift()!.producerId);
    if (batch.isControl) {
      this.abortedProducers.delete(batch.producerId);
      this.passed(batchEnd, 0);
      return PASSED;
    }
    if (batch.isTransactional && this.abortedProducers.has(batch.producerId)) {
      this.passed(batchEnd, 0);
      return PASSED;
    }
    return batch;
  }

  /** A batch was read whole: the position moves past it (it never moves back). */
  private passed(batchEnd: number, appended: number): number {
    if (batchEnd > this.nextPosition) this.nextPosition = batchEnd;
    return appended;
  }

  private end(damage: RecordsError | null): -1 {
    this.ended = true;
    this.damage = damage;
    return -1;
  }
}

/** Before the first `next()` and after the last: no record (every length -1). */
const NO_RECORD: RecordCursor = Object.freeze({
  data: Buffer.alloc(0),
  offset: -1,
  timestamp: -1,
  attributes: 0,
  keyStart: 0,
  keyLength: -1,
  valueStart: 0,
  valueLength: -1,
  headerCount: 0,
  key: () => null,
  value: () => null,
  headers: () => [],
  next: () => false,
});

/**
 * What `eachRecords` walks: the records one fetch returned for a partition, one at a time, with
 * key and value as positions into the fetched bytes (`data`, `keyStart`, `keyLength`...; lengths
 * -1 for null) instead of two Buffers per record. `next()` moves to the following record and
 * returns false after the last. The positions change with every `next()`; `key()`, `value()` and
 * `headers()` return Buffers (views of the fetched bytes, valid after the handler too) for the
 * records a handler wants to keep. Offsets and timestamps are numbers, not kafkajs's strings.
 */
export class RecordSetCursor {
  private current: RecordCursor = NO_RECORD;
  private handed = 0;

  constructor(private readonly set: FetchedRecords) {}

  /** Moves to the next record; false when there is none left. */
  next(): boolean {
    const record = this.set.nextRecord();
    if (record === null) {
      this.current = NO_RECORD;
      return false;
    }
    this.current = record;
    this.handed++;
    return true;
  }

  /** Records handed out so far. */
  get count(): number {
    return this.handed;
  }

  /** The bytes the positions point into (a fetched batch, or its decompressed records). */
  get data(): Buffer {
    return this.current.data;
  }
  get offset(): number {
    return this.current.offset;
  }
  /** Milliseconds since the epoch. */
  get timestamp(): number {
    return this.current.timestamp;
  }
  get attributes(): number {
    return this.current.attributes;
  }
  get keyStart(): number {
    return this.current.keyStart;
  }
  /** -1 for a null key. */
  get keyLength(): number {
    return this.current.keyLength;
  }
  get valueStart(): number {
    return this.current.valueStart;
  }
  /** -1 for a null value (a tombstone). */
  get valueLength(): number {
    return this.current.valueLength;
  }
  get headerCount(): number {
    return this.current.headerCount;
  }
  key(): Buffer | null {
    return this.current.key();
  }
  value(): Buffer | null {
    return this.current.value();
  }
  headers(): RecordHeader[] {
    return this.current.headers();
  }
}
