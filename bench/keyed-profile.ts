/**
 * One path of the keyed workload (bench/keyed.ts) alone, for profiling: rounds of produce, and of
 * consume with `eachBatch` or `eachMessage`, in-process or over loopback TCP (`tcp-...`), each
 * reporting records/s and records per CPU-second (steadier than wall time on a shared machine).
 * With GREGOR_PROFILE_OUT=/path/prefix the last round's produce or consume is profiled through
 * node:inspector, only the measured part: `<prefix>-produce.cpuprofile` (CPU, sampled every
 * 200 µs), and with GREGOR_PROFILE_HEAP=1 instead `<prefix>-produce.heapprofile` (allocation
 * sampling), which Chrome DevTools opens. Not both at once: allocation sampling inflates every
 * allocating function's CPU samples several times over.
 *
 *   pnpm tsx --tsconfig tsconfig.check.json bench/keyed-profile.ts produce|batch|message|plain|records|tcp-produce|tcp-batch|tcp-message|tcp-records|fsync [records] [rounds]
 */
import { writeFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Gregor } from 'gregor';
import { consumeKeyed, keyedRecords, produceKeyed } from '../packages/gregor/src/perf/keyed-workload.js';

const [what = 'produce', recordsText = '1000000', roundsText = '2'] = process.argv.slice(2);
const records = Number(recordsText);
const rounds = Number(roundsText);
const consumes = what.endsWith('batch') || what.endsWith('message') || what.endsWith('plain') || what.endsWith('records');
const chunks = keyedRecords({ keyBytes: Number(process.env.GREGOR_BENCH_KEYED_KEY_BYTES ?? 10), valueBytes: 90, messagesPerSend: 1000 });
const dir = await mkdtemp(path.join(tmpdir(), 'gregor-keyed-profile-'));
const gregor = await Gregor.open({ dir });
let client: Pick<Gregor, 'producer' | 'consumer' | 'admin'> = gregor;
if (what.startsWith('tcp')) {
  const { port } = await gregor.listen({ host: '127.0.0.1', port: 0 });
  client = new Gregor.Client({ brokers: [`127.0.0.1:${port}`] });
}

const session = new Session();
session.connect();
const profileOut = process.env.GREGOR_PROFILE_OUT;

async function profiled<T>(name: string, on: boolean, work: () => Promise<T>): Promise<T> {
  if (!on || profileOut === undefined) return work();
  if (process.env.GREGOR_PROFILE_HEAP === '1') {
    await session.post('HeapProfiler.enable');
    // Collected objects too: the point is what the path allocates, not what stays.
    await session.post('HeapProfiler.startSampling', { samplingInterval: 4096, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true } as never);
    const result = await work();
    const heap = await session.post('HeapProfiler.stopSampling');
    writeFileSync(`${profileOut}-${name}.heapprofile`, JSON.stringify(heap.profile));
    return result;
  }
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  const result = await work();
  const { profile } = await session.post('Profiler.stop');
  writeFileSync(`${profileOut}-${name}.cpuprofile`, JSON.stringify(profile));
  return result;
}

let cpu = process.cpuUsage();
function cpuSeconds(): number {
  const used = process.cpuUsage(cpu);
  cpu = process.cpuUsage();
  return (used.user + used.system) / 1e6;
}
const rate = (count: number, seconds: number) => Math.round(count / seconds).toLocaleString('en-US');

try {
  for (let round = 0; round < rounds; round++) {
    const last = round === rounds - 1;
    const topic = `keyed-${round}`;
    const admin = client.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1, configEntries: what === 'fsync' ? [{ name: 'flush.messages', value: '1' }] : [] }] });
    await admin.disconnect();
    const producer = client.producer({ acks: 1, lingerMs: 5, batchBytes: Number(process.env.GREGOR_BENCH_KEYED_BATCH_BYTES ?? 16_384) });
    await producer.connect();
    cpuSeconds();
    const seconds = await profiled('produce', last && !consumes, () => produceKeyed(producer, { topic, records, chunks, sendsInFlight: 64, acks: 1 }));
    const produceCpu = cpuSeconds();
    await producer.disconnect();
    console.log(`round ${round}: produce ${rate(records, seconds)} records/s, ${rate(records, produceCpu)} per CPU-second`);
    if (!consumes) continue;
    const consumer = client.consumer({ groupId: `profile-${round}` });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    cpuSeconds();
    const result = await profiled('consume', last, () => consumeKeyed(consumer, records, what.endsWith('batch') ? 'eachBatch' : what.endsWith('plain') ? 'eachMessagePlain' : what.endsWith('records') ? 'eachRecords' : 'eachMessage'));
    const consumeCpu = cpuSeconds();
    await consumer.disconnect();
    console.log(`round ${round}: consume ${rate(result.records, result.seconds)} records/s, ${rate(result.records, consumeCpu)} per CPU-second (join included), first record after ${result.firstRecordMs.toFixed(0)} ms`);
  }
} finally {
  session.disconnect();
  await gregor.close();
  await rm(dir, { recursive: true, force: true });
}
