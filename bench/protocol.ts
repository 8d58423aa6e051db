/**
 * Benchmarks of @gregor/protocol: a Produce v9 request carrying a 16 KiB record set and a Fetch
 * v12 response carrying 1 MiB, encoded (as chunks, the record set left uncopied, and as one
 * buffer) and decoded (the record set returned as a view). Baselines, in the same run: one
 * plain copy of the record set, the floor of any encoder that copies the payload.
 */
import { ApiKey, decodeRequest, decodeResponse, encodeRequest, encodeRequestParts, encodeResponse, encodeResponseParts } from '@gregor/protocol';
import type { Row } from './row.js';

const MEASURE_MS = 400;
const WARM_UP_MS = 150;

/** Runs `work` until MEASURE_MS elapse; returns calls per second. */
function measure(work: () => void): number {
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
  return calls / (Number(elapsedNs) / 1e9);
}

let sink = 0;

function copyBaseline(payload: Buffer): number {
  return measure(() => {
    sink += Buffer.from(payload).length;
  });
}

function produceRows(): Row[] {
  const records = Buffer.alloc(16 * 1024, 7);
  const header = { apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: 'bench' };
  const body = { acks: -1, timeoutMs: 30000, topicData: [{ name: 'bench-topic', partitionData: [{ index: 0, records }] }] };
  const frame = encodeRequest(header, body).subarray(4);
  const baseline = copyBaseline(records);
  const note = '16 KiB record set; baseline: one copy of it';
  return [
    { name: 'Produce v9 request encode (chunks, no copy)', value: measure(() => (sink += encodeRequestParts(header, body).length)), unit: 'ops/s', baseline, baselineName: 'copy 16 KiB', note },
    { name: 'Produce v9 request encode (one buffer)', value: measure(() => (sink += encodeRequest(header, body).length)), unit: 'ops/s', baseline, baselineName: 'copy 16 KiB', note },
    { name: 'Produce v9 request decode (view)', value: measure(() => (sink += decodeRequest(frame).header.correlationId)), unit: 'ops/s', baseline, baselineName: 'copy 16 KiB', note },
  ];
}

function fetchRows(): Row[] {
  const records = Buffer.alloc(1024 * 1024, 9);
  const body = {
    responses: [{ topic: 'bench-topic', partitions: [{ partitionIndex: 0, highWatermark: 1000, lastStableOffset: 1000, logStartOffset: 0, records }] }],
  };
  const frame = encodeResponse(ApiKey.Fetch, 12, 1, body).subarray(4);
  const baseline = copyBaseline(records);
  const note = '1 MiB record set; baseline: one copy of it';
  return [
    { name: 'Fetch v12 response encode (chunks, no copy)', value: measure(() => (sink += encodeResponseParts(ApiKey.Fetch, 12, 1, body).length)), unit: 'ops/s', baseline, baselineName: 'copy 1 MiB', note },
    { name: 'Fetch v12 response encode (one buffer)', value: measure(() => (sink += encodeResponse(ApiKey.Fetch, 12, 1, body).length)), unit: 'ops/s', baseline, baselineName: 'copy 1 MiB', note },
    { name: 'Fetch v12 response decode (view)', value: measure(() => (sink += decodeResponse(ApiKey.Fetch, 12, frame).correlationId)), unit: 'ops/s', baseline, baselineName: 'copy 1 MiB', note },
  ];
}

export async function run(): Promise<Row[]> {
  const rows = [...produceRows(), ...fetchRows()];
  if (sink === -1) console.log(sink);
  return rows;
}
