/**
 * The snippets of docs/protocol.md (starting a server, pointing clients at it), run as written
 * (docs.test.ts checks that every line of those snippets appears here).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Broker } from '@gregor/broker';
import { compress, decompress } from '@gregor/records';
import { Server } from '@gregor/server';
import { Admin, Consumer, Producer, ProduceAcks } from '@platformatic/kafka';
import { CompressionCodecs, CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningGregor, startGregor } from './support/gregor.js';
import { kcat, kcatProcess } from './support/kcat.js';
import { waitFor } from './support/wait.js';

let gregor: RunningGregor | undefined;
afterEach(async () => {
  await gregor?.close();
  gregor = undefined;
});

/** Runs one documented kcat command line, with the documented port replaced by the test's. */
async function runDocumentedKcat(line: string, port: number, input?: string) {
  const args = line.replace(/\s+#.*$/, '').replaceAll('127.0.0.1:9092', `127.0.0.1:${port}`).split(/\s+/).slice(1);
  return kcat(args, { input, timeoutMs: 15_000 });
}

describe('docs/protocol.md snippets', () => {
  it('starts and stops a server over a broker', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'gregor-example-'));
    try {
      const broker = await Broker.open({ dir }); // the data directory, created if missing
      const server = new Server({ broker, config: { maxInFlightRequestsPerConnection: 100 } });
      const { host, port } = await server.listen({ host: '127.0.0.1', port: 0 }); // port 0 picks a free port
      // ... clients connect to `${host}:${port}`
      const listed = await kcat(['-L', '-J', '-b', `${host}:${port}`]);
      expect(JSON.parse(listed.stdout).brokers).toEqual([{ id: 0, name: `127.0.0.1:${port}` }]);
      await server.close(); // stop accepting, answer what is in flight, close connections
      await broker.close(); // then flush the logs
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('kafkajs: registers the codecs, produces zstd and consumes in a group', async () => {
    gregor = await startGregor();
    const port = gregor.port;
    // kafkajs ships gzip only; snappy (xerial framing, as kafkajs-snappy), lz4 and zstd from @gregor/records:
    const codec = (id: number) => () => ({
      async compress(encoder: { buffer: Buffer }) { return compress(id, encoder.buffer); },
      async decompress(buffer: Buffer) { return decompress(id, buffer, 64 * 1024 * 1024); },
    });
    CompressionCodecs[CompressionTypes.Snappy] = codec(2);
    CompressionCodecs[CompressionTypes.LZ4] = codec(3);
    CompressionCodecs[CompressionTypes.ZSTD] = codec(4);

    const kafka = new Kafka({ clientId: 'app', brokers: [`127.0.0.1:${port}`], logLevel: logLevel.NOTHING });
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: 'events', compression: CompressionTypes.ZSTD, messages: [{ key: 'k', value: 'v' }] });
    const consumer = kafka.consumer({ groupId: 'app-group', sessionTimeout: 6000, heartbeatInterval: 200 });
    await consumer.connect();
    await consumer.subscribe({ topic: 'events', fromBeginning: true });
    const received: string[] = [];
    await consumer.run({ eachMessage: async ({ message }) => { received.push(String(message.value)); } });
    try {
      await waitFor(() => received.length === 1, 15_000, 'the message');
      expect(received).toEqual(['v']);
    } finally {
      await consumer.disconnect();
      await producer.disconnect();
    }
  });

  it('kcat: metadata, produce, consume from the beginning and from a timestamp, a group member', async () => {
    gregor = await startGregor();
    const port = gregor.port;
    const before = Date.now() - 1;
    const produced = await runDocumentedKcat("printf 'k1:v1\\nk2:v2\\n' | kcat -P -b 127.0.0.1:9092 -t events -K: -z zstd   # gzip|snappy|lz4|zstd".split('| ')[1], port, 'k1:v1\nk2:v2\n');
    expect(produced.code).toBe(0);
    const metadata = await runDocumentedKcat('kcat -L -b 127.0.0.1:9092                     # metadata (-J for JSON)', port);
    expect(metadata.stdout).toContain('topic "events" with 1 partitions');
    const fromStart = await runDocumentedKcat('kcat -C -b 127.0.0.1:9092 -t events -o beginning -e                    # from the beginning, exit at the end', port);
    expect(fromStart.stdout).toBe('v1\nv2\n');
    const fromTime = await runDocumentedKcat('kcat -C -b 127.0.0.1:9092 -t events -o s@1700000000000 -e              # from a timestamp (ms)'.replace('1700000000000', String(before)), port);
    expect(fromTime.stdout).toBe('v1\nv2\n');
    const line = 'kcat -b 127.0.0.1:9092 -G my-group -u -X auto.offset.reset=earliest events  # balanced group member (-u: unbuffered output)';
    const member = kcatProcess(line.replace(/\s+#.*$/, '').replaceAll('127.0.0.1:9092', `127.0.0.1:${port}`).split(/\s+/).slice(1));
    try {
      await waitFor(() => member.output().includes('v2'), 20_000, 'the group member to consume');
      expect(member.output()).toBe('v1\nv2\n');
    } finally {
      await member.stop();
    }
  });

  it('@platformatic/kafka: admin, producer and a consumer stream', async () => {
    gregor = await startGregor();
    const port = gregor.port;
    const bootstrapBrokers = [`127.0.0.1:${port}`];
    const admin = new Admin({ clientId: 'app-admin', bootstrapBrokers });
    await admin.createTopics({ topics: ['events'], partitions: 3, replicas: 1 });
    const producer = new Producer({ clientId: 'app-producer', bootstrapBrokers });
    await producer.send({ messages: [{ topic: 'events', key: Buffer.from('k'), value: Buffer.from('v') }], acks: ProduceAcks.LEADER });
    const consumer = new Consumer({ clientId: 'app-consumer', groupId: 'app-group', bootstrapBrokers, sessionTimeout: 6000, heartbeatInterval: 300 });
    try {
      const stream = await consumer.consume({ topics: ['events'], mode: 'earliest' });
      let value: Buffer | undefined;
      for await (const message of stream) { /* message.key, message.value, message.offset */ value = message.value; break; }
      await stream.close();
      expect(value?.toString()).toBe('v');
    } finally {
      await consumer.close(true);
      await producer.close();
      await admin.close();
    }
  });
});
