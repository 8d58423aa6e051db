/**
 * A leader's most recent appends, kept in memory for its followers' next Fetch.
 *
 * A follower that keeps up asks for exactly what the leader appended a moment ago. Kafka answers
 * that from the page cache with sendfile (no copy into the JVM); Node has no sendfile to a socket,
 * so reading the log would cost a buffer, a copy and later a garbage collection per follower per
 * byte. The leader still holds the bytes it appended (the request frame, offsets and epoch stamped
 * in place), so it answers from them.
 *
 * What is held: record sets this broker appended as leader from bytes nobody else will change (a
 * request decoded from a frame off the wire: RequestContext.recordBytesOwned), contiguous in
 * offsets and in the log's active segment, at most `maxBytes` in all (the oldest go first), and
 * only until every follower has fetched past them. Any other change of the log's tail
 * (truncation, a roll, losing leadership) clears it: the Partition calls `clear`.
 *
 * A read is answered from here only when it starts exactly at a held record set and may take all
 * of it (its end within the read's offset limit, its size within the byte limit), with as many of
 * the following ones as fit: the bytes the log holds for that range, as a read of the segment file
 * returns them (whole batches), perhaps fewer of them. Anything else is read from the log.
 * Single-threaded, as the Partition.
 */
import assert from 'node:assert';

interface HeldAppend {
  baseOffset: number;
  /** One past the last offset of the record set. */
  nextOffset: number;
  records: Buffer;
  /** The base offset of the segment it was appended to. */
  segmentBaseOffset: number;
}

export class RecentAppends {
  private held: HeldAppend[] = [];
  private heldBytes = 0;

  /** `maxBytes`: what may be held in all (0 holds nothing). */
  constructor(private readonly maxBytes: number) {}

  get bytes(): number {
    return this.heldBytes;
  }

  /** A record set just appended at [baseOffset, nextOffset) to the segment starting at `segmentBaseOffset`. */
  add(baseOffset: number, nextOffset: number, records: Buffer, segmentBaseOffset: number): void {
    assert(nextOffset > baseOffset, 'an appended record set holds at least one offset');
    const last = this.held[this.held.length - 1];
    // Not right after the last one, or in a new segment: what is held no longer describes the tail.
    if (last !== undefined && (last.nextOffset !== baseOffset || last.segmentBaseOffset !== segmentBaseOffset)) this.clear();
    if (records.length > this.maxBytes) {
      this.clear();
      return;
    }
    this.held.push({ baseOffset, nextOffset, records, segmentBaseOffset });
    this.heldBytes += records.length;
    while (this.heldBytes > this.maxBytes) this.heldBytes -= (this.held.shift() as HeldAppend).records.length;
  }

  /** Every follower holds everything below `offset`: what lies wholly below it is let go. */
  releaseBelow(offset: number): void {
    while (this.held.length > 0 && this.held[0].nextOffset <= offset) this.heldBytes -= (this.held.shift() as HeldAppend).records.length;
  }

  /**
   * The held record sets from the one starting at `offset` on, as many as fit in `maxBytes` and
   * end at or below `maxOffset` (one is a view, several are copied into one buffer), when they were
   * appended to the segment starting at `segmentBaseOffset`; null when none qualifies.
   */
  read(offset: number, maxBytes: number, maxOffset: number, segmentBaseOffset: number): Buffer | null {
    let first = -1;
    for (let i = this.held.length - 1; i >= 0 && first < 0; i--) {
      if (this.held[i].baseOffset === offset) first = i;
      else if (this.held[i].baseOffset < offset) return null;
    }
    if (first < 0 || this.held[first].segmentBaseOffset !== segmentBaseOffset) return null;
    let end = first;
    let bytes = 0;
    while (end < this.held.length && this.held[end].nextOffset <= maxOffset && bytes + this.held[end].records.length <= maxBytes) {
      bytes += this.held[end].records.length;
      end++;
    }
    if (end === first) return null;
    // Held bytes are never changed after the append: a batch claiming another offset is a bug.
    assert.equal(Number(this.held[first].records.readBigInt64BE(0)), offset, 'a held record set starts with the batch at its base offset');
    return end === first + 1 ? this.held[first].records : Buffer.concat(this.held.slice(first, end).map((entry) => entry.records), bytes);
  }

  clear(): void {
    this.held = [];
    this.heldBytes = 0;
  }
}
