/**
 * The client's rates: in-process produce and consume of 100-byte records (linger 5 ms, 16 KiB
 * batches, no fsync: the broker's default flush policy, a temp dir), each beside the raw
 * encode/decode of the same records with @gregor/records in the same run (the ceiling the client
 * cannot pass; the client's own encoder and its lazy messages can in fact pass it); the latency from `send` to `eachMessage` (p50, p99) at a steady 10,000 records/s;
 * and produce/consume over TCP loopback through @gregor/server.
 * Run: `npx tsx --tsconfig tsconfig.check.json bench/run.ts client` (or import `run`).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Broker } from '@gregor/broker';
import { type Client, createClient, type EachBatchPayload, InProcessTransport, TcpTransport, type Transport } from '@gregor/client';
import { BatchBuilder, batchesIn, decodeBatch } from '@gregor/records';
import { Server, silentLogger } from '@gregor/server';
import { measureEndToEndLatency } from '../packages/gregor/src/perf/end-to-end-latency.js';
import type { Row } from './row.js';

const RECORD_BYTES = 100;
const RECORDS = Number(process.env.GREGOR_BENCH_CLIENT_RECORDS ?? 1_000_000);
const TCP_RECORDS = Number(process.env.GREGOR_BENCH_CLIENT_TCP_RECORDS ?? 500_000);
const WARMUP_RECORDS = Number(process.env.GREGOR_BENCH_CLIENT_WARMUP_RECORDS ?? 300_000);
const MESSAGES_PER_SEND = 1000;
const SENDS_IN_FLIGHT = 16;
const LATENCY_RATE_PER_S = 10_000;
const LATENCY_SECONDS = Number(process.env.GREGOR_BENCH_CLIENT_LATENCY_S ?? 3);

async function createTopic(client: Client, topic: string): Promise<void> {
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
}

/** Produces `count` records with SENDS_IN_FLIGHT concurrent sends of MESSAGES_PER_SEND; records/s. */
async function produceRate(client: Client, topic: string, count: number): Promise<number> {
  const producer = client.producer({ lingerMs: 5, batchBytes: 16_384, acks: 1 });
  await producer.connect();
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const messages = Array.from({ length: MESSAGES_PER_SEND }, () => ({ value }));
  let sent = 0;
  const start = performance.now();
  const worker = async () => {
    while (sent < count) {
      sent += MESSAGES_PER_SEND;
      await producer.send({ topic, messages });
    }
  };
  await Promise.all(Array.from({ length: SENDS_IN_FLIGHT }, worker));
  const seconds = (performance.now() - start) / 1000;
  await producer.disconnect();
  return sent / seconds;
}

