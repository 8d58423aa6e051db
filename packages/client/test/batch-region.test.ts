import fc from 'fast-check';
import { BatchBuilder, batchesIn, decodeBatch, type RecordHeader } from '@gregor/records';
import { afterEach, describe, expect, it } from 'vitest';
import { BatchRegion, RegionBatchWriter, RegionPool } from '../src/batch-region.js';
import { Cluster } from '../src/cluster.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import { Producer, type ProducerOptions } from '../src/producer.js';
import { FakeBroker } from './fake-broker.js';

const producers: Producer[] = [];
afterEach(async () => {
  for (const p of producers.splice(0)) await p.disconnect().catch(() => {});
});

async function setup(options: ProducerOptions, topics: Record<string, number>) {
  const broker = new FakeBroker(topics);
  const producer = new Producer(new Cluster(new InProcessTransport(broker)), options);
  producers.push(producer);
  await producer.connect();
  return { broker, producer };
}

const bytes = fc.option(fc.uint8Array({ maxLength: 40 }).map((a) => Buffer.from(a)), { nil: null });
const record = fc.record({
  timestampDelta: fc.integer({ min: -1000, max: 100_000 }),
  key: bytes,
  value: bytes,
  headers: fc.option(fc.array(fc.record({ key: fc.string({ maxLength: 8 }), value: bytes }), { maxLength: 3 }), { nil: null }),
});

