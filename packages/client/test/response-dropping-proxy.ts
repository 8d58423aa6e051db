/**
 * A TCP proxy for tests that loses Produce responses the way a network does: it forwards Kafka
 * frames both ways (each a 4-byte size then the frame), remembers each request's API key by its
 * correlation id, and when told to, swallows the next Produce response and closes both sides of
 * that connection. The broker has appended the batch by then, so the client's retry is a true
 * retry. Counts the Produce requests it forwards per connection-independent total. Every socket it
 * opens is closed by `close()`.
 */
import net from 'node:net';

const PRODUCE_API_KEY = 0;

export class ResponseDroppingProxy {
  produceRequests = 0;
  droppedResponses = 0;
  private responsesToDrop = 0;
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();

  constructor(private readonly upstreamPort: number, private readonly upstreamHost = '127.0.0.1') {
    this.server = net.createServer((client) => this.pipe(client));
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** The next `count` Produce responses are lost, each with its connection. */
  dropNextProduceResponses(count: number): void {
    this.responsesToDrop += count;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private pipe(client: net.Socket): void {
    const upstream = net.connect(this.upstreamPort, this.upstreamHost);
    this.sockets.add(client);
    this.sockets.add(upstream);
    const apiKeyByCorrelation = new Map<number, number>();
    const closeBoth = (): void => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', () => {
      this.sockets.delete(client);
      upstream.destroy();
    });
    upstream.on('close', () => {
      this.sockets.delete(upstream);
      client.destroy();
    });
    client.on('error', closeBoth);
    upstream.on('error', closeBoth);
    client.on('data', frames((frame) => {
      const correlationId = frame.readInt32BE(4);
      const apiKey = frame.readInt16BE(0);
      apiKeyByCorrelation.set(correlationId, apiKey);
      if (apiKey === PRODUCE_API_KEY) this.produceRequests++;
      return true;
    }, (bytes) => upstream.write(bytes)));
    upstream.on('data', frames((frame) => {
      const correlationId = frame.readInt32BE(0);
      const apiKey = apiKeyByCorrelation.get(correlationId);
      apiKeyByCorrelation.delete(correlationId);
      if (apiKey !== PRODUCE_API_KEY || this.responsesToDrop === 0) return true;
      this.responsesToDrop--;
      this.droppedResponses++;
      closeBoth();
      return false;
    }, (bytes) => client.write(bytes)));
  }
}

/** Splits a byte stream into frames; `inspect` sees each frame's body and says whether to forward it. */
function frames(inspect: (frame: Buffer) => boolean, forward: (bytes: Buffer) => void): (chunk: Buffer) => void {
  let pending: Buffer = Buffer.alloc(0);
  return (chunk) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const size = pending.readInt32BE(0);
      if (pending.length < 4 + size) break;
      const frame = pending.subarray(0, 4 + size);
      pending = pending.subarray(4 + size);
      if (!inspect(frame.subarray(4))) return;
      forward(Buffer.from(frame));
    }
  };
}
