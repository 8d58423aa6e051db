/**
 * Splits a byte stream (socket chunks) into Kafka frames: int32 size, then that many bytes.
 *
 * A frame inside one chunk is returned as a view of it (no copy). A frame that spans chunks is
 * held as the views of the chunks its bytes arrived in, and copied once, into one buffer of exactly
 * its size, when its last byte arrives; once more than PARTS_BYTES_MAX of it has arrived, the parts
 * move into a buffer of the declared size (allocated uninitialised, so the pages its bytes have not
 * reached cost no memory) and the rest is copied in as it comes, so a large frame does not scatter
 * over thousands of small allocations the allocator keeps after they are freed. Either way each
 * byte is copied once and a frame costs one allocation of its size (a buffer grown by doubling as
 * bytes arrive cost about twice both, which showed in the garbage collector of a follower fetching
 * megabytes a second), and a peer that declares 100 MiB and sends 10 bytes holds those 10 bytes.
 * A declared size that is negative or above `frameBytesMax` throws `FrameTooLargeError` before
 * anything is held.
 * With a `FramePool`, the buffers frames are copied into come from the pool: a caller that is done
 * with a frame (a follower that has appended a fetched response to its log) gives it back and the
 * next frame is copied into the same memory. A follower fetching 170 MB/s allocated 170 MB/s of
 * frames, which V8 counts as external memory and answered with a full collection every 40 ms.
 * One reader per connection; not for concurrent use.
 */
import assert from 'node:assert';
import { FrameTooLargeError } from './errors.js';

/** Kafka's `socket.request.max.bytes` default: 100 MiB. */
export const FRAME_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;

export interface FrameReaderOptions {
  /** Largest frame accepted (size prefix excluded); default FRAME_BYTES_MAX_DEFAULT. */
  frameBytesMax?: number;
  /**
   * The chunks pushed are valid only during `push` (a socket that reads into one buffer it reuses,
   * Node's `onread`): every frame is copied out into a buffer of its own size, a spanning one into
   * a buffer of its declared size from its first byte on. Default false (chunks may be kept).
   */
  chunksReused?: boolean;
  /** Where the buffers of copied frames come from (default: a new allocation each). */
  pool?: FramePool;
}

/** Frames smaller than this are allocated as before (Node's own small-buffer pool serves them cheaply). */
export const FRAME_POOL_MIN_BYTES = 64 * 1024;
/** Frames larger than this are never pooled: a spare buffer of that size is not kept. */
export const FRAME_POOL_MAX_BYTES = 16 * 1024 * 1024;
/** Pooled buffers are allocated in multiples of this, so a slightly larger next frame still fits. */
const FRAME_POOL_STEP_BYTES = 256 * 1024;

/**
 * One spare frame buffer for one connection. `take` hands out the spare when it is large enough,
 * else a new buffer; `give` takes back a frame `take` handed out and that is not in use any more,
 * keeping the larger of it and the current spare. A frame given back is overwritten by a later
 * frame, so a caller gives back only what nothing refers to any more (no view of it kept); a frame
 * never given back is simply collected. Giving back twice, or a buffer the pool did not hand out,
 * does nothing.
 */
export class FramePool {
  private spare: Buffer | null = null;
  /** The memory of frames handed out and not given back yet. */
  private readonly inUse = new WeakSet<ArrayBufferLike>();

  take(size: number): Buffer {
    if (size < FRAME_POOL_MIN_BYTES || size > FRAME_POOL_MAX_BYTES) return Buffer.allocUnsafe(size);
    let buffer = this.spare;
    if (buffer !== null && buffer.length >= size) this.spare = null;
    // Its own memory (not a slice of Node's shared pool), so `give` can tell it apart.
    else buffer = Buffer.allocUnsafeSlow(Math.ceil(size / FRAME_POOL_STEP_BYTES) * FRAME_POOL_STEP_BYTES);
    assert(!this.inUse.has(buffer.buffer), 'a pooled buffer is handed out once at a time');
    this.inUse.add(buffer.buffer);
    return buffer.subarray(0, size);
  }

  /** `frame` (a buffer `take` returned) is free to be reused. */
  give(frame: Buffer): void {
    const memory = frame.buffer;
    if (!this.inUse.has(memory)) return;
    this.inUse.delete(memory);
    if (this.spare === null || memory.byteLength > this.spare.length) this.spare = Buffer.from(memory, 0, memory.byteLength);
  }

  /** Whether `frame` is a pooled frame handed out and not given back. */
  holds(frame: Buffer): boolean {
    return this.inUse.has(frame.buffer);
  }
}

/** Bytes of a spanning frame held as chunk views before they move into one buffer of the frame's size. */
const PARTS_BYTES_MAX = 1024 * 1024;

