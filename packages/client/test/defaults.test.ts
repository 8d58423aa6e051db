/**
 * What the client does by default, as kafkajs does: producers and consumers may create a missing
 * topic through Metadata (the admin never does), a consumer needs a group id, and disconnecting a
 * consumer abandons its parked long-poll fetch instead of waiting out maxWaitTimeInMs. The broker
 * runs on a fake clock that is advanced only until the consumer has joined, so a disconnect that
 * waited for the fetch's timer would never finish.
 */
import { Broker } from '@gregor/broker';
import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { Server, silentLogger } from '@gregor/server';
import { afterEach, describe, expect, it } from 'vitest';
import { Client, createClient } from '../src/client.js';
import { KafkaClientError, KafkaProtocolError } from '../src/errors.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import { fastGroupConfig, waitFor } from './helpers.js';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => {});
});

async function openBroker(config: Record<string, unknown> = {}, clock?: FakeClock): Promise<Broker> {
  const broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), clock, config: { ...fastGroupConfig, ...config } });
  closers.push(() => broker.close());
  return broker;
}

async function tcpClient(broker: Broker): Promise<Client> {
  const server = new Server({ broker, logger: silentLogger });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  closers.push(() => server.close());
  return new Client({ brokers: [`127.0.0.1:${port}`] });
}

describe('client defaults', () => {
  it('creates a missing topic when a producer sends to it, as kafkajs, but not when the admin looks it up', async () => {
    const broker = await openBroker({ autoCreateTopicsEnable: true });
    const client = createClient({ transport: new InProcessTransport(broker) });
    const admin = client.admin();
    await expect(admin.fetchTopicMetadata({ topics: ['looked-up'] })).rejects.toThrow(KafkaProtocolError);
    expect(broker.image.topic('looked-up') !== undefined).toBe(false);
    const producer = client.producer();
    await producer.connect();
    await producer.send({ topic: 'created-by-send', messages: [{ value: 'v' }] });
    await producer.disconnect();
    expect(broker.image.topic('created-by-send') !== undefined).toBe(true);
    // maxBlockMs 0: one metadata lookup, then METADATA_TIMEOUT (Kafka's max.block.ms).
    const refusing = client.producer({ allowAutoTopicCreation: false, maxBlockMs: 0 });
    await refusing.connect();
    await expect(refusing.send({ topic: 'not-created', messages: [{ value: 'v' }] })).rejects.toMatchObject({ code: 'METADATA_TIMEOUT', cause: { code: 'UNKNOWN_TOPIC_OR_PARTITION' } });
    expect(broker.image.topic('not-created') !== undefined).toBe(false);
  });

  it('refuses a consumer without a group id', async () => {
    const broker = await openBroker();
    const client = createClient({ transport: new InProcessTransport(broker) });
    for (const options of [{}, { groupId: '' }, undefined]) {
      expect(() => client.consumer(options as never)).toThrow(KafkaClientError);
      expect(() => client.consumer(options as never)).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', retriable: false }));
    }
  });

  for (const transport of ['in-process', 'tcp'] as const) {
    it(`disconnects a consumer whose fetch is parked without waiting for the long poll (${transport})`, async () => {
      const clock = new FakeClock(Date.now());
      const broker = await openBroker({}, clock);
      const client = transport === 'tcp' ? await tcpClient(broker) : createClient({ transport: new InProcessTransport(broker) });
      const admin = client.admin();
      await admin.createTopics({ topics: [{ topic: 'quiet', numPartitions: 1 }] });
      await admin.disconnect();
      const consumer = client.consumer({ groupId: 'g', maxWaitTimeInMs: 60_000 });
      await consumer.connect();
      await consumer.subscribe({ topics: ['quiet'] });
      let joined = false;
      consumer.on('consumer.group_join', () => {
        joined = true;
      });
      await consumer.run({ eachMessage: async () => {} });
      // Advance the broker's clock only while joining (the initial rebalance runs on its timers).
      await waitFor(() => {
        if (!joined) clock.advance(1);
        return joined && broker.fetchWaiters === 1;
      }, 'a parked fetch');
      await consumer.disconnect();
      expect(broker.fetchWaiters).toBe(1);
      // The consumer left the group: its LeaveGroup did not wait behind the parked fetch.
      const admin2 = client.admin();
      closers.push(() => admin2.disconnect());
      const { groups } = await admin2.describeGroups(['g']);
      expect(groups[0]?.members).toEqual([]);
    });
  }
});
