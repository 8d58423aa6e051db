/**
 * `gregor perf produce|consume`: Kafka's kafka-producer-perf-test and kafka-consumer-perf-test.
 * Records are sent as `producer.send` of arrays of up to 1,000 messages, 64 sends in flight, with
 * a key of --key-size bytes (`k000000000`...; none by default) and a JSON-like value (the keyed
 * workload of issue 9, perf/keyed-workload.ts). Each run ends with our rate beside baselines
 * measured in the same run on the same machine: for produce, a raw `fs.writeSync` (plus `fdatasync`
 * with --fsync) of the same log bytes in the same chunks, and the bare Kafka v2 framing of the same
 * messages written per send (perf/bare-framing.ts: the format with nothing of Gregor's); for
 * consume, a raw `fs.readSync` of the same segment files and the bare read + decode of them. Only
 * in-process runs (--dir) have these baselines; over --bootstrap-server the broker's disk is not ours.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { CompressionInput } from '@gregor/client';
import { acksOption, choiceOption, CliError, CommandFailedError, integerOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions } from '../connect.js';
import { createProgress } from '../progress.js';
import { readBareBatches, writeBareBatches } from '../../perf/bare-framing.js';
import { type ConsumeHandler, consumeKeyed, keyedRecords } from '../../perf/keyed-workload.js';
import { LatencyRecorder } from '../../perf/latency-recorder.js';
import { missingTopic } from './topics.js';

export { LatencyRecorder };

const help = `usage: gregor perf produce --topic T [--partitions 1] [--records 1000000] [--record-size 100]
                           [--key-size 0] [--throughput -1] [--compression none|gzip|snappy|lz4|zstd]
                           [--batch-bytes 16384] [--linger-ms 5] [--acks all|1|0] [--fsync]
       gregor perf consume --topic T [--records N] [--group G] [--max-bytes 52428800]
                           [--each batch|message|records]
       gregor perf latency --topic T [--rate 10000] [--acks all] ... (gregor perf latency --help)
       gregor perf matrix ... (gregor perf matrix --help)

--records N is also taken as Kafka's tools name it: --num-records (kafka-producer-perf-test) and
--messages (kafka-consumer-perf-test).
produce writes N records of B bytes of value through the producer, as producer.send() of arrays
of 1,000 messages with up to 64 sends in flight, at most --throughput records a second (-1: as
fast as it goes), as kafka-producer-perf-test does, and reports the rate and the latency from send
to acknowledgement (average, maximum, 50th, 95th, 99th and 99.9th percentiles). --key-size K gives
every record a distinct K-byte key (k000000000...), which the default partitioner hashes when the
topic has several partitions; 0 (the default) sends null keys (the sticky partitioner). --fsync
makes the topic fsync after every appended batch (flush.messages=1).
consume reads the topic from the beginning in a fresh consumer group until N records arrived
(default: every record the topic holds), reading every key and value in eachBatch (the default),
eachMessage (--each message) or Gregor's cursor shape eachRecords (--each records: key and value
as positions in the fetched bytes, no objects per record); its clock starts at the first batch, after the group join, in
the progress figures and the summary alike.
In-process (--dir), produce also frames the same messages as bare Kafka v2 batches (one per
send, no library) and writes them with fs.writeSync (+ fdatasync with --fsync), and consume reads
the topic's segments back and decodes every record the same bare way: the ratio to these is what
Gregor costs on top of the format.

${connectionHelp}

Examples:
  gregor perf produce --topic perf --records 2000000 --record-size 100 --dir /tmp/perf
  gregor perf produce --topic perf --records 100000 --throughput 20000 --acks all --bootstrap-server 127.0.0.1:9092
  gregor perf consume --topic perf --dir /tmp/perf`;

const SEND_CHUNK_RECORDS = 1000;
const SENDS_IN_FLIGHT_MAX = 64;
const BASELINE_SAMPLE_BYTES_MAX = 64 * 1024 * 1024;

const perfOptions = {
  ...connectionOptions,
  topic: { type: 'string' },
  partitions: { type: 'string' },
  records: { type: 'string' },
  // Kafka's names for the count: kafka-producer-perf-test's and kafka-consumer-perf-test's.
  'num-records': { type: 'string' },
  messages: { type: 'string' },
  'record-size': { type: 'string' },
  'key-size': { type: 'string' },
  each: { type: 'string' },
  throughput: { type: 'string' },
  compression: { type: 'string' },
  'batch-bytes': { type: 'string' },
  'linger-ms': { type: 'string' },
  acks: { type: 'string' },
  fsync: { type: 'boolean' },
  group: { type: 'string' },
  'max-bytes': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof perfOptions>>['values'];

export async function main(argv: string[]): Promise<void> {
  // `perf matrix` has options of its own (seed 004's comparison): its own file.
  if (argv[0] === 'matrix') return (await import('./perf-matrix.js')).main(argv.slice(1));
  // `perf latency` too (produce-to-consume latency at a steady rate).
  if (argv[0] === 'latency') return (await import('./perf-latency.js')).main(argv.slice(1));
  const { values, positionals } = parseCommand(argv, perfOptions, help);
  if (positionals[0] === 'produce') return produce(values);
  if (positionals[0] === 'consume') return consume(values);
  throw new CliError(positionals[0] === undefined ? 'choose produce, consume, latency or matrix' : `unknown action '${positionals[0]}'; choose produce, consume, latency or matrix`);
}

async function produce(values: Values): Promise<void> {
  const topic = requiredOption(values.topic, 'topic');
  const records = recordsOption(values, 1_000_000);
  const recordBytes = integerOption(values['record-size'], 'record-size', 100, { min: 0 });
  const keyBytes = integerOption(values['key-size'], 'key-size', 0, { min: 0 });
  const batchBytes = integerOption(values['batch-bytes'], 'batch-bytes', 16384, { min: 1 });
  const partitions = integerOption(values.partitions, 'partitions', 1, { min: 1 });
  const acks = acksOption(values.acks);
  const throughput = integerOption(values.throughput, 'throughput', -1);
  if (throughput === 0 || throughput < -1) throw new CliError(`--throughput must be a positive rate in records a second, or -1 for no limit, got ${throughput}`);
  const lingerMs = integerOption(values['linger-ms'], 'linger-ms', 5, { min: 0 });
  const fsync = values.fsync === true;
  const compression = choiceOption(values.compression, 'compression', ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const, 'none');
  const connection = await connect(values, 'gregor-perf-producer');
  const local = connection.dir;
  const admin = connection.admin();
  await admin.connect();
  const existing = await admin.listTopics();
  if (!existing.includes(topic)) {
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, configEntries: fsync ? [{ name: 'flush.messages', value: '1' }] : [] }] });
  } else if (fsync) {
    console.error(`note: ${topic} exists; --fsync applies only to a topic this command creates`);
  }
  const bytesBefore = local ? logBytes(local, topic) : 0;
  // At a limited rate, sends are small so that pacing is smooth (about 100 sends a second).
  const chunkRecords = throughput > 0 ? Math.max(1, Math.min(SEND_CHUNK_RECORDS, Math.floor(throughput / 100))) : SEND_CHUNK_RECORDS;
  // Made before the clock starts and reused round-robin: building messages is the application's cost.
  const chunks = keyedRecords({ keyBytes, valueBytes: recordBytes, messagesPerSend: chunkRecords });
  const producer = connection.producer({ acks, batchBytes, lingerMs, compression: compression as CompressionInput });
  await producer.connect();
  const progress = createProgress({ label: 'produced', total: records, unit: 'records' });
  const latencies = new LatencyRecorder();
  const started = performance.now();
  let acknowledged = 0;
  const inFlight = new Set<Promise<void>>();
  for (let sent = 0; sent < records; sent += chunkRecords) {
    if (throughput > 0) {
      const dueMs = started + (sent / throughput) * 1000;
      const aheadMs = dueMs - performance.now();
      if (aheadMs > 1) await new Promise((resolve) => setTimeout(resolve, aheadMs));
    }
    const count = Math.min(chunkRecords, records - sent);
    const messages = chunks[(sent / chunkRecords) % chunks.length];
    const sentAt = performance.now();
    const send: Promise<void> = producer.send({ topic, acks, messages: count === chunkRecords ? messages : messages.slice(0, count) }).then(() => {
      latencies.record(performance.now() - sentAt, count);
      acknowledged += count;
      progress.update(acknowledged);
      inFlight.delete(send);
    });
    inFlight.add(send);
    if (inFlight.size >= SENDS_IN_FLIGHT_MAX) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  await producer.disconnect();
  const seconds = (performance.now() - started) / 1000;
  await connection.close();
  const megabytes = (records * (recordBytes + keyBytes)) / 1e6;
  const ours = `${records} records sent, ${rate(records / seconds)} records/sec (${(megabytes / seconds).toFixed(2)} MB/sec) in ${seconds.toFixed(2)} s, ${latencies.summary()}`;
  if (local === undefined) {
    progress.finish(ours);
    return;
  }
  const written = logBytes(local, topic) - bytesBefore;
  const baseline = rawWriteBaseline(local, topic, written, batchBytes, fsync);
  const oursDiskMBps = written / 1e6 / seconds;
  const bare = bareWriteBaseline(local, chunks, records, chunkRecords, fsync);
  progress.finish(
    `${ours}\n${(oursDiskMBps).toFixed(1)} MB/s of log; raw fs.writeSync${fsync ? '+fdatasync' : ''} of the same ${(written / 1e6).toFixed(1)} MB in ${batchBytes}-byte chunks: ${baseline.toFixed(1)} MB/s; ratio ${(oursDiskMBps / baseline).toFixed(2)}` +
      `\nbare Kafka v2 framing of the same messages, fs.writeSync${fsync ? '+fdatasync' : ''} per ${chunkRecords}: ${rate(bare)} records/s; ratio ${(records / seconds / bare).toFixed(2)}`,
  );
}

/** Records a second of the bare framing (perf/bare-framing.ts) of `records` of the same messages, one batch per send. */
function bareWriteBaseline(dir: string, chunks: readonly (readonly { key: Buffer | null; value: Buffer }[])[], records: number, perSend: number, fsync: boolean): number {
  const scratch = path.join(dir, `.perf-bare-${process.pid}`);
  try {
    const result = writeBareBatches(scratch, chunks, records, perSend, fsync);
    return result.records / result.seconds;
  } finally {
    fs.rmSync(scratch, { force: true });
  }
}

