/**
 * Benchmarks of @gregor/records: RecordBatch encoding (BatchBuilder, 100-byte records, 16 KiB
 * batches), decoding + iteration, CRC-32C throughput, and each codec on JSON-like records. Each
 * figure is a timed loop on this thread; baselines are plain memory copies of the same bytes in
 * the same run, the floor any encoder or checksum has to pay.
 */
import {
  BatchBuilder,
  checkRecords,
  Compression,
  compress,
  crc32c,
  crc32cImplementation,
  decodeBatch,
  decompress,
  isBatchCrcValid,
  type RecordHeader,
} from '@gregor/records';
import type { Row } from './row.js';

/** Minimum time per measurement; short, because the machine is shared. */
const MEASURE_MS = 400;
const WARM_UP_MS = 300;
/** Calls made during warm-up at least, so the optimising compiler has seen the work often enough. */
const WARM_UP_CALLS_MIN = 300;
const BATCH_BYTES = 16 * 1024;
const RECORD_VALUE_BYTES = 100;

/**
 * Runs `work` (which does `unitsPerCall` units) until MEASURE_MS elapse. Returns units per second
 * of wall time, and per second of this process's CPU time, which a loaded machine disturbs less.
 */
function measureBoth(unitsPerCall: number, work: () => void): { rate: number; cpuRate: number } {
  // Warm up long enough for the optimising compiler to settle.
  const warmUpEnd = process.hrtime.bigint() + BigInt(WARM_UP_MS) * 1_000_000n;
  for (let index = 0; index < WARM_UP_CALLS_MIN; index++) work();
  while (process.hrtime.bigint() < warmUpEnd) for (let index = 0; index < 10; index++) work();
  let calls = 0;
  const cpuStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  const budgetNs = BigInt(MEASURE_MS) * 1_000_000n;
  while (elapsedNs < budgetNs) {
    for (let index = 0; index < 10; index++) work();
    calls += 10;
    elapsedNs = process.hrtime.bigint() - start;
  }
  const cpu = process.cpuUsage(cpuStart);
  const units = calls * unitsPerCall;
  return { rate: units / (Number(elapsedNs) / 1e9), cpuRate: units / ((cpu.user + cpu.system) / 1e6) };
}

function measure(unitsPerCall: number, work: () => void): number {
  return measureBoth(unitsPerCall, work).rate;
}

/** "N ns/record (M ns of CPU)" for a note. */
function perRecord(result: { rate: number; cpuRate: number }): string {
  return `${(1e9 / result.rate).toFixed(0)} ns/record wall, ${(1e9 / result.cpuRate).toFixed(0)} ns CPU`;
}

/** JSON-like values of exactly 100 bytes, varied enough that codecs see realistic redundancy. */
function jsonValues(count: number): Buffer[] {
  const events = ['page_view', 'click', 'add_to_cart', 'purchase', 'login'];
  const values: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const text = JSON.stringify({ id: 100000 + index, user: `u${(index * 7919) % 5000}`, event: events[index % events.length], ts: 1700000000000 + index * 13, pad: '' });
    values.push(Buffer.from(`${text.slice(0, -2).padEnd(RECORD_VALUE_BYTES - 2, 'x')}"}`));
  }
  return values;
}

function buildBatch(values: Buffer[], compression: number): { batch: Buffer; recordCount: number; uncompressedBytes: number } {
  const builder = new BatchBuilder({ compression, batchBytesMax: BATCH_BYTES });
  let recordCount = 0;
  while (recordCount < values.length && builder.tryAppend(1700000000000 + recordCount, null, values[recordCount], null)) recordCount++;
  const uncompressedBytes = builder.sizeInBytes;
  return { batch: builder.build(), recordCount, uncompressedBytes };
}

function encodeRows(values: Buffer[]): Row[] {
  const { recordCount } = buildBatch(values, Compression.none);
  const encode = measureBoth(recordCount, () => buildBatch(values, Compression.none));
  // Baseline: only copying each value into one buffer, no framing, no CRC.
  const target = Buffer.allocUnsafe(BATCH_BYTES);
  const copyRate = measure(recordCount, () => {
    let position = 0;
    for (let index = 0; index < recordCount; index++) position += values[index].copy(target, position);
  });
  const headers: RecordHeader[] = [{ key: 'trace-id', value: Buffer.from('0123456789abcdef') }];
  const withHeaders = measureBoth(recordCount, () => {
    const builder = new BatchBuilder({ batchBytesMax: BATCH_BYTES * 2 });
    for (let index = 0; index < recordCount; index++) builder.tryAppend(1700000000000, null, values[index], headers);
    builder.build();
  });
  return [
    { name: `encode BatchBuilder, ${RECORD_VALUE_BYTES}-byte records, 16 KiB batches`, value: encode.rate, unit: 'records/s', baseline: copyRate, baselineName: 'Buffer.copy of the values', note: `${perRecord(encode)}, ${recordCount} records/batch` },
    { name: 'encode with one 16-byte header per record', value: withHeaders.rate, unit: 'records/s', note: perRecord(withHeaders) },
  ];
}

