/**
 * `gregor perf matrix`: seed 004's comparison of producer settings, measured. Starting from a base
 * (acks=all, 16 KiB batches, linger 5 ms, no compression) it varies one factor at a time:
 * acks 0 / 1 / all, batching (batch size and linger), compression none / gzip / snappy / lz4 /
 * zstd; `--full` runs every combination instead. Each configuration writes `--records` records of
 * `--record-size` bytes (JSON-like text, so compression has something to do) to a fresh topic, with
 * up to 64 sends of 100 records in flight, and records each send's latency (from `send()` to its
 * acknowledgement, linger included). A warm-up with the base settings runs first, unreported, so
 * the first row does not pay for the JIT compiler. After each configuration the same number of bytes is written
 * with raw `fs.writeSync` in batch-sized writes, in the same run, as the disk's ceiling.
 *
 * Targets: an in-process broker on a fresh directory (default; `--dir` to choose one), or a
 * running server or cluster with `--bootstrap-server host:port[,host:port]` (`--replication-factor`
 * for a cluster). Prints the table, writes it as JSON and as an SVG chart (`--out`, default
 * ./perf-matrix). A progress bar on a terminal, plain lines otherwise.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, type CompressionInput } from '@gregor/client';
import { Gregor } from '../../gregor.js';
import { CliError, integerOption, parseCommand } from '../args.js';
import { configurationLabel, markdownTable, type MatrixReport, percentile, svgChart } from '../perf-matrix-report.js';
import { createProgress } from '../progress.js';

const help = `usage: gregor perf matrix [--records 100000] [--record-size 512] [--partitions 1]
                          [--acks all,1,0] [--compression none,gzip,snappy,lz4,zstd]
                          [--batch-bytes 16384,65536] [--linger-ms 0,5,20] [--full]
                          [--dir path | --bootstrap-server host:port[,host:port...] [--replication-factor 1]]
                          [--warmup-records 20000] [--out ./perf-matrix]

Runs seed 004's comparison of producer settings: from acks=all, 16 KiB batches, linger 5 ms and no
compression it varies acks, batching and compression one at a time (--full: every combination of
the lists given), each on a fresh topic, and prints throughput and send latency p50 / p99 beside a
raw fs.writeSync of the same bytes measured in the same run. Writes <out>.json and <out>.svg.

  --dir path                 an in-process broker on this directory (default: a fresh temporary one, removed after)
  --bootstrap-server list    a running gregor serve, a cluster, or Apache Kafka
  --replication-factor N     replicas of each topic created (a cluster: 3 makes acks=all wait for followers)
  --warmup-records N         records sent with the base settings first and not reported, so the first
                             row is not the one that pays for the JIT compiler (default 20000; 0: none)

Examples:
  gregor perf matrix --records 200000
  gregor perf matrix --bootstrap-server 127.0.0.1:9092 --compression none,zstd --acks all`;

const SEND_RECORDS = 100;
const SENDS_IN_FLIGHT_MAX = 64;
const ACKS = { all: -1, '-1': -1, '1': 1, '0': 0 } as const;
const CODECS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

const options = {
  records: { type: 'string' },
  'record-size': { type: 'string' },
  partitions: { type: 'string' },
  acks: { type: 'string' },
  compression: { type: 'string' },
  'batch-bytes': { type: 'string' },
  'linger-ms': { type: 'string' },
  full: { type: 'boolean' },
  dir: { type: 'string' },
  'bootstrap-server': { type: 'string' },
  'replication-factor': { type: 'string' },
  out: { type: 'string' },
  'warmup-records': { type: 'string' },
} as const;

interface Configuration {
  group: string;
  acks: number;
  batchBytes: number;
  lingerMs: number;
  compression: (typeof CODECS)[number];
}

function list<T>(value: string | undefined, name: string, parse: (item: string) => T | undefined): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((item) => item.trim()).filter((item) => item !== '');
  const parsed = items.map((item) => {
    const result = parse(item);
    if (result === undefined) throw new CliError(`--${name}: '${item}' is not allowed`);
    return result;
  });
  if (parsed.length === 0) throw new CliError(`--${name} needs at least one value`);
  return parsed;
}

const positive = (item: string) => (/^\d+$/.test(item) && Number(item) > 0 ? Number(item) : undefined);
const nonNegative = (item: string) => (/^\d+$/.test(item) ? Number(item) : undefined);

/** Seed 004's rows: each factor varied alone from the base, or (`full`) the cross product. */
export function configurations(values: { acks?: string; compression?: string; 'batch-bytes'?: string; 'linger-ms'?: string; full?: boolean }): Configuration[] {
  const acks = list(values.acks, 'acks', (item) => ACKS[item as keyof typeof ACKS]);
  const codecs = list(values.compression, 'compression', (item) => CODECS.find((c) => c === item));
  const batches = list(values['batch-bytes'], 'batch-bytes', positive);
  const lingers = list(values['linger-ms'], 'linger-ms', nonNegative);
  const base: Configuration = { group: 'base', acks: -1, batchBytes: 16384, lingerMs: 5, compression: 'none' };
  if (values.full) {
    const rows: Configuration[] = [];
    for (const a of acks ?? [-1, 1, 0]) for (const b of batches ?? [16384]) for (const l of lingers ?? [5]) for (const c of codecs ?? ['none']) rows.push({ group: 'full', acks: a, batchBytes: b, lingerMs: l, compression: c });
    return rows;
  }
  const rows: Configuration[] = [];
  for (const a of acks ?? [0, 1, -1]) rows.push({ ...base, group: 'acks', acks: a });
  const batching: [number, number][] = batches === undefined && lingers === undefined ? [[16384, 0], [16384, 20], [32768, 20], [131072, 20]] : (batches ?? [16384]).flatMap((b) => (lingers ?? [5]).map((l): [number, number] => [b, l]));
  for (const [b, l] of batching) rows.push({ ...base, group: 'batching', batchBytes: b, lingerMs: l });
  for (const c of codecs ?? CODECS) rows.push({ ...base, group: 'compression', compression: c });
  return rows;
}