/** The count, by Gregor's name (--records) or Kafka's (--num-records, --messages); one of them. */
function recordsOption(values: Values, fallback: number): number {
  const given = (['records', 'num-records', 'messages'] as const).filter((name) => values[name] !== undefined);
  if (given.length > 1) throw new CliError(`--${given.join(' and --')} name the same count; give one`);
  const name = given[0] ?? 'records';
  return integerOption(values[name], name, fallback, { min: 1 });
}

async function consume(values: Values): Promise<void> {
  const topic = requiredOption(values.topic, 'topic');
  const connection = await connect(values, 'gregor-perf-consumer');
  const local = connection.dir;
  const admin = connection.admin();
  await admin.connect();
  if (!(await admin.listTopics()).includes(topic)) throw missingTopic(topic);
  const offsets = await admin.fetchTopicOffsets(topic);
  const available = offsets.reduce((sum, o) => sum + (Number(o.high) - Number(o.low)), 0);
  const records = recordsOption(values, available);
  const each = choiceOption(values.each, 'each', ['batch', 'message', 'records'] as const, 'batch');
  const handler: ConsumeHandler = each === 'batch' ? 'eachBatch' : each === 'message' ? 'eachMessage' : 'eachRecords';
  if (available === 0) throw new CommandFailedError('EMPTY_TOPIC', `topic '${topic}' holds no records to consume (gregor perf produce --topic ${topic} writes some)`);
  if (records > available) throw new CliError(`--records ${records} but ${topic} holds ${available}`);
  const consumer = connection.consumer({
    groupId: (values.group) ?? `perf-consumer-${process.pid}-${Date.now()}`,
    maxBytes: integerOption(values['max-bytes'], 'max-bytes', 52_428_800),
  });
  // Progress starts with the first batch, as the summary's clock does: joining the group (and the
  // broker's initial rebalance delay, 3 s by default) is not reading.
  let progress: ReturnType<typeof createProgress> | undefined;
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const result = await consumeKeyed(consumer, records, handler, (received) => {
    progress ??= createProgress({ label: 'consumed', total: records, unit: 'records' });
    progress.update(Math.min(received, records));
  });
  const { records: received, payloadBytes } = result;
  const seconds = result.fromFirstRecordSeconds;
  await connection.close();
  progress ??= createProgress({ label: 'consumed', total: records, unit: 'records' });
  const ours = `${received} records in ${seconds.toFixed(2)} s: ${rate(received / seconds)} records/s, ${(payloadBytes / 1e6 / seconds).toFixed(1)} MB/s of payload (${(payloadBytes / 1e6).toFixed(3)} MB of keys and values, ${handler})`;
  if (local === undefined) {
    progress.finish(ours);
    return;
  }
  const { megabytesPerSecond, bytes } = rawReadBaseline(local, topic);
  const oursDiskMBps = bytes / 1e6 / seconds;
  const bare = bareReadBaseline(local, topic);
  progress.finish(
    `${ours} (${oursDiskMBps.toFixed(1)} MB/s of log); raw fs.readSync of the same ${(bytes / 1e6).toFixed(1)} MB: ${megabytesPerSecond.toFixed(1)} MB/s; ratio ${(oursDiskMBps / megabytesPerSecond).toFixed(2)}` +
      (bare === null ? '' : `\nbare read + decode of the same segments (every batch's CRC, every record's key and value): ${rate(bare)} records/s; ratio ${(received / seconds / bare).toFixed(2)}`),
  );
}

