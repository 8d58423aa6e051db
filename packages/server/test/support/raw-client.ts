/**
 * A bare Kafka connection for tests of the authentication stage: write requests or raw frames,
 * read size-prefixed frames, see when the server closed the socket.
 */
import net from 'node:net';
import tls from 'node:tls';
import { decodeResponse, encodeRequest, FrameReader } from '@gregor/protocol';

export class RawClient {
  private readonly frames: Buffer[] = [];
  private readonly reader = new FrameReader();
  private waiter: (() => void) | null = null;
  private correlationId = 0;
  closed = false;
  readonly closedPromise: Promise<void>;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk) => {
      this.frames.push(...this.reader.push(chunk));
      this.waiter?.();
    });
    socket.on('error', () => {});
    this.closedPromise = new Promise((resolve) => socket.once('close', () => {
      this.closed = true;
      this.waiter?.();
      resolve();
    }));
  }

  static async connect(port: number, tlsOptions?: tls.ConnectionOptions): Promise<RawClient> {
    const socket = tlsOptions === undefined ? net.connect({ host: '127.0.0.1', port }) : tls.connect({ host: '127.0.0.1', port, ...tlsOptions });
    await new Promise<void>((resolve, reject) => {
      socket.once(tlsOptions === undefined ? 'connect' : 'secureConnect', () => resolve());
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  /** Sends a request; resolves to its decoded response, or null when the server closed first. */
  async request(apiKey: number, apiVersion: number, body: Record<string, unknown>): Promise<Record<string, unknown> | null> {
    const correlationId = ++this.correlationId;
    this.socket.write(encodeRequest({ apiKey, apiVersion, correlationId, clientId: 'raw' }, body));
    const frame = await this.nextFrame();
    return frame === null ? null : (decodeResponse(apiKey, apiVersion, frame).body as Record<string, unknown>);
  }

  /** A size-prefixed frame of raw bytes (SaslHandshake v0's token framing). */
  async token(bytes: Buffer): Promise<Buffer | null> {
    const prefix = Buffer.alloc(4);
    prefix.writeInt32BE(bytes.length);
    this.socket.write(Buffer.concat([prefix, bytes]));
    return this.nextFrame();
  }

  async nextFrame(timeoutMs = 10_000): Promise<Buffer | null> {
    let timedOut = false;
    const deadline = setTimeout(() => {
      timedOut = true;
      this.waiter?.();
    }, timeoutMs);
    try {
      while (this.frames.length === 0 && !this.closed) {
        await new Promise<void>((resolve) => {
          this.waiter = resolve;
        });
        this.waiter = null;
        if (timedOut && this.frames.length === 0 && !this.closed) throw new Error(`no frame within ${timeoutMs} ms`);
      }
      return this.frames.shift() ?? null;
    } finally {
      clearTimeout(deadline);
    }
  }

  close(): void {
    this.socket.destroy();
  }
}
