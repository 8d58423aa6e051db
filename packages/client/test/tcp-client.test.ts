import { Broker } from '@gregor/broker';
import { MemoryFileSystem } from '@gregor/log';
import { Server, silentLogger } from '@gregor/server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client.js';
import { releaseResponse, TcpTransport } from '../src/tcp-transport.js';
import { fastGroupConfig, waitFor } from './helpers.js';

let broker: Broker;
let server: Server;
let port: number;

beforeEach(async () => {
  broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), config: fastGroupConfig });
  server = new Server({ broker, logger: silentLogger });
  ({ port } = await server.listen({ host: '127.0.0.1', port: 0 }));
});
afterEach(async () => {
  await server.close();
  await broker.close();
});

describe('Client over TCP', () => {
  it('produces and consumes with new Client({ brokers, clientId }) as kafkajs\'s new Kafka()', async () => {
    const client = new Client({ brokers: [`127.0.0.1:${port}`], clientId: 'tcp-test' });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'tcp', numPartitions: 3 }] });
    const producer = client.producer({ compression: 'zstd' });
    await producer.connect();
    const messages = Array.from({ length: 500 }, (_, i) => ({ key: `k${i % 7}`, value: Buffer.alloc(200, i % 256) }));
    await producer.send({ topic: 'tcp', messages });
    const consumer = client.consumer({ groupId: 'tcp-group', maxWaitTimeInMs: 50, heartbeatInterval: 50 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'tcp', fromBeginning: true });
    let seen = 0;
    await consumer.run({ eachMessage: async () => void seen++ });
    await waitFor(() => seen === 500, '500 records over TCP');
    await consumer.disconnect();
    await producer.disconnect();
    await admin.disconnect();
  });

  it('rejects a response frame above frameBytesMax with a retriable connection error', async () => {
    const transport = new TcpTransport({ brokers: [`127.0.0.1:${port}`], frameBytesMax: 64 });
    await expect(transport.connect()).rejects.toMatchObject({ code: 'CONNECTION_ERROR', retriable: true });
    await transport.close();
  });

  it('fails to connect to a closed port with a retriable connection error', async () => {
    const transport = new TcpTransport({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: 500 });
    await expect(transport.connect()).rejects.toMatchObject({ code: 'CONNECTION_ERROR', retriable: true });
    await transport.close();
  });

  it('pipelines concurrent requests on one connection and matches each response', async () => {
    const transport = new TcpTransport({ brokers: [`127.0.0.1:${port}`] });
    await transport.connect();
    const version = transport.apiVersion(3);
    const names = Array.from({ length: 20 }, (_, i) => `missing-${i}`);
    const responses = await Promise.all(names.map((name) => transport.request(3, version, { topics: [{ name, topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })));
    expect(responses.map((r) => r.topics[0].name)).toEqual(names);
    await transport.close();
  });

  it('reads a later response into the memory of a released one, and never into one still held', async () => {
    const client = new Client({ brokers: [`127.0.0.1:${port}`], clientId: 'pool-test' });
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'pooled', numPartitions: 1 }] });
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'pooled', messages: Array.from({ length: 300 }, (_, i) => ({ value: Buffer.alloc(1000, i % 251) })) });
    await producer.disconnect();
    await admin.disconnect();

    const transport = new TcpTransport({ brokers: [`127.0.0.1:${port}`] });
    await transport.connect();
    const metadata = await transport.request(3, transport.apiVersion(3), { topics: [{ name: 'pooled', topicId: '00000000-0000-0000-0000-000000000000' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false });
    const topicId = metadata.topics[0].topicId as string;
    const fetchVersion = transport.apiVersion(1);
    const fetch = () => transport.request(1, fetchVersion, {
      replicaId: -1, maxWaitMs: 0, minBytes: 0, maxBytes: 10_000_000, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 'pooled', topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 10_000_000 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    const recordsOf = (response: Awaited<ReturnType<typeof fetch>>) => response.responses[0].partitions[0].records as Buffer;
    const first = await fetch();
    const expected = Buffer.from(recordsOf(first));
    expect(expected.length).toBeGreaterThan(300_000);
    const held = await fetch();
    expect(recordsOf(held).buffer).not.toBe(recordsOf(first).buffer);
    releaseResponse(first);
    const third = await fetch();
    // The third response reuses the first one's memory; the second, still held, is untouched.
    expect(recordsOf(third).buffer).toBe(recordsOf(first).buffer);
    expect(recordsOf(third).equals(expected)).toBe(true);
    expect(recordsOf(held).equals(expected)).toBe(true);
    releaseResponse(third);
    releaseResponse(third);
    const fourth = await fetch();
    const fifth = await fetch();
    expect(recordsOf(fifth).buffer).not.toBe(recordsOf(fourth).buffer);
    expect(recordsOf(fourth).equals(expected) && recordsOf(fifth).equals(expected)).toBe(true);
    await transport.close();
  });
});
