/**
 * @platformatic/kafka 1.35.0 (flexible protocol versions only) against a Gregor server: producer,
 * a consumer group stream, admin.
 */
import { Admin, Consumer, type Message, Producer, ProduceAcks } from '@platformatic/kafka';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningGregor, startGregor } from './support/gregor.js';

let gregor: RunningGregor;

beforeAll(async () => {
  gregor = await startGregor();
});

afterAll(async () => {
  await gregor?.close();
});

const base = () => ({ bootstrapBrokers: [gregor.bootstrap], timeout: 5000, retries: 2, retryDelay: 100 });

describe('@platformatic/kafka 1.35.0 against Gregor', () => {
  it('creates, lists and describes topics through the admin client', async () => {
    const admin = new Admin({ clientId: 'interop-admin', ...base() });
    try {
      const created = await admin.createTopics({ topics: ['plt-admin'], partitions: 3, replicas: 1 });
      expect(created.map((topic) => topic.name)).toEqual(['plt-admin']);
      expect(await admin.listTopics()).toContain('plt-admin');
      const metadata = await admin.metadata({ topics: ['plt-admin'] });
      const topic = metadata.topics.get('plt-admin');
      expect(topic?.partitionsCount).toBe(3);
      expect(topic?.partitions.every((partition) => partition.leader === 0)).toBe(true);
      expect([...metadata.brokers.values()]).toEqual([{ host: '127.0.0.1', port: gregor.port, rack: null }]);
    } finally {
      await admin.close();
    }
  });

  for (const compression of ['gzip', 'snappy', 'lz4'] as const) {
    it(`produces ${compression}-compressed batches that a consumer stream reads back byte for byte`, async () => {
      const topic = `plt-${compression}`;
      const values = Array.from({ length: 12 }, (_, i) => Buffer.concat([Buffer.from(`${compression}-${i}:`), Buffer.alloc(i * 97, i)]));
      const producer = new Producer({ clientId: 'interop-producer', ...base(), autocreateTopics: true, compression });
      const consumer = new Consumer({ clientId: 'interop-consumer', groupId: `plt-${compression}-group`, ...base(), sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTime: 200 });
      try {
        await producer.send({ messages: values.map((value, i) => ({ topic, key: Buffer.from(String(i)), value })) });
        const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
        const received: Buffer[] = [];
        for await (const message of stream) {
          received.push(message.value);
          if (received.length === values.length) break;
        }
        await stream.close();
        expect(received.map((value) => value.toString('hex'))).toEqual(values.map((value) => value.toString('hex')));
      } finally {
        await consumer.close(true);
        await producer.close();
      }
    });
  }

  it('produces messages that a group consumer stream reads back byte for byte', async () => {
    const topic = 'plt-stream';
    const messages = Array.from({ length: 30 }, (_, i) => ({
      topic,
      key: Buffer.from(`key-${i}`),
      value: Buffer.concat([Buffer.from(`value-${i}:`), Buffer.alloc(i * 11, 0xa0 + (i % 16))]),
      headers: new Map([[Buffer.from('index'), Buffer.from(String(i))]]),
    }));
    const producer = new Producer({ clientId: 'interop-producer', ...base(), autocreateTopics: true });
    const consumer = new Consumer({ clientId: 'interop-consumer', groupId: 'plt-group', ...base(), sessionTimeout: 6000, heartbeatInterval: 300, maxWaitTime: 200 });
    try {
      const result = await producer.send({ messages: messages.slice(0, 10), acks: ProduceAcks.LEADER });
      expect(result.offsets?.[0]).toMatchObject({ topic, partition: 0, offset: 0n });
      await producer.send({ messages: messages.slice(10), acks: ProduceAcks.ALL });
      const stream = await consumer.consume({ topics: [topic], mode: 'earliest', autocommit: false });
      const received: Message[] = [];
      for await (const message of stream) {
        received.push(message);
        if (received.length === messages.length) break;
      }
      await stream.close();
      expect(received.map((message) => message.offset)).toEqual(messages.map((_, i) => BigInt(i)));
      for (const [i, message] of received.entries()) {
        expect(message.key.equals(messages[i].key)).toBe(true);
        expect(message.value.equals(messages[i].value)).toBe(true);
        expect([...message.headers.entries()].map(([k, v]) => `${k}=${v}`)).toEqual([`index=${i}`]);
      }
    } finally {
      await consumer.close(true);
      await producer.close();
    }
  });
});
