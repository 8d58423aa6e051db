/**
 * The server with @gregor/protocol's codec over a fake broker: Kafka framing and headers on the
 * wire, the ApiVersions fallback, closing on unknown APIs, error answers, and record payloads
 * written without corruption.
 */
import net from 'node:net';
import { ApiKey, decodeResponse, encodeRequest, ErrorCode, servedApiVersions } from '@gregor/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import { protocolCodec, type RequestHandler, Server, silentLogger } from '../src/index.js';
import { waitFor } from './support/wait.js';

class EchoBroker implements RequestHandler {
  records = Buffer.alloc(0);
  async handle(apiKey: number, apiVersion: number, body: any): Promise<unknown> {
    if (apiKey === ApiKey.ApiVersions) return { errorCode: 0, apiKeys: servedApiVersions() };
    if (apiKey === ApiKey.Metadata) return { brokers: [{ nodeId: 0, host: 'h', port: 1 }], topics: (body.topics ?? []).map((topic: { name: string }) => ({ errorCode: 3, name: topic.name, partitions: [] })) };
    if (apiKey === ApiKey.Fetch) {
      return { errorCode: 0, sessionId: 0, responses: [{ topic: 'big', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 10, records: this.records }] }] };
    }
    if (apiKey === ApiKey.Produce && body.acks === 0) return null;
    throw Object.assign(new Error(`unexpected ${apiKey} v${apiVersion}`), { errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
  }
}

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(): Promise<{ broker: EchoBroker; port: number }> {
  const broker = new EchoBroker();
  const server = new Server({ broker, logger: silentLogger, codec: protocolCodec });
  const { port } = await server.listen({ port: 0 });
  cleanups.push(() => server.close());
  return { broker, port };
}

/** A raw Kafka-framed client. */
async function connect(port: number) {
  const socket = net.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  cleanups.push(() => void socket.destroy());
  const frames: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  let closed = false;
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      frames.push(pending.subarray(4, 4 + pending.readInt32BE(0)));
      pending = pending.subarray(4 + pending.readInt32BE(0));
    }
  });
  socket.on('close', () => {
    closed = true;
  });
  socket.on('error', () => {});
  return { socket, frames, isClosed: () => closed };
}

describe('Server with the Kafka protocol codec', () => {
  it('answers an ApiVersions request of an unknown version in the v0 format with UNSUPPORTED_VERSION and the api list', async () => {
    const { port } = await start();
    const client = await connect(port);
    const request = encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 77, clientId: 'c' }, {});
    request.writeInt16BE(99, 6);
    client.socket.write(request);
    await waitFor(() => client.frames.length === 1, 5000);
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, client.frames[0]);
    expect(correlationId).toBe(77);
    expect(body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys).toEqual(servedApiVersions());
    expect(client.isClosed()).toBe(false);
  });

  it('closes the connection on an api key it does not know', async () => {
    const { port } = await start();
    const client = await connect(port);
    const request = encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 1, correlationId: 1, clientId: 'c' }, { topics: [] });
    request.writeInt16BE(999, 4);
    client.socket.write(request);
    await waitFor(() => client.isClosed(), 5000);
    expect(client.frames).toEqual([]);
  });

  it('answers a malformed ApiVersions body with INVALID_REQUEST and closes on a malformed Metadata body', async () => {
    const { port } = await start();
    const client = await connect(port);
    const versions = encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 5, clientId: 'c' }, { clientSoftwareName: 'x', clientSoftwareVersion: 'y' });
    client.socket.write(Buffer.concat([versions.subarray(0, 3), Buffer.from([versions[3] - 2]), versions.subarray(4, versions.length - 2)]));
    await waitFor(() => client.frames.length === 1, 5000);
    expect(decodeResponse(ApiKey.ApiVersions, 3, client.frames[0]).body.errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const metadata = encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 9, correlationId: 6, clientId: 'c' }, { topics: [{ name: 'abc' }] });
    client.socket.write(Buffer.concat([metadata.subarray(0, 3), Buffer.from([metadata[3] - 3]), metadata.subarray(4, metadata.length - 3)]));
    await waitFor(() => client.isClosed(), 5000);
  });

  it('writes a Fetch response with a large record payload byte for byte, in order with other responses', async () => {
    const { broker, port } = await start();
    broker.records = Buffer.alloc(3 * 1024 * 1024);
    for (let i = 0; i < broker.records.length; i += 4) broker.records.writeUInt32BE(i, i);
    const client = await connect(port);
    const fetch = encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 12, correlationId: 1, clientId: 'c' }, { maxWaitMs: 0, topics: [] });
    const metadata = encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 12, correlationId: 2, clientId: 'c' }, { topics: [{ name: 't' }] });
    client.socket.write(Buffer.concat([fetch, metadata]));
    await waitFor(() => client.frames.length === 2, 10_000);
    const fetched = decodeResponse(ApiKey.Fetch, 12, client.frames[0]);
    expect(fetched.correlationId).toBe(1);
    expect(Buffer.compare(fetched.body.responses[0].partitions[0].records as Buffer, broker.records)).toBe(0);
    const described = decodeResponse(ApiKey.Metadata, 12, client.frames[1]);
    expect(described.body.topics[0]).toMatchObject({ name: 't', errorCode: 3 });
  });

  it('encodes a Fetch response with its record payload as its own chunk, not a copy', () => {
    const records = Buffer.alloc(64 * 1024, 7);
    const body = { errorCode: 0, sessionId: 0, responses: [{ topic: 't', partitions: [{ partitionIndex: 0, errorCode: 0, highWatermark: 1, records }] }] };
    const parts = protocolCodec.encodeResponse({ apiKey: ApiKey.Fetch, apiVersion: 11, correlationId: 3, clientId: null }, body) as Buffer[];
    expect(parts.some((part) => part === records)).toBe(true);
    const whole = Buffer.concat(parts);
    expect(whole.readInt32BE(0)).toBe(whole.length - 4);
  });

  it('sends no response to an acks=0 Produce and answers the next request', async () => {
    const { port } = await start();
    const client = await connect(port);
    const produce = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: 'c' }, { acks: 0, timeoutMs: 100, topicData: [] });
    const metadata = encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 1, correlationId: 2, clientId: 'c' }, { topics: [] });
    client.socket.write(Buffer.concat([produce, metadata]));
    await waitFor(() => client.frames.length === 1, 5000);
    expect(decodeResponse(ApiKey.Metadata, 1, client.frames[0]).correlationId).toBe(2);
  });
});
