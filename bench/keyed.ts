/**
 * Issue 9's workload: keyed records through the public API against the bare Kafka v2 framing of
 * the same records, measured in the same run, round after round (interleaved, so a burst of load
 * from other processes hits both sides), medians printed. 1,000,000 records (GREGOR_BENCH_KEYED_
 * RECORDS) with a 10-byte key (GREGOR_BENCH_KEYED_KEY_BYTES) and a 90-byte JSON-like value, one
 * partition, `producer.send` of 1,000-message arrays with up to 64 sends in flight, acks=1, linger
 * 5 ms, `Gregor.open`'s defaults; read by a fresh group with eachBatch, with eachMessage, and with
 * eachMessage as a plain function (not awaited), and with Gregor's cursor shape eachRecords. Then the same over loopback TCP with Gregor's
 * client, the topic with flush.messages=1 against the bare framing with an fdatasync per 1,000
 * records, and the time from `run()` to a new group's first record. Each rate's note gives the CPU nanoseconds per record of the whole process (median of
 * the rounds), steadier than wall time on a shared machine. Run: `pnpm bench keyed`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Gregor } from 'gregor';
import { readBareBatches, writeBareBatches } from '../packages/gregor/src/perf/bare-framing.js';
import { type ConsumeHandler, consumeKeyed, keyedRecords, produceKeyed } from '../packages/gregor/src/perf/keyed-workload.js';
import type { Row } from './row.js';

const RECORDS = Number(process.env.GREGOR_BENCH_KEYED_RECORDS ?? 1_000_000);
const TCP_RECORDS = Number(process.env.GREGOR_BENCH_KEYED_TCP_RECORDS ?? 500_000);
const FSYNC_RECORDS = Number(process.env.GREGOR_BENCH_KEYED_FSYNC_RECORDS ?? 300_000);
const KEY_BYTES = Number(process.env.GREGOR_BENCH_KEYED_KEY_BYTES ?? 10);
const VALUE_BYTES = Number(process.env.GREGOR_BENCH_KEYED_VALUE_BYTES ?? 90);
const ROUNDS = Number(process.env.GREGOR_BENCH_KEYED_ROUNDS ?? 3);
const MESSAGES_PER_SEND = 1000;
const SENDS_IN_FLIGHT = 64;
const PRODUCER = { acks: 1, lingerMs: 5 } as const;

const chunks = keyedRecords({ keyBytes: KEY_BYTES, valueBytes: VALUE_BYTES, messagesPerSend: MESSAGES_PER_SEND });

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

type Client = Pick<Gregor, 'producer' | 'consumer' | 'admin'>;

let topicCounter = 0;
async function createTopic(client: Client, flushEveryMessage = false): Promise<string> {
  const topic = `keyed-${process.pid}-${topicCounter++}`;
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: flushEveryMessage ? [{ name: 'flush.messages', value: '1' }] : [] }] });
  await admin.disconnect();
  return topic;
}

/**
 * CPU time of this process (every thread: the garbage collector's helpers too) per record of the
 * last measured path: steadier than wall time on a shared machine, where a busy neighbour takes
 * the core away but does not add instructions.
 */
let cpuNsPerRecord = 0;
async function cpuMeasured<T>(records: number, work: () => Promise<T>): Promise<T> {
  const before = process.cpuUsage();
  const result = await work();
  const used = process.cpuUsage(before);
  cpuNsPerRecord = ((used.user + used.system) * 1000) / records;
  return result;
}

async function produceRate(client: Client, topic: string, records: number): Promise<number> {
  const producer = client.producer(PRODUCER);
  await producer.connect();
  const seconds = await cpuMeasured(records, () => produceKeyed(producer, { topic, records, chunks, sendsInFlight: SENDS_IN_FLIGHT, acks: PRODUCER.acks }));
  await producer.disconnect();
  return records / seconds;
}