/** Consumes `count` records from the beginning with eachMessage (or eachBatch); records/s from the first record. */
async function consumeRate(client: Client, topic: string, count: number, handler: 'eachMessage' | 'eachBatch' = 'eachMessage'): Promise<number> {
  const consumer = client.consumer({ groupId: `bench-${topic}-${Date.now()}`, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  let seen = 0;
  let start = 0;
  const done = new Promise<number>((resolve) => {
    const eachMessage = async () => {
      if (seen++ === 0) start = performance.now();
      if (seen === count) resolve(performance.now());
    };
    const eachBatch = async ({ batch }: EachBatchPayload) => {
      if (seen === 0) start = performance.now();
      seen += batch.messages.length;
      if (seen >= count) resolve(performance.now());
    };
    void consumer.run(handler === 'eachMessage' ? { autoCommit: false, eachMessage } : { autoCommit: false, eachBatch });
  });
  const end = await done;
  await consumer.disconnect();
  return count / ((end - start) / 1000);
}

/** Sends at a steady rate for LATENCY_SECONDS (perf/end-to-end-latency.ts, as `gregor perf latency`); each value carries its send time. */
async function latency(client: Client, topic: string): Promise<{ p50: number; p99: number }> {
  const consumer = client.consumer({ groupId: `bench-latency-${Date.now()}`, maxWaitTimeInMs: 500 });
  const producer = client.producer({ lingerMs: 5, batchBytes: 16_384, acks: 1 });
  await consumer.connect();
  await producer.connect();
  try {
    const report = await measureEndToEndLatency({ producer, consumer, topic, rate: LATENCY_RATE_PER_S, recordBytes: RECORD_BYTES, acks: 1, warmupMs: 0, measure: { durationMs: LATENCY_SECONDS * 1000 } });
    return { p50: report.endToEnd.p50, p99: report.endToEnd.p99 };
  } finally {
    await producer.disconnect();
    await consumer.disconnect();
  }
}

/** The ceiling: BatchBuilder alone encoding the same records into 16 KiB batches; records/s. */
function rawEncodeRate(count: number): { rate: number; batches: Buffer[] } {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const batches: Buffer[] = [];
  const start = performance.now();
  let builder = new BatchBuilder({ batchBytesMax: 16_384, initialBytes: 16_384 });
  const now = Date.now();
  for (let i = 0; i < count; i++) {
    if (!builder.tryAppend(now, null, value, null)) {
      batches.push(builder.build());
      builder = new BatchBuilder({ batchBytesMax: 16_384, initialBytes: 16_384 });
      builder.tryAppend(now, null, value, null);
    }
  }
  batches.push(builder.build());
  return { rate: count / ((performance.now() - start) / 1000), batches };
}

/** The ceiling for consume: decoding the same batches with records' decoder; records/s. */
function rawDecodeRate(batches: Buffer[]): number {
  let count = 0;
  const start = performance.now();
  for (const buffer of batches) {
    for (const { position } of batchesIn(buffer)) for (const record of decodeBatch(buffer, position).records()) if (record.value !== null) count++;
  }
  return count / ((performance.now() - start) / 1000);
}

export async function run(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gregor-bench-client-'));
  const broker = await Broker.open({ dir, config: { groupInitialRebalanceDelayMs: 0 } });
  const server = new Server({ broker, logger: silentLogger });
  const transports: Transport[] = [];
  try {
    // Warm the JIT on every path first: the machine is shared and cold code is several times slower.
    rawDecodeRate(rawEncodeRate(WARMUP_RECORDS).batches);
    const raw = rawEncodeRate(RECORDS);
    const decodeCeiling = rawDecodeRate(raw.batches);
    const inProcess = createClient({ transport: new InProcessTransport(broker) });
    await createTopic(inProcess, 'bench-warmup');
    await produceRate(inProcess, 'bench-warmup', WARMUP_RECORDS);
    await consumeRate(inProcess, 'bench-warmup', WARMUP_RECORDS);
    await consumeRate(inProcess, 'bench-warmup', WARMUP_RECORDS, 'eachBatch');
    await createTopic(inProcess, 'bench-in-process');
    const produced = await produceRate(inProcess, 'bench-in-process', RECORDS);
    const consumed = await consumeRate(inProcess, 'bench-in-process', RECORDS);
    const consumedInBatches = await consumeRate(inProcess, 'bench-in-process', RECORDS, 'eachBatch');
    await createTopic(inProcess, 'bench-latency');
    const { p50, p99 } = await latency(inProcess, 'bench-latency');
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const tcpTransport = () => {
      const t = new TcpTransport({ brokers: [`127.0.0.1:${port}`] });
      transports.push(t);
      return t;
    };
    const tcp = createClient({ transport: tcpTransport() });
    await createTopic(tcp, 'bench-tcp');
    const tcpProduced = await produceRate(tcp, 'bench-tcp', TCP_RECORDS);
    const tcpConsumed = await consumeRate(createClient({ transport: tcpTransport() }), 'bench-tcp', TCP_RECORDS);
    const note = `${RECORD_BYTES}-byte records, linger 5 ms, 16 KiB batches, acks=1, no fsync`;
    return [
      { name: 'in-process produce', value: produced, unit: 'records/s', baseline: raw.rate, baselineName: 'BatchBuilder encode only', note },
      { name: 'in-process consume (eachMessage)', value: consumed, unit: 'records/s', baseline: decodeCeiling, baselineName: 'decodeBatch only', note },
      { name: 'in-process consume (eachBatch)', value: consumedInBatches, unit: 'records/s', baseline: decodeCeiling, baselineName: 'decodeBatch only', note },
      { name: 'send → eachMessage latency p50', value: p50, unit: 'ms', note: `steady ${LATENCY_RATE_PER_S} records/s for ${LATENCY_SECONDS} s, in-process` },
      { name: 'send → eachMessage latency p99', value: p99, unit: 'ms', note: `steady ${LATENCY_RATE_PER_S} records/s for ${LATENCY_SECONDS} s, in-process` },
      { name: 'TCP loopback produce', value: tcpProduced, unit: 'records/s', baseline: produced, baselineName: 'in-process produce', note },
      { name: 'TCP loopback consume (eachMessage)', value: tcpConsumed, unit: 'records/s', baseline: consumed, baselineName: 'in-process consume', note },
    ];
  } finally {
    for (const t of transports) await t.close();
    await server.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(row);
}