function decodeRows(values: Buffer[]): Row[] {
  const { batch, recordCount } = buildBatch(values, Compression.none);
  const iterate = measureBoth(recordCount, () => {
    let bytes = 0;
    for (const record of decodeBatch(batch).records()) bytes += record.value === null ? 0 : record.value.length;
    if (bytes === 0) throw new Error('nothing decoded');
  });
  const visit = measureBoth(recordCount, () => {
    let bytes = 0;
    decodeBatch(batch).forEachRecord((record) => {
      bytes += record.valueLength;
    });
    if (bytes === 0) throw new Error('nothing decoded');
  });
  const noCrc = measureBoth(recordCount, () => {
    let bytes = 0;
    decodeBatch(batch, 0, { verifyCrc: false }).forEachRecord((record) => {
      bytes += record.valueLength;
    });
    if (bytes === 0) throw new Error('nothing decoded');
  });
  return [
    { name: 'decode + iterate records() (objects with key/value views)', value: iterate.rate, unit: 'records/s', note: `${perRecord(iterate)}, CRC checked` },
    { name: 'decode + forEachRecord visitor (no per-record objects)', value: visit.rate, unit: 'records/s', baseline: iterate.rate, baselineName: 'records() iterator', note: `${perRecord(visit)}, CRC checked` },
    { name: 'decode + forEachRecord, CRC not checked', value: noCrc.rate, unit: 'records/s', note: perRecord(noCrc) },
  ];
}

/**
 * What the broker's produce path checks per batch: before, the CRC alone stood for an uncompressed
 * batch's records; now every record is walked too, as Kafka's LogValidator does.
 */
function validateRows(values: Buffer[]): Row[] {
  const { batch, recordCount } = buildBatch(values, Compression.none);
  const crcOnly = measureBoth(recordCount, () => {
    if (!isBatchCrcValid(batch, 0)) throw new Error('bad CRC');
  });
  const everyRecord = measureBoth(recordCount, () => {
    if (!isBatchCrcValid(batch, 0)) throw new Error('bad CRC');
    checkRecords(decodeBatch(batch, 0, { verifyCrc: false }));
  });
  return [
    { name: 'validate a produced batch: CRC + every record (LogValidator walk)', value: everyRecord.rate, unit: 'records/s', baseline: crcOnly.rate, baselineName: 'CRC only, the check before', note: `${perRecord(everyRecord)}; CRC only: ${perRecord(crcOnly)}` },
  ];
}

function crcRows(): Row[] {
  const data = Buffer.alloc(1024 * 1024, 0x5a);
  const crcRate = measure(data.length, () => crc32c(data));
  const target = Buffer.allocUnsafe(data.length);
  const copyRate = measure(data.length, () => data.copy(target));
  return [
    { name: `CRC-32C (fast-crc32c, ${crc32cImplementation()}), 1 MiB buffers`, value: crcRate / 1e9, unit: 'GB/s', baseline: copyRate / 1e9, baselineName: 'Buffer.copy', note: `implementation: ${crc32cImplementation()}` },
  ];
}

function codecRows(values: Buffer[]): Row[] {
  const rows: Row[] = [];
  const { batch } = buildBatch(values, Compression.none);
  const plain = batch.subarray(61);
  for (const [name, codec] of [['gzip', Compression.gzip], ['snappy', Compression.snappy], ['lz4', Compression.lz4], ['zstd', Compression.zstd]] as const) {
    const compressed = compress(codec, plain);
    const ratio = plain.length / compressed.length;
    const compressRate = measure(plain.length, () => compress(codec, plain));
    const decompressRate = measure(plain.length, () => decompress(codec, compressed, 1024 * 1024));
    rows.push({ name: `${name} compress, 16 KiB of JSON-like records`, value: compressRate / 1e6, unit: 'MB/s', note: `ratio ${ratio.toFixed(2)}` });
    rows.push({ name: `${name} decompress`, value: decompressRate / 1e6, unit: 'MB/s', note: 'MB of uncompressed output' });
  }
  return rows;
}

export async function run(): Promise<Row[]> {
  const values = jsonValues(4096);
  return [...encodeRows(values), ...decodeRows(values), ...validateRows(values), ...crcRows(), ...codecRows(values)];
}