async function consumeRate(client: Client, topic: string, records: number, handler: ConsumeHandler): Promise<{ rate: number; firstRecordMs: number }> {
  const consumer = client.consumer({ groupId: `${topic}-${handler}-${topicCounter++}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const result = await cpuMeasured(records, () => consumeKeyed(consumer, records, handler));
  await consumer.disconnect();
  return { rate: result.records / result.seconds, firstRecordMs: result.firstRecordMs };
}

export async function run(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gregor-bench-keyed-'));
  const gregor = await Gregor.open({ dir: path.join(dir, 'data') });
  const scratch = path.join(dir, 'bare.log');
  const samples: Record<string, number[]> = {};
  const sample = (name: string, value: number, cpuNs?: number) => {
    (samples[name] ??= []).push(value);
    if (cpuNs !== undefined) (samples[`${name} cpu`] ??= []).push(cpuNs);
    if (process.env.GREGOR_BENCH_VERBOSE) console.error(`keyed: ${name} ${Math.round(value).toLocaleString('en-US')}${cpuNs === undefined ? '' : ` (${Math.round(cpuNs)} ns CPU/record)`}`);
  };
  const cpuSample = (name: string, value: number) => sample(name, value, cpuNsPerRecord);
  try {
    // Warm the JIT on every path: cold code is several times slower, and the machine is shared.
    const warm = await createTopic(gregor);
    await produceRate(gregor, warm, 200_000);
    await consumeRate(gregor, warm, 200_000, 'eachBatch');
    await consumeRate(gregor, warm, 200_000, 'eachMessage');
    await consumeRate(gregor, warm, 200_000, 'eachMessagePlain');
    await consumeRate(gregor, warm, 200_000, 'eachRecords');
    writeBareBatches(scratch, chunks, 200_000, MESSAGES_PER_SEND, false);
    readBareBatches(scratch);
    const { port } = await gregor.listen({ host: '127.0.0.1', port: 0 });
    const tcp = new Gregor.Client({ brokers: [`127.0.0.1:${port}`] });
    for (let round = 0; round < ROUNDS; round++) {
      const bareWrite = await cpuMeasured(RECORDS, async () => writeBareBatches(scratch, chunks, RECORDS, MESSAGES_PER_SEND, false));
      cpuSample('bare write', bareWrite.records / bareWrite.seconds);
      const bareRead = await cpuMeasured(RECORDS, async () => readBareBatches(scratch));
      cpuSample('bare read', bareRead.records / bareRead.seconds);
      const topic = await createTopic(gregor);
      cpuSample('produce', await produceRate(gregor, topic, RECORDS));
      const batch = await consumeRate(gregor, topic, RECORDS, 'eachBatch');
      cpuSample('eachBatch', batch.rate);
      sample('first record', batch.firstRecordMs);
      cpuSample('eachMessage', (await consumeRate(gregor, topic, RECORDS, 'eachMessage')).rate);
      cpuSample('eachMessage plain', (await consumeRate(gregor, topic, RECORDS, 'eachMessagePlain')).rate);
      cpuSample('eachRecords', (await consumeRate(gregor, topic, RECORDS, 'eachRecords')).rate);
      const tcpTopic = await createTopic(tcp);
      cpuSample('tcp produce', await produceRate(tcp, tcpTopic, TCP_RECORDS));
      cpuSample('tcp eachBatch', (await consumeRate(tcp, tcpTopic, TCP_RECORDS, 'eachBatch')).rate);
      const synced = writeBareBatches(scratch, chunks, FSYNC_RECORDS, MESSAGES_PER_SEND, true);
      sample('bare fdatasync', synced.records / synced.seconds);
      cpuSample('flush.messages=1', await produceRate(gregor, await createTopic(gregor, true), FSYNC_RECORDS));
    }
  } finally {
    await gregor.close();
    await rm(dir, { recursive: true, force: true });
  }
  const m = (name: string) => median(samples[name]);
  const cpu = (name: string) => `${Math.round(m(`${name} cpu`))} ns CPU/record`;
  const note = `${KEY_BYTES}-byte keys, ${VALUE_BYTES}-byte values, 1 partition, send() of ${MESSAGES_PER_SEND}, ${SENDS_IN_FLIGHT} in flight, acks=1, median of ${ROUNDS}`;
  const bareWriteName = `bare v2 framing + writeSync per ${MESSAGES_PER_SEND}`;
  return [
    { name: 'keyed produce, in-process', value: m('produce'), unit: 'records/s', baseline: m('bare write'), baselineName: `${bareWriteName}, ${cpu('bare write')}`, note: `${RECORDS} records; ${note}; ${cpu('produce')}` },
    { name: 'keyed consume eachBatch, in-process', value: m('eachBatch'), unit: 'records/s', baseline: m('bare read'), baselineName: `bare read + decode, ${cpu('bare read')}`, note: `fresh group, key and value read; ${cpu('eachBatch')}` },
    { name: 'keyed consume eachMessage, in-process', value: m('eachMessage'), unit: 'records/s', baseline: m('bare read'), baselineName: 'bare read + decode', note: `fresh group, key and value read; ${cpu('eachMessage')}` },
    { name: 'keyed consume eachMessage as a plain function, in-process', value: m('eachMessage plain'), unit: 'records/s', baseline: m('eachMessage'), baselineName: 'async eachMessage', note: `not awaited per message; ${cpu('eachMessage plain')}` },
    { name: "keyed consume eachRecords (Gregor's cursor shape), in-process", value: m('eachRecords'), unit: 'records/s', baseline: m('bare read'), baselineName: 'bare read + decode', note: `key and value lengths read from their positions, no objects per record; ${cpu('eachRecords')}` },
    { name: 'keyed produce, flush.messages=1', value: m('flush.messages=1'), unit: 'records/s', baseline: m('bare fdatasync'), baselineName: `bare framing + fdatasync per ${MESSAGES_PER_SEND}`, note: `${FSYNC_RECORDS} records; ${cpu('flush.messages=1')}` },
    { name: 'keyed produce, TCP loopback (Gregor client)', value: m('tcp produce'), unit: 'records/s', baseline: m('produce'), baselineName: 'in-process', note: `${TCP_RECORDS} records; client and server in this process: ${cpu('tcp produce')}` },
    { name: 'keyed consume eachBatch, TCP loopback', value: m('tcp eachBatch'), unit: 'records/s', baseline: m('eachBatch'), baselineName: 'in-process', note: `${TCP_RECORDS} records; ${cpu('tcp eachBatch')}` },
    { name: 'new group: run() to first record, in-process', value: m('first record'), unit: 'ms', note: "Gregor.open's defaults; join, offsets, first fetch" },
  ];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(row);
}
