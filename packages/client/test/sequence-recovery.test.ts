/**
 * An idempotent producer recovers from a sequence gap as Kafka's producer does (KIP-360): once a
 * batch that was given a sequence fails for good (deliveryTimeoutMs) and its partition has nothing
 * in flight, the producer bumps its epoch locally (a new producer id from InitProducerId when the
 * epoch would pass 32767), every partition starts again at sequence 0, and the batches still
 * waiting are restamped before they go. Against the real broker (its producer state checks the
 * sequences), behind a scripted front that refuses a partition's batches without appending them;
 * all on one fake clock. GREGOR_FUZZ_ITERATIONS multiplies the model test's runs (CI uses the default).
 */
import { Broker } from '@gregor/broker';
import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { batchesIn, decodeBatch } from '@gregor/records';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import { createClient } from '../src/client.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import type { Producer, ProducerOptions } from '../src/producer.js';
import type { Body, RequestHandler } from '../src/transport.js';
import { advanceUntil, type Outcome as FakeTimeOutcome, settle, watch } from './fake-time.js';
import { fastGroupConfig } from './helpers.js';

const START_MS = 1_700_000_000_000;
const SCALE = Number(process.env.GREGOR_FUZZ_ITERATIONS ?? 1);
const NOT_ENOUGH_REPLICAS = 19;
const OUT_OF_ORDER_SEQUENCE_NUMBER = 45;

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/**
 * In front of the broker: Produce batches for the partitions in `refused` ("t-0") are answered
 * NOT_ENOUGH_REPLICAS without reaching the broker (so the broker never sees their sequences), and
 * every partition's answer code is counted. `initEpoch` replaces the epoch of the first
 * InitProducerId answer (to start near the epoch's limit).
 */
class ScriptedFront implements RequestHandler {
  readonly refused = new Set<string>();
  readonly answerCodes: number[] = [];
  initProducerIdRequests = 0;
  initEpoch: number | null = null;
  constructor(readonly broker: Broker) {}

  async handle(apiKey: number, apiVersion: number, body: Body, context: Body): Promise<unknown> {
    if (apiKey === Api.InitProducerId) {
      const answer = (await this.broker.handle(apiKey, apiVersion, body, context)) as Body;
      if (this.initProducerIdRequests++ === 0 && this.initEpoch !== null) return { ...answer, producerEpoch: this.initEpoch };
      return answer;
    }
    if (apiKey !== Api.Produce) return this.broker.handle(apiKey, apiVersion, body, context);
    const refusedAnswers: { name: string; partitionResponses: Body[] }[] = [];
    const passed: Body[] = [];
    for (const topic of body.topicData as Body[]) {
      const kept = (topic.partitionData as Body[]).filter((p) => !this.refused.has(`${topic.name}-${p.index}`));
      const refused = (topic.partitionData as Body[]).filter((p) => this.refused.has(`${topic.name}-${p.index}`));
      if (kept.length > 0) passed.push({ ...topic, partitionData: kept });
      if (refused.length > 0) {
        refusedAnswers.push({ name: topic.name, partitionResponses: refused.map((p) => ({ index: p.index, errorCode: NOT_ENOUGH_REPLICAS, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: null })) });
      }
    }
    const answer = passed.length === 0 ? { responses: [], throttleTimeMs: 0 } : ((await this.broker.handle(apiKey, apiVersion, { ...body, topicData: passed }, context)) as Body);
    const responses = [...answer.responses, ...refusedAnswers];
    for (const topic of responses) for (const p of topic.partitionResponses) this.answerCodes.push(p.errorCode);
    return { ...answer, responses };
  }
}

interface Setup {
  clock: FakeClock;
  broker: Broker;
  front: ScriptedFront;
  producer: Producer;
}

async function setup(options: ProducerOptions, partitions: number, initEpoch: number | null = null): Promise<Setup> {
  const clock = new FakeClock(START_MS);
  const broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), config: fastGroupConfig, clock });
  const front = new ScriptedFront(broker);
  front.initEpoch = initEpoch;
  const client = createClient({ transport: new InProcessTransport(front), clock });
  const admin = client.admin();
  await admin.createTopics({ topics: [{ topic: 't', numPartitions: partitions }] });
  const producer = client.producer({ idempotent: true, lingerMs: 0, deliveryTimeoutMs: 10_000, retry: { initialRetryTimeMs: 100, maxRetryTimeMs: 500 }, ...options });
  await producer.connect();
  cleanups.push(async () => {
    front.refused.clear();
    await producer.disconnect({ timeoutMs: 0 });
    await admin.disconnect();
    await broker.close();
  });
  return { clock, broker, front, producer };
}