export class FrameReader {
  readonly frameBytesMax: number;
  private readonly chunksReused: boolean;
  private readonly pool: FramePool | undefined;
  /** Bytes of a size prefix split across chunks. */
  private readonly prefix = Buffer.alloc(4);
  private prefixFilled = 0;
  /** Declared size of the frame being assembled; -1 while its size prefix is incomplete. */
  private frameSize = -1;
  /** The bytes of the frame being assembled, as views of the chunks they arrived in, and their total. */
  private parts: Buffer[] = [];
  private partialFilled = 0;
  /** The frame's own buffer, once more than PARTS_BYTES_MAX of it has arrived (then `parts` is empty). */
  private whole: Buffer | null = null;

  constructor(options: FrameReaderOptions = {}) {
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
    this.chunksReused = options.chunksReused === true;
    this.pool = options.pool;
  }

  /** Bytes received but not yet returned as part of a frame (size prefix included). */
  get bufferedBytes(): number {
    return this.frameSize < 0 ? this.prefixFilled : 4 + this.partialFilled;
  }

  /** Bytes the frame being assembled still lacks (0 while no size has been read). */
  get awaitedBytes(): number {
    return this.frameSize < 0 ? 0 : this.frameSize - this.partialFilled;
  }

  /** Bytes held for the frame being assembled (what has arrived of it, size prefix excluded). */
  get allocatedBytes(): number {
    return this.partialFilled;
  }

  /** Feeds one chunk; returns every frame completed by it (bytes after the size prefix). */
  push(chunk: Buffer): Buffer[] {
    const frames: Buffer[] = [];
    let position = 0;
    while (position < chunk.length) {
      if (this.frameSize < 0) {
        position = this.readPrefix(chunk, position);
        if (this.frameSize < 0) break;
        if (this.frameSize === 0) {
          frames.push(this.complete(Buffer.alloc(0)));
          continue;
        }
        if (chunk.length - position >= this.frameSize) {
          // The whole frame is in this chunk: a view, no copy (a copy when the chunk is reused).
          const end = position + this.frameSize;
          const view = chunk.subarray(position, end);
          frames.push(this.complete(this.chunksReused ? this.copyOf(view) : view));
          position = end;
          continue;
        }
      }
      position = this.holdPart(chunk, position);
      if (this.partialFilled === this.frameSize) frames.push(this.complete(this.whole ?? (this.parts.length === 1 ? this.parts[0] : Buffer.concat(this.parts, this.frameSize))));
    }
    return frames;
  }

  /** Reads (the rest of) a size prefix; sets frameSize once all 4 bytes are there. */
  private readPrefix(chunk: Buffer, position: number): number {
    let size: number;
    let next: number;
    if (this.prefixFilled === 0 && chunk.length - position >= 4) {
      size = chunk.readInt32BE(position);
      next = position + 4;
    } else {
      const count = Math.min(4 - this.prefixFilled, chunk.length - position);
      chunk.copy(this.prefix, this.prefixFilled, position, position + count);
      this.prefixFilled += count;
      next = position + count;
      if (this.prefixFilled < 4) return next;
      size = this.prefix.readInt32BE(0);
    }
    if (size < 0 || size > this.frameBytesMax) throw new FrameTooLargeError(size, this.frameBytesMax);
    this.frameSize = size;
    this.prefixFilled = 4;
    return next;
  }

  /** Holds (a view of) what this chunk brings of the frame being assembled, or copies it into the frame's buffer. */
  private holdPart(chunk: Buffer, position: number): number {
    const count = Math.min(this.frameSize - this.partialFilled, chunk.length - position);
    // Reused chunks cannot be kept at all; otherwise a frame past PARTS_BYTES_MAX that is not
    // complete yet moves into its own buffer (a part that completes the frame is copied by the concat).
    const spills = this.chunksReused || (this.partialFilled + count > PARTS_BYTES_MAX && this.partialFilled + count < this.frameSize);
    if (this.whole === null && spills) {
      this.whole = this.pool?.take(this.frameSize) ?? Buffer.allocUnsafe(this.frameSize);
      let at = 0;
      for (const part of this.parts) at += part.copy(this.whole, at);
      this.parts = [];
    }
    if (this.whole !== null) chunk.copy(this.whole, this.partialFilled, position, position + count);
    else this.parts.push(chunk.subarray(position, position + count));
    this.partialFilled += count;
    return position + count;
  }

  private copyOf(view: Buffer): Buffer {
    const copy = this.pool?.take(view.length) ?? Buffer.allocUnsafe(view.length);
    view.copy(copy);
    return copy;
  }

  private complete(frame: Buffer): Buffer {
    assert.equal(frame.length, this.frameSize, 'a frame is returned with exactly its declared size');
    this.frameSize = -1;
    this.prefixFilled = 0;
    this.parts = [];
    this.whole = null;
    this.partialFilled = 0;
    return frame;
  }
}


