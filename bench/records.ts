/**
 * Benchmarks of @gregor/records: RecordBatch encoding (BatchBuilder, 100-byte records, 16 KiB
 * batches), decoding + iteration, CRC-32C throughput, and each codec on JSON-like records. Each
 * figure is a timed loop on this thread; baselines are plain memory copies of the same bytes in
 * the same run, the floor any encoder or checksum has to pay.
 */
import {
  BatchBuilder,
  Compression,
  compress,
  crc32c,
  crc32cImplementation,
  decodeBatch,
  decompress,
  type RecordHeader,
} from '@gregor/records';
import type { Row } from './row.js';

/** Minimum time per measurement; short, because the machine is shared. */
const MEASURE_MS = 400;
const WARM_UP_MS = 150;
const BATCH_BYTES = 16 * 1024;
const RECORD_VALUE_BYTES = 100;

/** Runs `work` (which does `unitsPerCall` units) until MEASURE_MS elapse; returns units per second. */
function measure(unitsPerCall: number, work: () => void): number {
  // Warm up long enough for the optimising compiler to settle.
  const warmUpEnd = process.hrtime.bigint() + BigInt(WARM_UP_MS) * 1_000_000n;
  while (process.hrtime.bigint() < warmUpEnd) for (let index = 0; index < 10; index++) work();
  let calls = 0;
  const start = process.hrtime.bigint();
  let elapsedNs = 0n;
  const budgetNs = BigInt(MEASURE_MS) * 1_000_000n;
  while (elapsedNs < budgetNs) {
    for (let index = 0; index < 10; index++) work();
    calls += 10;
    elapsedNs = process.hrtime.bigint() - start;
  }
  return (calls * unitsPerCall) / (Number(elapsedNs) / 1e9);
}

/** JSON-like values of exactly 100 bytes, varied enough that codecs see realistic redundancy. */
function jsonValues(count: number): Buffer[] {
  const events = ['page_view', 'click', 'add_to_cart', 'purchase', 'login'];
  const values: Buffer[] = [];
  for (let index = 0; index < count; index++) {
    const text = JSON.stringify({ id: 100000 + index, user: `u${(index * 7919) % 5000}`, event: events[index % events.length], ts: 1700000000000 + index * 13, pad: '' });
    values.push(Buffer.from(text.slice(0, -2).padEnd(RECORD_VALUE_BYTES - 2, 'x') + '"}'));
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
  const encodeRate = measure(recordCount, () => buildBatch(values, Compression.none));
  // Baseline: only copying each value into one buffer, no framing, no CRC.
  const target = Buffer.allocUnsafe(BATCH_BYTES);
  const copyRate = measure(recordCount, () => {
    let position = 0;
    for (let index = 0; index < recordCount; index++) position += values[index].copy(target, position);
  });
  const headers: RecordHeader[] = [{ key: 'trace-id', value: Buffer.from('0123456789abcdef') }];
  const withHeadersRate = measure(recordCount, () => {
    const builder = new BatchBuilder({ batchBytesMax: BATCH_BYTES * 2 });
    for (let index = 0; index < recordCount; index++) builder.tryAppend(1700000000000, null, values[index], headers);
    builder.build();
  });
  return [
    { name: `encode BatchBuilder, ${RECORD_VALUE_BYTES}-byte records, 16 KiB batches`, value: encodeRate, unit: 'records/s', baseline: copyRate, baselineName: 'Buffer.copy of the values', note: `${(1e9 / encodeRate).toFixed(0)} ns/record, ${recordCount} records/batch` },
    { name: 'encode with one 16-byte header per record', value: withHeadersRate, unit: 'records/s', note: `${(1e9 / withHeadersRate).toFixed(0)} ns/record` },
  ];
}

function decodeRows(values: Buffer[]): Row[] {
  const { batch, recordCount } = buildBatch(values, Compression.none);
  const iterateRate = measure(recordCount, () => {
    let bytes = 0;
    for (const record of decodeBatch(batch).records()) bytes += record.value === null ? 0 : record.value.length;
    if (bytes === 0) throw new Error('nothing decoded');
  });
  const visitRate = measure(recordCount, () => {
    let bytes = 0;
    decodeBatch(batch).forEachRecord((record) => {
      bytes += record.valueLength;
    });
    if (bytes === 0) throw new Error('nothing decoded');
  });
  const noCrcRate = measure(recordCount, () => {
    let bytes = 0;
    decodeBatch(batch, 0, { verifyCrc: false }).forEachRecord((record) => {
      bytes += record.valueLength;
    });
    if (bytes === 0) throw new Error('nothing decoded');
  });
  return [
    { name: 'decode + iterate records() (objects with key/value views)', value: iterateRate, unit: 'records/s', note: `${(1e9 / iterateRate).toFixed(0)} ns/record, CRC checked` },
    { name: 'decode + forEachRecord visitor (no per-record objects)', value: visitRate, unit: 'records/s', baseline: iterateRate, baselineName: 'records() iterator', note: `${(1e9 / visitRate).toFixed(0)} ns/record, CRC checked` },
    { name: 'decode + forEachRecord, CRC not checked', value: noCrcRate, unit: 'records/s', note: `${(1e9 / noCrcRate).toFixed(0)} ns/record` },
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
  return [...encodeRows(values), ...decodeRows(values), ...crcRows(), ...codecRows(values)];
}
