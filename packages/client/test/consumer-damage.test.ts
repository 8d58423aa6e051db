/**
 * The consumer given a partition with a damaged batch: it hands out the records before the damage,
 * then stops with a CorruptMessageError naming topic, partition and offset (a `crash` event, after
 * committing and leaving the group), never spinning; a `seek` past the damage and another `run` go
 * on. Both ways damage reaches a consumer are covered: the broker answers CORRUPT_MESSAGE for the
 * fetch (a batch whose CRC no longer matches on disk), or it serves bytes whose CRC matches but
 * whose records do not decode (written before the broker validated records).
 */
import type { Broker } from '@gregor/broker';
import { ApiKey } from '@gregor/protocol';
import type { MemoryFileSystem } from '@gregor/log';
import { BATCH_HEADER_BYTES, batchesIn, encodeBatch, writeBatchCrc } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Client } from '../src/client.js';
import type { Consumer } from '../src/consumer.js';
import { CorruptMessageError } from '../src/errors.js';
import type { Body, RequestOptions, Transport } from '../src/transport.js';
import { createClient } from '../src/client.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import { openBroker, waitFor } from './helpers.js';

const TOPIC = 'damaged';
const SEGMENT = `/data/${TOPIC}-0/00000000000000000000.log`;
/** Five batches of two records: offsets 0-1, 2-3, 4-5, 6-7, 8-9. */
const BATCHES = 5;

let broker: Broker;
let fs: MemoryFileSystem;
let client: Client;
let consumer: Consumer | null = null;

beforeEach(async () => {
  ({ broker, fs } = await openBroker());
  client = createClient({ transport: new InProcessTransport(broker) });
  await client.admin().createTopics({ topics: [{ topic: TOPIC, numPartitions: 1 }] });
  for (let index = 0; index < BATCHES; index++) {
    const records = encodeBatch({ records: [0, 1].map((k) => ({ key: null, value: Buffer.from(`v${index * 2 + k}`) })) });
    const answer = (await broker.handle(ApiKey.Produce, 9, { transactionalId: null, acks: -1, timeoutMs: 1000, topicData: [{ name: TOPIC, partitionData: [{ index: 0, records }] }] })) as Body;
    expect(answer.responses[0].partitionResponses[0].errorCode).toBe(0);
  }
});

afterEach(async () => {
  await consumer?.disconnect().catch(() => {});
  consumer = null;
  await broker.close();
});

/** Flips a bit inside the records of the batch holding offsets 4-5, so its CRC no longer matches. */
function damageThirdBatch(): void {
  const segment = fs.readFile(SEGMENT);
  const positions = [...batchesIn(segment)].map((batch) => batch.position);
  fs.flipBit(SEGMENT, positions[2] + BATCH_HEADER_BYTES + 3, 2);
}

interface Crash {
  error: CorruptMessageError;
}

/** Runs a consumer from the beginning; resolves with what it saw up to its crash. */
async function consumeUntilCrash(options: { maxBytesPerPartition?: number; eachBatch?: boolean } = {}): Promise<{ values: string[]; crash: Crash }> {
  consumer = client.consumer({ groupId: 'readers', maxWaitTimeInMs: 50, heartbeatInterval: 100, maxBytesPerPartition: options.maxBytesPerPartition });
  const values: string[] = [];
  const crashed = new Promise<Crash>((resolve) => consumer!.on('crash', (event: { payload: Crash }) => resolve(event.payload)));
  await consumer.connect();
  await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
  if (options.eachBatch === true) {
    await consumer.run({ eachBatch: async ({ batch }) => void values.push(...batch.messages.map((message) => message.value!.toString())) });
  } else {
    await consumer.run({ eachMessage: async ({ message }) => void values.push(message.value!.toString()) });
  }
  return { values, crash: await crashed };
}

