/**
 * Produce and fetch through `broker.handle` in-process (no sockets): 16 KiB batches of 100-byte
 * records, acks=1, on MemoryFileSystem and on the real file system without fsync. Prints one line
 * per backend. Run: npx tsx --tsconfig tsconfig.check.json packages/broker/bench/produce-fetch.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiKey } from '@gregor/protocol';
import { BatchBuilder } from '@gregor/records';
import { MemoryFileSystem, nodeFileSystem, systemClock, type FileSystem } from '@gregor/log';
import { Broker } from '@gregor/broker';

function makeBatch(): Buffer {
  const builder = new BatchBuilder({ batchBytesMax: 16 * 1024 });
  const value = Buffer.alloc(100, 120);
  let count = 0;
  while (builder.tryAppend(Date.now(), null, value, null)) count++;
  return builder.build();
}

async function run(label: string, fs: FileSystem, dir: string): Promise<void> {
  const broker = await Broker.open({ dir, fs, clock: systemClock, config: { groupInitialRebalanceDelayMs: 0 } });
  await broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name: 'b', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1, validateOnly: false });
  const template = makeBatch();
  const records = (template.readInt32BE(57));
  const iterations = 20000;
  const start = process.hrtime.bigint();
  for (let index = 0; index < iterations; index++) {
    await broker.handle(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'b', partitionData: [{ index: 0, records: Buffer.from(template) }] }] });
  }
  const produceSeconds = Number(process.hrtime.bigint() - start) / 1e9;
  let offset = 0;
  let bytes = 0;
  const fetchStart = process.hrtime.bigint();
  for (let step = 0; step < 100000 && offset < iterations * records; step++) {
    const response = (await broker.handle(ApiKey.Fetch, 11, { replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1, topics: [{ topic: 'b', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: offset, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }], forgottenTopicsData: [], rackId: '' })) as { responses: { partitions: { records: Buffer }[] }[] };
    const data = response.responses[0].partitions[0].records;
    bytes += data.length;
    offset += Math.round(data.length / template.length) * records;
  }
  const fetchSeconds = Number(process.hrtime.bigint() - fetchStart) / 1e9;
  const total = iterations * records;
  console.log(`${label}: produce acks=1 ${iterations} x ${template.length} B batches (${records} records of 100 B): ${(total / produceSeconds / 1e6).toFixed(2)} M records/s, ${(iterations * template.length / produceSeconds / 1e6).toFixed(0)} MB/s; fetch ${(bytes / fetchSeconds / 1e6).toFixed(0)} MB/s`);
  await broker.close();
}

await run('memory fs', new MemoryFileSystem(), '/bench');
const dir = mkdtempSync(path.join(tmpdir(), 'gregor-bench-'));
try {
  await run('node fs (no fsync)', nodeFileSystem, dir);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
