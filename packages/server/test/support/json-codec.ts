/**
 * A trivial wire codec for testing the connection machinery on its own: frame = size i32, then
 * apiKey i16, apiVersion i16, correlationId i32, then a JSON body. Responses: size i32,
 * correlationId i32, JSON. Apis 0-50, versions 0-5 are "served"; apiKey 18 is ApiVersions.
 */
import net from 'node:net';
import { FrameReader } from '@gregor/protocol';
import type { RequestHeader, WireCodec } from '../../src/index.js';

function response(correlationId: number, body: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(body));
  const out = Buffer.alloc(8);
  out.writeInt32BE(4 + json.length, 0);
  out.writeInt32BE(correlationId, 4);
  return Buffer.concat([out, json]);
}

export const jsonCodec: WireCodec = {
  // Kafka's framing, so the splitter is the real one (it is what the memory limits measure).
  createFrameSplitter: (frameBytesMax) => new FrameReader({ frameBytesMax }),
  decodeHeader(frame) {
    if (frame.length < 8) throw new RangeError('short header');
    const header: RequestHeader = { apiKey: frame.readInt16BE(0), apiVersion: frame.readInt16BE(2), correlationId: frame.readInt32BE(4), clientId: 'test' };
    return { header, bodyOffset: 8 };
  },
  isServed: (apiKey, apiVersion) => apiKey >= 0 && apiKey <= 50 && apiVersion >= 0 && apiVersion <= 5,
  decodeBody: (frame, _header, bodyOffset) => JSON.parse(frame.subarray(bodyOffset).toString()),
  // Parts, so the machinery's multi-chunk write path is exercised.
  encodeResponse: (header, body) => {
    const whole = response(header.correlationId, body);
    return [whole.subarray(0, 3), whole.subarray(3)];
  },
  encodeApiVersionsFallback: (correlationId) => response(correlationId, { errorCode: 35 }),
  encodeErrorResponse: (header, errorCode) => (header.apiKey === 49 ? null : response(header.correlationId, { errorCode })),
};

export function requestFrame(apiKey: number, apiVersion: number, correlationId: number, body: unknown): Buffer {
  const json = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const out = Buffer.alloc(12);
  out.writeInt32BE(8 + json.length, 0);
  out.writeInt16BE(apiKey, 4);
  out.writeInt16BE(apiVersion, 6);
  out.writeInt32BE(correlationId, 8);
  return Buffer.concat([out, json]);
}

/** A client socket that collects `{ correlationId, body }` responses. */
export class TestClient {
  readonly socket: net.Socket;
  readonly responses: { correlationId: number; body: any }[] = [];
  closed = false;
  private chunks: Buffer[] = [];
  private bufferedBytes = 0;
  private waiters: (() => void)[] = [];

  private constructor(socket: net.Socket) {
    this.socket = socket;
    // Chunks are kept in a list and joined only when a whole frame is there (no quadratic copying).
    socket.on('data', (chunk: Buffer) => {
      this.chunks.push(chunk);
      this.bufferedBytes += chunk.length;
      for (;;) {
        if (this.bufferedBytes < 4) break;
        if (this.chunks[0].length < 4) this.chunks.splice(0, this.chunks.length, Buffer.concat(this.chunks));
        const size = this.chunks[0].readInt32BE(0);
        if (this.bufferedBytes < 4 + size) break;
        const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
        const frame = all.subarray(4, 4 + size);
        this.responses.push({ correlationId: frame.readInt32BE(0), body: JSON.parse(frame.subarray(4).toString()) });
        const rest = all.subarray(4 + size);
        this.chunks = rest.length > 0 ? [rest] : [];
        this.bufferedBytes = rest.length;
      }
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<TestClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(new TestClient(socket)));
      socket.once('error', reject);
    });
  }

  send(frame: Buffer): void {
    this.socket.write(frame);
  }

  private wake(): void {
    for (const waiter of this.waiters.splice(0)) waiter();
  }

  /** Waits (bounded) until `predicate` holds. */
  async until(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error('timed out waiting');
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 20);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
