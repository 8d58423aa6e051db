/**
 * Interoperability with librdkafka through kcat: a throwaway loopback server built only from this
 * package (FrameReader, decodeRequest, encodeResponse, the ApiVersions fallback) and a toy
 * in-memory partition answers `kcat -L`, `kcat -P` and `kcat -C`, so librdkafka's own encodings
 * of ApiVersions, Metadata, Produce, ListOffsets and Fetch meet our descriptions (decoded strictly).
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  type AnyBody,
  decodeRequest,
  decodeRequestHeader,
  encodeApiVersionsFallback,
  encodeResponse,
  FrameReader,
  servedApiVersions,
  UnsupportedVersionError,
} from '../src/index.js';

const TOPIC = 'kcat-topic';
const TOPIC_ID = '11111111-2222-3333-4444-555555555555';

/** One partition: record batches with their base offsets assigned, as Kafka's log appends them. */
class ToyPartition {
  batches: Buffer[] = [];
  logEndOffset = 0;

  append(records: Buffer): number {
    const baseOffset = this.logEndOffset;
    for (let position = 0; position + 12 <= records.length; ) {
      const size = 12 + records.readInt32BE(position + 8);
      const batch = Buffer.from(records.subarray(position, position + size));
      batch.writeBigInt64BE(BigInt(this.logEndOffset), 0);
      this.logEndOffset += batch.readInt32BE(23) + 1;
      this.batches.push(batch);
      position += size;
    }
    return baseOffset;
  }

  read(fetchOffset: number): Buffer {
    return fetchOffset >= this.logEndOffset ? Buffer.alloc(0) : Buffer.concat(this.batches);
  }
}

function handle(apiKey: number, apiVersion: number, body: AnyBody, port: number, partition: ToyPartition): AnyBody {
  switch (apiKey) {
    case ApiKey.ApiVersions:
      return { apiKeys: servedApiVersions() };
    case ApiKey.Metadata:
      return {
        brokers: [{ nodeId: 1, host: '127.0.0.1', port }],
        clusterId: 'gregor-test',
        controllerId: 1,
        topics: [{ name: TOPIC, topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] }] }],
      };
    case ApiKey.Produce: {
      const data = body.topicData[0].partitionData[0];
      const baseOffset = partition.append(data.records);
      return { responses: [{ name: TOPIC, partitionResponses: [{ index: 0, baseOffset, logStartOffset: 0 }] }] };
    }
    case ApiKey.ListOffsets: {
      const wanted = body.topics[0].partitions[0].timestamp;
      const offset = wanted === -2 ? 0 : partition.logEndOffset;
      return { topics: [{ name: TOPIC, partitions: [{ partitionIndex: 0, offset, timestamp: -1, oldStyleOffsets: [offset] }] }] };
    }
    case ApiKey.Fetch: {
      const request = body.topics[0].partitions[0];
      const records = partition.read(request.fetchOffset);
      const end = partition.logEndOffset;
      return { responses: [{ topic: TOPIC, topicId: TOPIC_ID, partitions: [{ partitionIndex: 0, highWatermark: end, lastStableOffset: end, logStartOffset: 0, records }] }] };
    }
    default:
      throw new Error(`unexpected api ${apiKey}`);
  }
}

async function withServer<T>(run: (port: number, seen: string[]) => Promise<T>): Promise<T> {
  const seen: string[] = [];
  const partition = new ToyPartition();
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    const reader = new FrameReader();
    socket.on('data', (chunk) => {
      try {
        for (const frame of reader.push(chunk)) socket.write(answer(frame));
      } catch (error) {
        seen.push(`error: ${(error as Error).message}`);
        socket.destroy();
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  const answer = (frame: Buffer): Buffer => {
    let request: ReturnType<typeof decodeRequest>;
    try {
      request = decodeRequest(frame, { strict: true });
    } catch (error) {
      const { header } = decodeRequestHeader(frame);
      if (error instanceof UnsupportedVersionError && header.apiKey === ApiKey.ApiVersions) return encodeApiVersionsFallback(header.correlationId);
      throw error;
    }
    const { apiKey, apiVersion, correlationId } = request.header;
    seen.push(`${apiKey} v${apiVersion}`);
    const port = (server.address() as net.AddressInfo).port;
    return encodeResponse(apiKey, apiVersion, correlationId, handle(apiKey, apiVersion, request.body, port, partition));
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await run((server.address() as net.AddressInfo).port, seen);
  } finally {
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

function kcat(args: string[], input: string | null, seen: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kcat', args, { timeout: 15_000 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${error.message}\n${stderr}\nseen: ${seen.join(', ')}`)) : resolve(stdout),
    );
    child.stdin?.end(input ?? undefined);
  });
}

describe('kcat (librdkafka) speaks our descriptions', () => {
  it('lists the topic and broker we describe', async () => {
    await withServer(async (port, seen) => {
      const metadata = JSON.parse(await kcat(['-b', `127.0.0.1:${port}`, '-L', '-J', '-m', '5'], null, seen));
      expect(metadata.brokers).toEqual([{ id: 1, name: `127.0.0.1:${port}` }]);
      expect(metadata.topics.map((topic: { topic: string }) => topic.topic)).toEqual([TOPIC]);
      expect(seen).toContain('18 v3');
      expect(seen.filter((entry) => entry.startsWith('error'))).toEqual([]);
    });
  });

  it('produces records and consumes them back', async () => {
    await withServer(async (port, seen) => {
      const broker = ['-b', `127.0.0.1:${port}`, '-t', TOPIC, '-p', '0'];
      await kcat([...broker, '-P', '-K', ':', '-X', 'linger.ms=0'], 'k1:one\nk2:two\nk3:three\n', seen);
      const output = await kcat([...broker, '-C', '-o', 'beginning', '-e', '-f', '%k=%s@%o\n'], null, seen);
      expect(output.trim().split('\n')).toEqual(['k1=one@0', 'k2=two@1', 'k3=three@2']);
      expect(seen.some((entry) => entry.startsWith(`${ApiKey.Produce} v`))).toBe(true);
      expect(seen.some((entry) => entry.startsWith(`${ApiKey.Fetch} v`))).toBe(true);
      expect(seen.filter((entry) => entry.startsWith('error'))).toEqual([]);
    });
  });
});