/** Records a second of the bare read + decode (perf/bare-framing.ts) of the topic's segments; null when a batch is compressed. */
function bareReadBaseline(dir: string, topic: string): number | null {
  let records = 0;
  let seconds = 0;
  for (const file of segmentFiles(dir, topic)) {
    const result = readBareBatches(file);
    if (result.compressedBatches > 0) return null;
    records += result.records;
    seconds += result.seconds;
  }
  return records / seconds;
}

function rate(perSecond: number): string {
  return Math.round(perSecond).toLocaleString('en-US');
}

function partitionDirs(dir: string, topic: string): string[] {
  const pattern = new RegExp(`^${topic.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d+$`);
  return fs.readdirSync(dir).filter((name) => pattern.test(name)).map((name) => path.join(dir, name));
}

function segmentFiles(dir: string, topic: string): string[] {
  return partitionDirs(dir, topic).flatMap((partitionDir) =>
    fs.readdirSync(partitionDir).filter((name) => name.endsWith('.log')).sort().map((name) => path.join(partitionDir, name)),
  );
}

function logBytes(dir: string, topic: string): number {
  return segmentFiles(dir, topic).reduce((sum, file) => sum + fs.statSync(file).size, 0);
}

/** Writes `total` bytes taken from the topic's own segments, in `chunkBytes` writes, to a scratch file. */
function rawWriteBaseline(dir: string, topic: string, total: number, chunkBytes: number, fsync: boolean): number {
  const sample = Buffer.alloc(Math.max(chunkBytes, Math.min(total, BASELINE_SAMPLE_BYTES_MAX)));
  let filled = 0;
  for (const file of segmentFiles(dir, topic)) {
    if (filled >= sample.length) break;
    const fd = fs.openSync(file, 'r');
    filled += fs.readSync(fd, sample, filled, sample.length - filled, 0);
    fs.closeSync(fd);
  }
  const scratch = path.join(dir, `.perf-baseline-${process.pid}`);
  const fd = fs.openSync(scratch, 'w');
  try {
    const started = performance.now();
    let position = 0;
    while (position < total) {
      const offset = position % sample.length;
      const length = Math.min(chunkBytes, total - position, sample.length - offset);
      fs.writeSync(fd, sample, offset, length, position);
      if (fsync) fs.fdatasyncSync(fd);
      position += length;
    }
    return total / 1e6 / ((performance.now() - started) / 1000);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(scratch, { force: true });
  }
}

function rawReadBaseline(dir: string, topic: string): { megabytesPerSecond: number; bytes: number } {
  const chunk = Buffer.alloc(1024 * 1024);
  let bytes = 0;
  const started = performance.now();
  for (const file of segmentFiles(dir, topic)) {
    const fd = fs.openSync(file, 'r');
    let read: number;
    let position = 0;
    while ((read = fs.readSync(fd, chunk, 0, chunk.length, position)) > 0) position += read;
    fs.closeSync(fd);
    bytes += position;
  }
  return { megabytesPerSecond: bytes / 1e6 / ((performance.now() - started) / 1000), bytes };
}
