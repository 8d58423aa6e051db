/**
 * Splits a byte stream (socket chunks) into Kafka frames: int32 size, then that many bytes.
 * Chunks are kept in a list until a frame is complete; a frame inside one chunk is returned as a
 * view of it, and only a frame that spans chunks is copied, once. A declared size that is
 * negative or above `frameBytesMax` throws `FrameTooLargeError` before anything is allocated.
 * One reader per connection; not for concurrent use.
 */
import { FrameTooLargeError } from './errors.js';

/** Kafka's `socket.request.max.bytes` default: 100 MiB. */
export const FRAME_BYTES_MAX_DEFAULT = 100 * 1024 * 1024;

export interface FrameReaderOptions {
  /** Largest frame accepted (size prefix excluded); default FRAME_BYTES_MAX_DEFAULT. */
  frameBytesMax?: number;
}

export class FrameReader {
  readonly frameBytesMax: number;
  private readonly chunks: Buffer[] = [];
  /** Read position inside chunks[0]. */
  private head = 0;
  private buffered = 0;

  constructor(options: FrameReaderOptions = {}) {
    this.frameBytesMax = options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT;
  }

  /** Bytes received but not yet returned as part of a frame. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Feeds one chunk; returns every frame completed by it (bytes after the size prefix). */
  push(chunk: Buffer): Buffer[] {
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: Buffer[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) return frames;
      frames.push(frame);
    }
  }

  private next(): Buffer | null {
    if (this.buffered < 4) return null;
    const size = this.peekSize();
    if (size < 0 || size > this.frameBytesMax) throw new FrameTooLargeError(size, this.frameBytesMax);
    if (this.buffered < 4 + size) return null;
    this.advance(4);
    return this.take(size);
  }

  private peekSize(): number {
    const first = this.chunks[0];
    if (first.length - this.head >= 4) return first.readInt32BE(this.head);
    const bytes = Buffer.allocUnsafe(4);
    let filled = 0;
    let offset = this.head;
    for (let i = 0; filled < 4; i++) {
      const chunk = this.chunks[i];
      const count = Math.min(4 - filled, chunk.length - offset);
      chunk.copy(bytes, filled, offset, offset + count);
      filled += count;
      offset = 0;
    }
    return bytes.readInt32BE(0);
  }

  private advance(bytes: number): void {
    let left = bytes;
    while (left > 0) {
      const available = this.chunks[0].length - this.head;
      if (available > left) {
        this.head += left;
        break;
      }
      left -= available;
      this.chunks.shift();
      this.head = 0;
    }
    this.buffered -= bytes;
  }

  private take(size: number): Buffer {
    const first = this.chunks[0];
    if (size === 0) return Buffer.alloc(0);
    if (first.length - this.head >= size) {
      const frame = first.subarray(this.head, this.head + size);
      this.advance(size);
      return frame;
    }
    const frame = Buffer.allocUnsafe(size);
    let filled = 0;
    while (filled < size) {
      const chunk = this.chunks[0];
      const count = Math.min(size - filled, chunk.length - this.head);
      chunk.copy(frame, filled, this.head, this.head + count);
      filled += count;
      this.advance(count);
    }
    return frame;
  }
}
