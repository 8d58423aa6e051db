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
import { batchesIn, decodeBatch, RecordsError } from '@gregor/records';
import { FetchedMessage } from './message.js';
import { fromRecordHeaders } from './values.js';

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
      const step = this.batches.next();
      if (step.done === true) return this.end(null);
      const { position, sizeBytes } = step.value;
      const batch = decodeBatch(this.records, position, { decompressedBytesMax: this.decompressedBytesMax, verifyCrc: this.verifyCrc });
      const batchEnd = batch.baseOffset + batch.lastOffsetDelta + 1;
      const pendingAborts = this.pendingAborts;
      while (pendingAborts.length > 0 && pendingAborts[0].firstOffset < batchEnd) this.abortedProducers.add(pendingAborts.shift()!.producerId);
      if (batch.isControl) {
        this.abortedProducers.delete(batch.producerId);
        return this.passed(batchEnd, 0);
      }
      if (batch.isTransactional && this.abortedProducers.has(batch.producerId)) return this.passed(batchEnd, 0);
      const fetchOffset = this.fetchOffset;
      const cursor = batch.recordCursor();
      while (cursor.next()) {
        if (cursor.offset < fetchOffset) continue;
        into.push(new FetchedMessage(cursor, cursor.headerCount === 0 ? NO_HEADERS : fromRecordHeaders(cursor.headers()), cursor.attributes, sizeBytes));
      }
      return this.passed(batchEnd, into.length - lengthBefore);
    } catch (error) {
      if (!(error instanceof RecordsError)) throw error;
      into.length = lengthBefore;
      return this.end(error);
    }
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
