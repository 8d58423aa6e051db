/**
 * Interoperability with librdkafka through kcat: a throwaway loopback server built only from this
 * package (FrameReader, decodeRequest, encodeResponse, the ApiVersions fallback) answers
 * `kcat -L`, which negotiates versions with ApiVersions and then asks for Metadata.
 */
import { execFile } from 'node:child_process';
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  encodeApiVersionsFallback,
  encodeResponse,
  FrameReader,
  servedApiVersions,
  UnsupportedVersionError,
} from '../src/index.js';

function answer(frame: Buffer, port: number, seen: string[]): Buffer {
  let request: ReturnType<typeof decodeRequest>;
  try {
    request = decodeRequest(frame, { strict: true });
  } catch (error) {
    const { header } = decodeRequestHeader(frame);
    if (error instanceof UnsupportedVersionError && header.apiKey === ApiKey.ApiVersions) {
      seen.push(`ApiVersions v${header.apiVersion} (fallback)`);
      return encodeApiVersionsFallback(header.correlationId);
    }
    throw error;
  }
  const { apiKey, apiVersion, correlationId } = request.header;
  seen.push(`${apiKey} v${apiVersion}`);
  if (apiKey === ApiKey.ApiVersions) return encodeResponse(apiKey, apiVersion, correlationId, { apiKeys: servedApiVersions() });
  if (apiKey === ApiKey.Metadata) {
    return encodeResponse(apiKey, apiVersion, correlationId, {
      brokers: [{ nodeId: 1, host: '127.0.0.1', port }],
      clusterId: 'gregor-test',
      controllerId: 1,
      topics: [{ name: 'kcat-topic', topicId: '11111111-2222-3333-4444-555555555555', partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: 0, replicaNodes: [1], isrNodes: [1] }] }],
    });
  }
  throw new Error(`unexpected api ${apiKey}`);
}

describe('kcat (librdkafka) negotiates with our ApiVersions and reads our Metadata', () => {
  it('lists the topic and broker we describe', async () => {
    const seen: string[] = [];
    const sockets = new Set<net.Socket>();
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const reader = new FrameReader();
      socket.on('data', (chunk) => {
        try {
          const port = (server.address() as net.AddressInfo).port;
          for (const frame of reader.push(chunk)) socket.write(answer(frame, port, seen));
        } catch (error) {
          seen.push(`error: ${(error as Error).message}`);
          socket.destroy();
        }
      });
      socket.on('error', () => socket.destroy());
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const output = await new Promise<string>((resolve, reject) => {
        execFile('kcat', ['-b', `127.0.0.1:${port}`, '-L', '-J', '-m', '5'], { timeout: 15_000 }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}\nseen: ${seen.join(', ')}`)) : resolve(stdout),
        );
      });
      const metadata = JSON.parse(output);
      expect(metadata.brokers).toEqual([{ id: 1, name: `127.0.0.1:${port}` }]);
      expect(metadata.topics.map((topic: { topic: string }) => topic.topic)).toEqual(['kcat-topic']);
      expect(seen.some((entry) => entry.startsWith('18 v'))).toBe(true);
      expect(seen.some((entry) => entry.startsWith('3 v'))).toBe(true);
      expect(seen.filter((entry) => entry.startsWith('error'))).toEqual([]);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