/** Values that compress like real events do: JSON with repeated field names and varying numbers. */
function makeValues(count: number, bytes: number): Buffer[] {
  const values: Buffer[] = [];
  for (let i = 0; i < count; i++) {
    let text = '';
    for (let j = 0; text.length < bytes; j++) text += `{"user":"user-${(i * 7 + j) % 1000}","event":"${['click', 'view', 'purchase', 'login'][(i + j) % 4]}","amount":${((i * 31 + j * 17) % 10000) / 100},"ts":${1714560000000 + i * 13 + j}}`;
    values.push(Buffer.from(text.slice(0, bytes)));
  }
  return values;
}

interface Target {
  describe: string;
  dir: string | null;
  producer(options: { acks: number; batchBytes: number; lingerMs: number; compression: CompressionInput }): ReturnType<Gregor['producer']>;
  admin(): ReturnType<Gregor['admin']>;
  close(): Promise<void>;
}

async function openTarget(values: { dir?: string; 'bootstrap-server'?: string }): Promise<Target> {
  const bootstrap = values['bootstrap-server'];
  if (bootstrap !== undefined) {
    if (values.dir !== undefined) throw new CliError('choose --dir or --bootstrap-server, not both');
    const client = new Client({ brokers: bootstrap.split(','), clientId: 'gregor-perf-matrix' });
    const opened: { disconnect(): Promise<void> }[] = [];
    return {
      describe: `server ${bootstrap}`,
      dir: null,
      producer: (o) => {
        const producer = client.producer(o);
        opened.push(producer);
        return producer;
      },
      admin: () => {
        const admin = client.admin();
        opened.push(admin);
        return admin;
      },
      close: async () => {
        await Promise.allSettled(opened.map((item) => item.disconnect()));
      },
    };
  }
  const temporary = values.dir === undefined;
  const dir = values.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-perf-matrix-'));
  const gregor = await Gregor.open({ dir, clientId: 'gregor-perf-matrix' });
  return {
    describe: `in-process broker on ${temporary ? 'a temporary directory' : dir}`,
    dir,
    producer: (o) => gregor.producer(o),
    admin: () => gregor.admin(),
    close: async () => {
      await gregor.close();
      if (temporary) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function logBytes(dir: string, topic: string): number {
  let total = 0;
  for (const name of fs.readdirSync(dir)) {
    if (!name.startsWith(`${topic}-`) || !/^\d+$/.test(name.slice(topic.length + 1))) continue;
    for (const file of fs.readdirSync(path.join(dir, name))) if (file.endsWith('.log')) total += fs.statSync(path.join(dir, name, file)).size;
  }
  return total;
}

/** MB/s of `fs.writeSync` of `total` bytes in `chunkBytes` writes to a scratch file in `dir`. */
function rawWriteMegabytesPerSecond(dir: string, total: number, chunkBytes: number, sample: Buffer): number {
  const scratch = path.join(dir, `.perf-matrix-baseline-${process.pid}`);
  const fd = fs.openSync(scratch, 'w');
  try {
    const chunk = Buffer.alloc(Math.min(chunkBytes, Math.max(1, total)));
    for (let i = 0; i < chunk.length; i++) chunk[i] = sample[i % sample.length];
    const started = performance.now();
    let position = 0;
    while (position < total) {
      const length = Math.min(chunk.length, total - position);
      fs.writeSync(fd, chunk, 0, length, position);
      position += length;
    }
    return total / 1e6 / Math.max(1e-9, (performance.now() - started) / 1000);
  } finally {
    fs.closeSync(fd);
    fs.rmSync(scratch, { force: true });
  }
}

export async function main(argv: string[]): Promise<void> {
  const { values } = parseCommand(argv, options, help);
  const records = integerOption(values.records, 'records', 100_000);
  const recordBytes = integerOption(values['record-size'], 'record-size', 512);
  const partitions = integerOption(values.partitions, 'partitions', 1);
  const replicationFactor = integerOption(values['replication-factor'], 'replication-factor', 1);
  if (records < SEND_RECORDS || recordBytes < 1 || partitions < 1 || replicationFactor < 1) throw new CliError(`--records must be at least ${SEND_RECORDS}; --record-size, --partitions and --replication-factor at least 1`);
  const rows = configurations(values);
  const warmupRecords = integerOption(values['warmup-records'], 'warmup-records', 20_000);
  if (warmupRecords < 0) throw new CliError('--warmup-records must be 0 or more');
  const out = path.resolve(values.out ?? 'perf-matrix');
  const target = await openTarget(values);
  const report: MatrixReport = {
    startedAt: new Date().toISOString(),
    target: target.describe,
    machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', node: process.versions.node, platform: `${os.platform()} ${os.release()}` },
    records,
    recordBytes,
    partitions,
    warmupRecords,
    rows: [],
  };
  const values100 = makeValues(SEND_RECORDS, recordBytes);
  const messages = values100.map((value) => ({ value }));
  const progress = createProgress({ label: 'perf matrix', total: warmupRecords + rows.length * records, unit: 'records' });
  const scratchDir = target.dir ?? os.tmpdir();
  const runId = Date.now().toString(36);
  try {
    const admin = target.admin();
    await admin.connect();
    const runOne = async (topic: string, configuration: Configuration, count: number, done: number) => {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor }] });
      const producer = target.producer({ acks: configuration.acks, batchBytes: configuration.batchBytes, lingerMs: configuration.lingerMs, compression: configuration.compression });
      await producer.connect();
      const latencies: number[] = [];
      let acknowledged = 0;
      const inFlight = new Set<Promise<void>>();
      const started = performance.now();
      for (let sent = 0; sent < count; sent += SEND_RECORDS) {
        const size = Math.min(SEND_RECORDS, count - sent);
        const sendStarted = performance.now();
        const send: Promise<void> = producer.send({ topic, acks: configuration.acks, messages: size === SEND_RECORDS ? messages : messages.slice(0, size) }).then(() => {
          latencies.push(performance.now() - sendStarted);
          inFlight.delete(send);
          acknowledged += size;
          progress.update(done + acknowledged);
        });
        inFlight.add(send);
        if (inFlight.size >= SENDS_IN_FLIGHT_MAX) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
      const seconds = (performance.now() - started) / 1000;
      await producer.disconnect();
      latencies.sort((a, b) => a - b);
      return { seconds, latencies };
    };
    if (warmupRecords > 0) {
      const topic = `perf-matrix-${runId}-warmup`;
      await runOne(topic, { group: 'warmup', acks: -1, batchBytes: 16384, lingerMs: 5, compression: 'none' }, warmupRecords, 0);
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    }
    for (const [index, configuration] of rows.entries()) {
      const topic = `perf-matrix-${runId}-${index}`;
      const { seconds, latencies } = await runOne(topic, configuration, records, warmupRecords + index * records);
      const payload = records * recordBytes;
      const log = target.dir === null ? null : logBytes(target.dir, topic);
      const raw = rawWriteMegabytesPerSecond(scratchDir, log ?? payload, configuration.batchBytes, values100[0]);
      report.rows.push({
        group: configuration.group,
        label: configurationLabel(configuration),
        acks: configuration.acks,
        batchBytes: configuration.batchBytes,
        lingerMs: configuration.lingerMs,
        compression: configuration.compression,
        records,
        recordBytes,
        seconds,
        recordsPerSecond: records / seconds,
        megabytesPerSecond: payload / 1e6 / seconds,
        logMegabytesPerSecond: log === null ? null : log / 1e6 / seconds,
        logBytesRatio: log === null ? null : log / payload,
        latencyMsP50: percentile(latencies, 50),
        latencyMsP99: percentile(latencies, 99),
        rawDiskMegabytesPerSecond: raw,
      });
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    }
  } finally {
    progress.finish();
    await target.close();
  }
  const table = markdownTable(report);
  fs.writeFileSync(`${out}.json`, `${JSON.stringify(report, null, 2)}\n`);
  fs.writeFileSync(`${out}.svg`, svgChart(report));
  console.log(`${report.target}: ${records} records of ${recordBytes} bytes per configuration, ${partitions} partition(s)\n`);
  console.log(table);
  console.log(`\nraw disk: fs.writeSync of the same bytes (the log's bytes in-process, the payload over the network) in batch-sized writes, measured right after each configuration.`);
  console.log(`wrote ${out}.json and ${out}.svg`);
}
