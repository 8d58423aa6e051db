/**
 * Idempotent producers of three clients we did and did not write (@platformatic/kafka 1.35.0,
 * kafkajs 2.2.4 and Gregor's own) writing to one partition of a Gregor server at once: every
 * record is stored exactly once, each producer's batches carry one producer id, and no two
 * producers share an id. Then a real retry: a proxy loses the Produce response after the broker
 * appended the batch and closes the connection, each client sends the batch again (kafkajs encodes
 * it again with a new timestamp), and the broker answers it as a duplicate.
 */
import { Producer as PlatformaticProducer } from '@platformatic/kafka';
import { Broker } from '@gregor/broker';
import { MemoryFileSystem } from '@gregor/log';
import { ApiKey } from '@gregor/protocol';
import { decodeBatch, forEachBatch } from '@gregor/records';
import { Server, silentLogger } from '@gregor/server';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client.js';
import { ResponseDroppingProxy } from './response-dropping-proxy.js';

const TOPIC = 'idempotent';
type Library = 'platformatic' | 'kafkajs' | 'gregor';

/** One idempotent producer of one library, reduced to connect / send values / close. */
interface AnyProducer {
  name: string;
  send(values: string[]): Promise<void>;
  close(): Promise<void>;
}

let broker: Broker;
let server: Server;
let proxy: ResponseDroppingProxy;
let bootstrap: string;

beforeEach(async () => {
  broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), config: { groupInitialRebalanceDelayMs: 0 } });
  server = new Server({ broker, logger: silentLogger });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  proxy = new ResponseDroppingProxy(port);
  const proxyPort = await proxy.listen();
  // Clients reach the broker only through the proxy: Metadata names it.
  broker.setAdvertisedListener('127.0.0.1', proxyPort);
  bootstrap = `127.0.0.1:${proxyPort}`;
  await broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name: TOPIC, numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
});

afterEach(async () => {
  await server.close();
  await proxy.close();
  await broker.close();
});

async function connect(library: Library, name: string): Promise<AnyProducer> {
  if (library === 'platformatic') {
    const producer = new PlatformaticProducer({ clientId: name, bootstrapBrokers: [bootstrap], idempotent: true, retries: 5, retryDelay: 50, timeout: 5000 });
    return {
      name,
      send: async (values) => void (await producer.send({ messages: values.map((value) => ({ topic: TOPIC, partition: 0, value: Buffer.from(value) })) })),
      close: () => producer.close(),
    };
  }
  if (library === 'kafkajs') {
    const kafka = new Kafka({ brokers: [bootstrap], clientId: name, logLevel: logLevel.NOTHING, retry: { initialRetryTime: 50, retries: 8 } });
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    return {
      name,
      send: async (values) => void (await producer.send({ topic: TOPIC, messages: values.map((value) => ({ partition: 0, value })) })),
      close: () => producer.disconnect(),
    };
  }
  const producer = new Client({ brokers: [bootstrap], clientId: name }).producer({ idempotent: true, lingerMs: 0, retry: { initialRetryTimeMs: 50 } });
  await producer.connect();
  return {
    name,
    send: async (values) => void (await producer.send({ topic: TOPIC, messages: values.map((value) => ({ partition: 0, value })) })),
    close: () => producer.disconnect(),
  };
}

/** Every record of the partition with the producer id of its batch, read from the broker's log. */
function storedRecords(): { producerId: number; value: string }[] {
  const partition = broker.partition(TOPIC, 0)!;
  const { records } = partition.log.read(partition.logStartOffset, { maxBytes: 256 * 1024 * 1024, minOneBatch: true });
  const stored: { producerId: number; value: string }[] = [];
  forEachBatch(records, (position) => {
    const batch = decodeBatch(records, position);
    for (const record of batch.records()) stored.push({ producerId: batch.producerId, value: record.value!.toString() });
  });
  return stored;
}

/** Each value stored once, each producer's values under one id, and no id shared by two producers. */
function expectEachRecordOnceWithDistinctIds(expected: Map<string, string[]>): void {
  const stored = storedRecords();
  const allExpected = [...expected.values()].flat();
  expect(stored.map((record) => record.value).sort()).toEqual(allExpected.sort());
  const idByValue = new Map(stored.map((record) => [record.value, record.producerId]));
  const idOfProducer = new Map<string, number>();
  for (const [name, values] of expected) {
    const ids = new Set(values.map((value) => idByValue.get(value)));
    expect(ids.size, `${name} wrote under one producer id`).toBe(1);
    const id = [...ids][0]!;
    expect(id).toBeGreaterThanOrEqual(0);
    idOfProducer.set(name, id);
  }
  expect(new Set(idOfProducer.values()).size).toBe(expected.size);
}

async function writeConcurrently(counts: Record<Library, number>, sendsEach: number): Promise<void> {
  const producers: AnyProducer[] = [];
  try {
    for (const library of ['platformatic', 'kafkajs', 'gregor'] as const) {
      for (let index = 0; index < counts[library]; index++) producers.push(await connect(library, `${library}-${index}`));
    }
    const expected = new Map<string, string[]>();
    await Promise.all(producers.map(async (producer) => {
      const values: string[] = [];
      expected.set(producer.name, values);
      for (let send = 0; send < sendsEach; send++) {
        const batch = [`${producer.name}/${send}/a`, `${producer.name}/${send}/b`, `${producer.name}/${send}/c`];
        await producer.send(batch);
        values.push(...batch);
      }
    }));
    expectEachRecordOnceWithDistinctIds(expected);
  } finally {
    await Promise.allSettled(producers.map((producer) => producer.close()));
  }
}

describe('idempotent producers of three clients on one partition', () => {
  it('stores every record of two producers per client once, under distinct producer ids', async () => {
    await writeConcurrently({ platformatic: 2, kafkajs: 2, gregor: 2 }, 3);
  });

  it('stores every record of a hundred producers once, under distinct producer ids', async () => {
    await writeConcurrently({ platformatic: 34, kafkajs: 33, gregor: 33 }, 2);
  });

  for (const library of ['platformatic', 'kafkajs', 'gregor'] as const) {
    it(`deduplicates a ${library} retry whose first response was lost after the append`, async () => {
      const producer = await connect(library, `${library}-retry`);
      try {
        await producer.send(['before']);
        const requestsBefore = proxy.produceRequests;
        proxy.dropNextProduceResponses(1);
        await producer.send(['lost-1', 'lost-2', 'lost-3']);
        expect(proxy.droppedResponses).toBe(1);
        // The batch went to the broker at least twice: the append whose answer was lost, and the retry.
        expect(proxy.produceRequests - requestsBefore).toBeGreaterThanOrEqual(2);
        await producer.send(['after']);
        expectEachRecordOnceWithDistinctIds(new Map([[producer.name, ['before', 'lost-1', 'lost-2', 'lost-3', 'after']]]));
      } finally {
        await producer.close();
      }
    });
  }
});