type Outcome = FakeTimeOutcome<unknown>;

interface LoggedBatch {
  producerId: number;
  producerEpoch: number;
  baseSequence: number;
  values: string[];
}

/** The batches in the broker's log of t-`partition`, read as a consumer would (up to the HW). */
function logOf(broker: Broker, partition: number): LoggedBatch[] {
  const read = broker.partition('t', partition)!.read(0, 64 * 1024 * 1024, true, false);
  expect(read.errorCode).toBe(0);
  const batches: LoggedBatch[] = [];
  for (const { position } of batchesIn(read.records)) {
    const batch = decodeBatch(read.records, position);
    batches.push({ producerId: batch.producerId, producerEpoch: batch.producerEpoch, baseSequence: batch.baseSequence, values: [...batch.records()].map((r) => r.value!.toString()) });
  }
  return batches;
}

const valuesOf = (batches: LoggedBatch[]) => batches.flatMap((b) => b.values);

describe('an idempotent producer after a batch with a sequence expired', () => {
  it('sends the partition\'s later batches with the next epoch from sequence 0, each once and in order', async () => {
    const { clock, broker, front, producer } = await setup({}, 2);
    const { producerId } = producer.producerIdentity;
    expect(await producer.send({ topic: 't', messages: [{ value: 'a0', partition: 0 }] })).toMatchObject([{ baseOffset: '0' }]);
    front.refused.add('t-0');
    const lost = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a1', partition: 0 }] }));
    await advanceUntil(clock, () => false, 5000);
    // Numbered after a1, which the broker never sees.
    const queued = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a2', partition: 0 }] }));
    await advanceUntil(clock, () => lost.settledAtMs !== null, 10_000);
    expect(lost.error).toMatchObject({ code: 'DELIVERY_TIMEOUT' });
    front.refused.delete('t-0');
    await advanceUntil(clock, () => queued.settledAtMs !== null, 20_000);
    expect(queued.error).toBeUndefined();
    expect(queued.value).toMatchObject([{ partition: 0, baseOffset: '1' }]);
    const later = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a3', partition: 0 }] }));
    await advanceUntil(clock, () => later.settledAtMs !== null, 2000);
    expect(later.value).toMatchObject([{ partition: 0, baseOffset: '2' }]);
    expect(producer.producerIdentity).toEqual({ producerId, producerEpoch: 1 });
    expect(logOf(broker, 0)).toEqual([
      { producerId, producerEpoch: 0, baseSequence: 0, values: ['a0'] },
      { producerId, producerEpoch: 1, baseSequence: 0, values: ['a2'] },
      { producerId, producerEpoch: 1, baseSequence: 1, values: ['a3'] },
    ]);
    // The gap was found by the producer, not by the broker refusing sequences until they expired.
    expect(front.answerCodes.filter((code) => code === OUT_OF_ORDER_SEQUENCE_NUMBER).length).toBeLessThanOrEqual(2);
  });

  it('keeps sending to the other partitions meanwhile, and starts them at sequence 0 of the new epoch too', async () => {
    const { clock, broker, front, producer } = await setup({}, 2);
    const { producerId } = producer.producerIdentity;
    await producer.send({ topic: 't', messages: [{ value: 'b0', partition: 1 }] });
    front.refused.add('t-0');
    const lost = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a0', partition: 0 }] }));
    await advanceUntil(clock, () => false, 3000);
    const meanwhile = watch(clock, producer.send({ topic: 't', messages: [{ value: 'b1', partition: 1 }] }));
    await advanceUntil(clock, () => meanwhile.settledAtMs !== null, 2000);
    expect(meanwhile.value).toMatchObject([{ partition: 1, baseOffset: '1' }]);
    await advanceUntil(clock, () => lost.settledAtMs !== null, 10_000);
    expect(lost.error).toMatchObject({ code: 'DELIVERY_TIMEOUT' });
    front.refused.delete('t-0');
    const after = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a1', partition: 0 }, { value: 'b2', partition: 1 }] }));
    await advanceUntil(clock, () => after.settledAtMs !== null, 2000);
    expect(after.error).toBeUndefined();
    expect(logOf(broker, 0)).toEqual([{ producerId, producerEpoch: 1, baseSequence: 0, values: ['a1'] }]);
    expect(logOf(broker, 1)).toEqual([
      { producerId, producerEpoch: 0, baseSequence: 0, values: ['b0'] },
      { producerId, producerEpoch: 0, baseSequence: 1, values: ['b1'] },
      { producerId, producerEpoch: 1, baseSequence: 0, values: ['b2'] },
    ]);
  });

  it('asks InitProducerId for a new producer id when the epoch would pass 32767', async () => {
    const { clock, broker, front, producer } = await setup({}, 1, 32767);
    const first = producer.producerIdentity;
    expect(first.producerEpoch).toBe(32767);
    await producer.send({ topic: 't', messages: [{ value: 'a0' }] });
    front.refused.add('t-0');
    const lost = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a1' }] }));
    await advanceUntil(clock, () => lost.settledAtMs !== null, 12_000);
    expect(lost.error).toMatchObject({ code: 'DELIVERY_TIMEOUT' });
    front.refused.delete('t-0');
    const after = watch(clock, producer.send({ topic: 't', messages: [{ value: 'a2' }] }));
    await advanceUntil(clock, () => after.settledAtMs !== null, 3000);
    expect(after.error).toBeUndefined();
    expect(front.initProducerIdRequests).toBe(2);
    const second = producer.producerIdentity;
    expect(second.producerId).not.toBe(first.producerId);
    expect(second.producerEpoch).toBe(0);
    expect(logOf(broker, 0)).toEqual([
      { ...first, baseSequence: 0, values: ['a0'] },
      { ...second, baseSequence: 0, values: ['a2'] },
    ]);
  });
});