describe('RegionBatchWriter', () => {
  it('writes the same bytes as BatchBuilder, at any position of a region', () => {
    fc.assert(
      fc.property(fc.array(record, { minLength: 1, maxLength: 20 }), fc.integer({ min: 0, max: 100 }), fc.boolean(), (records, start, idempotent) => {
        const identity = idempotent ? { producerId: 77, producerEpoch: 3, baseSequence: 12 } : { producerId: -1, producerEpoch: -1, baseSequence: -1 };
        const region = new BatchRegion(Buffer.alloc(start + 8192, 0xee));
        region.used = start;
        const writer = new RegionBatchWriter(region, start, 4096, identity);
        const builder = new BatchBuilder({ batchBytesMax: 4096, ...identity });
        const base = 1_700_000_000_000;
        for (const r of records) {
          const headers = r.headers as RecordHeader[] | null;
          const appended = writer.tryAppend(base + r.timestampDelta, r.key, r.value, headers);
          expect(builder.tryAppend(base + r.timestampDelta, r.key, r.value, headers)).toBe(appended);
          if (!appended) break;
        }
        const written = writer.build();
        expect(written.equals(builder.build())).toBe(true);
        expect(written.byteOffset - region.buffer.byteOffset).toBe(start);
        expect(region.used).toBe(start + written.length);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a record past batchBytesMax but always takes the first', () => {
    const region = new BatchRegion(Buffer.alloc(1024));
    const writer = new RegionBatchWriter(region, 0, 200, { producerId: -1, producerEpoch: -1, baseSequence: -1 });
    expect(writer.tryAppend(1, null, Buffer.alloc(100), null)).toBe(true);
    expect(writer.tryAppend(1, null, Buffer.alloc(100), null)).toBe(false);
    expect([...decodeBatch(writer.build()).records()]).toHaveLength(1);
  });
});

describe('RegionPool', () => {
  it('reuses a region only after its last reference is dropped, and never a non-reusable one', () => {
    const pool = new RegionPool(1024, 1);
    const a = pool.acquire(1024);
    a.refs++;
    pool.unref(a);
    expect(pool.freeCount).toBe(0);
    pool.unref(a);
    expect(pool.freeCount).toBe(1);
    expect(pool.acquire(1024).buffer).toBe(a.buffer);
    const b = pool.acquire(1024);
    b.reusable = false;
    pool.unref(b);
    expect(pool.freeCount).toBe(0);
    for (const size of [4096, 100]) {
      const other = pool.acquire(size);
      expect(other.buffer.length).toBe(size);
      pool.unref(other);
      expect(pool.freeCount).toBe(0);
    }
  });
});

describe('producer batch regions', () => {
  it('sends the consecutive batches of a partition as one view, without copying', async () => {
    const { broker, producer } = await setup({ lingerMs: 20, batchBytes: 512, batchRegionBytes: 8192 }, { t: 1 });
    await producer.send({ topic: 't', messages: Array.from({ length: 20 }, () => ({ value: Buffer.alloc(100, 1) })) });
    const records: Buffer = broker.produceRequests[0].topicData[0].partitionData[0].records;
    expect([...batchesIn(records)].length).toBeGreaterThan(1);
    expect(records.buffer.byteLength).toBeGreaterThanOrEqual(8192);
  });

  // Commands: send `count` records to `partition` (acks 1 or 0), answer one held request, or fail the next one.
  const command = fc.oneof(
    fc.record({ kind: fc.constant('send' as const), partition: fc.integer({ min: 0, max: 2 }), count: fc.integer({ min: 1, max: 12 }), acksZero: fc.boolean() }),
    fc.record({ kind: fc.constant('answer' as const), index: fc.nat(5) }),
    fc.record({ kind: fc.constant('fail' as const) }),
  );

  it('never reuses batch memory the broker still holds, and delivers every acknowledged record once', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 5, maxLength: 40 }), async (commands) => {
        const { broker, producer } = await setup(
          { lingerMs: 0, batchBytes: 300, batchRegionBytes: 600, batchRegionsFreeMax: 2, retry: { retries: 50, initialRetryTimeMs: 1, maxRetryTimeMs: 2 } },
          { t: 3 },
        );
        broker.holdProduce = true;
        const sent: string[][] = [[], [], []];
        const sends: Promise<unknown>[] = [];
        let next = 0;
        for (const c of commands) {
          if (c.kind === 'send') {
            const values = Array.from({ length: c.count }, () => `v${next++}-${'x'.repeat(next % 50)}`);
            if (!c.acksZero) sent[c.partition].push(...values);
            sends.push(producer.send({ topic: 't', acks: c.acksZero ? 0 : 1, messages: values.map((value) => ({ partition: c.partition, value })) }));
          } else if (c.kind === 'answer') broker.releaseOneProduce(c.index);
          else if (broker.produceErrors.length < 2) broker.produceErrors.push(6); // NOT_LEADER_OR_FOLLOWER: retriable, the batches go again
          await new Promise((r) => setImmediate(r));
        }
        broker.holdProduce = false;
        for (let i = 0; i < 200 && broker.heldProduceCount > 0; i++) {
          broker.releaseProduce();
          await new Promise((r) => setTimeout(r, 1));
        }
        await Promise.all(sends);
        expect(broker.lentBytesChanged).toBe(0);
        for (let p = 0; p < 3; p++) {
          const delivered = (broker.batches.get(`t-${p}`) ?? []).flatMap((buffer) => [...batchesIn(buffer)].flatMap(({ position }) => [...decodeBatch(buffer, position).records()]));
          // acks=0 records are delivered too; keep the acknowledged ones. The fake appends when it
          // answers, and answers out of order, so only the set (each exactly once) is checked.
          const acknowledged = delivered.map((r) => r.value!.toString()).filter((v) => sent[p].includes(v));
          expect(acknowledged.sort()).toEqual([...sent[p]].sort());
        }
        await producer.disconnect();
      }),
      { numRuns: 25 },
    );
  });

  it('reuses batch memory once the broker has answered', async () => {
    const { broker, producer } = await setup({ lingerMs: 0, batchBytes: 300, batchRegionBytes: 600 }, { t: 1 });
    for (let i = 0; i < 10; i++) await producer.send({ topic: 't', messages: Array.from({ length: 5 }, () => ({ value: Buffer.alloc(50, i) })) });
    expect(broker.reusedMemory).toBeGreaterThan(0);
    expect(broker.lentBytesChanged).toBe(0);
  });
});