describe('a consumer on a damaged partition', () => {
  // The log serves the valid batches before the damage; the fetch at offset 4 is answered
  // CORRUPT_MESSAGE.
  it('hands out the records before the damage, then crashes naming topic, partition and offset', async () => {
    damageThirdBatch();
    const { values, crash } = await consumeUntilCrash();
    expect(values).toEqual(['v0', 'v1', 'v2', 'v3']);
    expect(crash.error).toBeInstanceOf(CorruptMessageError);
    expect(crash.error).toMatchObject({ topic: TOPIC, partition: 0, offset: '4', code: 'CORRUPT_MESSAGE', retriable: false });
    expect(crash.error.message).toContain(`${TOPIC}-0 at offset 4`);
    // It committed what it processed before it left the group.
    const committed = await client.admin().fetchOffsets({ groupId: 'readers', topics: [TOPIC] });
    expect(committed[0].partitions[0].offset).toBe('4');
  });

  it('goes on after a seek past the damaged batch and another run', async () => {
    damageThirdBatch();
    const { crash } = await consumeUntilCrash({ maxBytesPerPartition: 1 });
    // (One batch per fetch here: the same damage reached one batch at a time.)
    const after: string[] = [];
    consumer!.seek({ topic: crash.error.topic, partition: crash.error.partition, offset: Number(crash.error.offset) + 2 });
    await consumer!.run({ eachMessage: async ({ message }) => void after.push(message.value!.toString()) });
    await waitFor(() => after.length === 4, 'the records after the damage');
    expect(after).toEqual(['v6', 'v7', 'v8', 'v9']);
  });

  for (const eachBatch of [false, true]) {
    it(`reports records that do not decode at the batch that holds them (${eachBatch ? 'eachBatch' : 'eachMessage'})`, async () => {
      // A batch whose CRC matches but whose first record's length lies: the broker serves it.
      const bad = encodeBatch({ baseOffset: 0, records: [{ key: null, value: Buffer.alloc(80, 0x61) }, { key: null, value: Buffer.from('x') }] });
      bad[BATCH_HEADER_BYTES] = 2 * 40;
      writeBatchCrc(bad, 0, bad.length);
      const partition = broker.partition(TOPIC, 0)!;
      partition.log.append(bad, { assignOffsets: true, leaderEpoch: 0 });
      partition.maybeIncrementHighWatermark();
      const { values, crash } = await consumeUntilCrash({ eachBatch });
      expect(values).toEqual(['v0', 'v1', 'v2', 'v3', 'v4', 'v5', 'v6', 'v7', 'v8', 'v9']);
      expect(crash.error).toMatchObject({ topic: TOPIC, partition: 0, offset: '10', code: 'CORRUPT_MESSAGE' });
    });
  }

  it('pauses between fetches that only bring retriable errors, so timers keep running', async () => {
    // Every fetch answer says NOT_LEADER_OR_FOLLOWER: the loop must back off, not spin on promises.
    let fetches = 0;
    const inner = new InProcessTransport(broker);
    const notLeader: Transport = {
      connect: () => inner.connect(),
      apiVersion: (apiKey) => inner.apiVersion(apiKey),
      close: () => inner.close(),
      setBrokers: (brokers) => inner.setBrokers(brokers),
      deliversCheckedRecords: true,
      async request(apiKey: number, apiVersion: number, body: Body, options?: RequestOptions): Promise<Body> {
        const response = await inner.request(apiKey, apiVersion, body, options);
        if (apiKey !== ApiKey.Fetch) return response;
        fetches++;
        for (const topic of response.responses) for (const partition of topic.partitions) Object.assign(partition, { errorCode: 6, records: null });
        return response;
      },
    };
    consumer = createClient({ transport: notLeader }).consumer({ groupId: 'spin', maxWaitTimeInMs: 50, heartbeatInterval: 100 });
    await consumer.connect();
    await consumer.subscribe({ topics: [TOPIC], fromBeginning: true });
    await consumer.run({ eachMessage: async () => {} });
    await waitFor(() => fetches > 0, 'a first fetch');
    // A starved event loop would never run this timer (nor waitFor's): the test would time out.
    const seenBeforeTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(fetches), 20));
    await waitFor(() => fetches > seenBeforeTimer, 'the consumer fetching again after its pause');
  });
});