describe('an idempotent producer under random refusals and expiries (model)', () => {
  type Command = { kind: 'send'; partition: number; count: number; gzip: boolean } | { kind: 'refuse'; partition: number } | { kind: 'accept'; partition: number } | { kind: 'wait'; ms: number };
  const PARTITIONS = 3;
  const command: fc.Arbitrary<Command> = fc.oneof(
    { weight: 4, arbitrary: fc.record({ kind: fc.constant('send' as const), partition: fc.nat(PARTITIONS - 1), count: fc.integer({ min: 1, max: 3 }), gzip: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ kind: fc.constant('refuse' as const), partition: fc.nat(PARTITIONS - 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('accept' as const), partition: fc.nat(PARTITIONS - 1) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 100, max: 4000 }) }) },
  );

  it('never loops on OUT_OF_ORDER_SEQUENCE: every acknowledged record is in the log once, in send order, and every partition takes records again once faults stop', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { minLength: 10, maxLength: 30 }), async (commands) => {
        const { clock, broker, front, producer } = await setup({ deliveryTimeoutMs: 3000 }, PARTITIONS);
        try {
          const sent: { partition: number; values: string[]; outcome: Outcome }[] = [];
          let next = 0;
          for (const c of commands) {
            if (c.kind === 'send') {
              const values = Array.from({ length: c.count }, () => `v${next++}`);
              sent.push({ partition: c.partition, values, outcome: watch(clock, producer.send({ topic: 't', compression: c.gzip ? 'gzip' : 'none', messages: values.map((value) => ({ value, partition: c.partition })) })) });
              await settle(3);
            } else if (c.kind === 'refuse') front.refused.add(`t-${c.partition}`);
            else if (c.kind === 'accept') front.refused.delete(`t-${c.partition}`);
            else await advanceUntil(clock, () => false, c.ms);
          }
          front.refused.clear();
          await advanceUntil(clock, () => sent.every((s) => s.outcome.settledAtMs !== null), 10_000);
          expect(sent.filter((s) => s.outcome.settledAtMs === null)).toEqual([]);
          // Once the faults stop, every partition takes a record within a few retries.
          const probes = Array.from({ length: PARTITIONS }, (_, partition) => watch(clock, producer.send({ topic: 't', messages: [{ value: `probe${partition}`, partition }] })));
          await advanceUntil(clock, () => probes.every((p) => p.settledAtMs !== null), 3000);
          for (const probe of probes) expect(probe.error).toBeUndefined();
          for (let partition = 0; partition < PARTITIONS; partition++) {
            const logged = valuesOf(logOf(broker, partition));
            expect(new Set(logged).size, `t-${partition} holds no record twice`).toBe(logged.length);
            const acknowledged = sent.filter((s) => s.partition === partition && s.outcome.error === undefined).flatMap((s) => s.values);
            // Acknowledged records are all there, in the order they were sent.
            expect(logged.filter((value) => acknowledged.includes(value))).toEqual(acknowledged);
            // A record that failed may still be in the log (it expired in flight and was written), at most once.
          }
        } finally {
          await cleanups.pop()!();
        }
      }),
      { numRuns: 40 * SCALE },
    );
  });
});
