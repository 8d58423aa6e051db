/**
 * Raw Kafka frames against a real Broker behind the Server: what no client library shows, such as
 * an acks=0 Produce getting no response while its records land, byte for byte.
 */
import net from 'node:net';
import { ApiKey, decodeResponse, encodeRequest } from '@gregor/protocol';
import { decodeBatch, encodeBatch } from '@gregor/records';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGregor, startGregor } from './support/gregor.js';
import { waitFor } from './support/wait.js';

let gregor: RunningGregor;
beforeAll(async () => {
  gregor = await startGregor();
});
afterAll(async () => {
  await gregor?.close();
});

async function connect() {
  const socket = net.connect({ host: '127.0.0.1', port: gregor.port });
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  const frames: Buffer[] = [];
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 4 && pending.length >= 4 + pending.readInt32BE(0)) {
      frames.push(pending.subarray(4, 4 + pending.readInt32BE(0)));
      pending = pending.subarray(4 + pending.readInt32BE(0));
    }
  });
  socket.on('error', () => {});
  return { socket, frames };
}

describe('Server over a real Broker, raw frames', () => {
  it('sends no response to an acks=0 Produce, whose records a later Fetch returns byte for byte', async () => {
    const client = await connect();
    try {
      const metadata = (correlationId: number) => encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 9, correlationId, clientId: 'raw' }, { topics: [{ name: 'raw-acks0' }], allowAutoTopicCreation: true });
      client.socket.write(metadata(1));
      await waitFor(() => client.frames.length === 1, 5000, 'metadata');
      const batch = encodeBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('fire and forget') }], timestamp: 1_700_000_000_000 });
      const produce = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 2, clientId: 'raw' }, { acks: 0, timeoutMs: 1000, topicData: [{ name: 'raw-acks0', partitionData: [{ index: 0, records: batch }] }] });
      const fetch = encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 11, correlationId: 3, clientId: 'raw' }, { replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 1 << 20, topics: [{ topic: 'raw-acks0', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 1 << 20, logStartOffset: -1, currentLeaderEpoch: -1 }] }] });
      client.socket.write(Buffer.concat([produce, fetch]));
      await waitFor(() => client.frames.length === 2, 5000, 'the fetch answer');
      const fetched = decodeResponse(ApiKey.Fetch, 11, client.frames[1]);
      expect(fetched.correlationId).toBe(3);
      const records = fetched.body.responses[0].partitions[0].records as Buffer;
      const stored = decodeBatch(records);
      expect(stored.baseOffset).toBe(0);
      // Everything after the base offset and leader epoch (which the broker assigns) is the producer's bytes.
      expect(records.subarray(17, batch.length).equals(batch.subarray(17))).toBe(true);
    } finally {
      client.socket.destroy();
    }
  });
});
