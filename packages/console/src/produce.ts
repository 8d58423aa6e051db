/**
 * The produce form's endpoint: `POST /api/produce/<topic>` with a JSON body
 * `{ "key": "k" | null, "value": "v" | null, "headers": { "name": "value" }, "partition": 0,
 *    "encoding": "text" | "base64" }` appends one record through the client's Producer (acks=all,
 * Kafka's murmur2 partitioner for keyed records, as any Java or librdkafka producer would place
 * them) and answers `{ topic, partition, offset }`. The body is bounded by `produceBodyBytesMax`
 * (413 above it); anything malformed is a 400 naming the field. One producer for the console,
 * connected on first use, disconnected on close.
 */
import type http from 'node:http';
import { Cluster, Producer, type Transport } from '@gregor/client';
import type { TopicMetadata } from './cluster-reader.js';
import { badParameter, ConsoleError } from './errors.js';

interface ProduceBody {
  key?: unknown;
  value?: unknown;
  headers?: unknown;
  partition?: unknown;
  encoding?: unknown;
}

export async function readJsonBody(request: http.IncomingMessage, bytesMax: number): Promise<unknown> {
  const declared = Number(request.headers['content-length'] ?? 0);
  if (declared > bytesMax) throw new ConsoleError('REQUEST_TOO_LARGE', `the body is ${declared} bytes; at most ${bytesMax} (produceBodyBytesMax)`, 413);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > bytesMax) throw new ConsoleError('REQUEST_TOO_LARGE', `the body is over ${bytesMax} bytes (produceBodyBytesMax)`, 413);
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    throw new ConsoleError('INVALID_JSON', 'the body is not JSON', 400);
  }
}

function bytesField(value: unknown, name: string, encoding: 'text' | 'base64'): Buffer | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') throw badParameter(name, 'must be a string or null');
  if (encoding === 'base64') {
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(value)) throw badParameter(name, 'is not base64');
    return Buffer.from(value, 'base64');
  }
  return Buffer.from(value, 'utf8');
}

export class ProduceForm {
  private producer: Producer | null = null;
  private connecting: Promise<Producer> | null = null;

  constructor(private readonly transport: Transport) {}

  async produce(topic: TopicMetadata, body: unknown): Promise<{ topic: string; partition: number; offset: number }> {
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ConsoleError('INVALID_JSON', 'the body must be a JSON object', 400);
    const fields = body as ProduceBody;
    const encoding = fields.encoding ?? 'text';
    if (encoding !== 'text' && encoding !== 'base64') throw badParameter('encoding', "must be 'text' or 'base64'");
    let partition: number | undefined;
    if (fields.partition !== undefined && fields.partition !== null && fields.partition !== '') {
      partition = Number(fields.partition);
      if (!Number.isSafeInteger(partition) || partition < 0 || partition >= topic.partitions.length) throw badParameter('partition', `must be an integer below ${topic.partitions.length}`);
    }
    const headers: Record<string, Buffer> = {};
    if (fields.headers !== undefined && fields.headers !== null) {
      if (typeof fields.headers !== 'object' || Array.isArray(fields.headers)) throw badParameter('headers', 'must be an object of names to string values');
      for (const [name, value] of Object.entries(fields.headers)) {
        const bytes = bytesField(value, `headers.${name}`, encoding);
        if (bytes !== null) headers[name] = bytes;
      }
    }
    const producer = await this.connected();
    const [result] = await producer.send({
      topic: topic.name,
      messages: [{ key: bytesField(fields.key, 'key', encoding), value: bytesField(fields.value, 'value', encoding), headers, partition }],
    });
    return { topic: topic.name, partition: result.partition, offset: Number(result.baseOffset) };
  }

  private connected(): Promise<Producer> {
    this.connecting ??= (async () => {
      const producer = new Producer(new Cluster(this.transport), { acks: -1 }, false);
      await producer.connect();
      this.producer = producer;
      return producer;
    })().catch((error) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  async close(): Promise<void> {
    await this.producer?.disconnect();
    this.producer = null;
    this.connecting = null;
  }
}
