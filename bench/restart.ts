/**
 * Restart time after `kill -9`, and no acknowledged record lost. A `gregor serve` process (the
 * built CLI, as an operator runs it) gets a log of the given size through our producer over TCP
 * (1,000-byte values, acks=1, no fsync), is killed with SIGKILL while sends are in flight, and is
 * started again on the same directory: the time from spawn to its "serving" banner is the restart
 * time. In the same run: the start of an empty directory (what any start costs: Node, modules, the
 * listener) and the restart of the same log after a clean stop. Then the log is opened in-process
 * and every acknowledged offset must be there, contiguous from 0.
 *
 * Run: `pnpm bench restart` (log sizes in MB: GREGOR_BENCH_RESTART_MB, default "100,2048"; the
 * topic's segment.bytes in MiB: GREGOR_BENCH_RESTART_SEGMENT_MIB, default "1024,128"). Needs the
 * built CLI (`pnpm install` or `tsc -b`). Not part of the default `pnpm bench`: it writes gigabytes.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createClient, TcpTransport } from '@gregor/client';
import { LogManager, nodeFileSystem, type PartitionLog } from '@gregor/log';
import { forEachBatch, readBatchHeader } from '@gregor/records';
import { GREGOR_NODE_FLAGS } from '../packages/gregor/src/node-flags.js';
import type { Row } from './row.js';

const SIZES_MB = (process.env.GREGOR_BENCH_RESTART_MB ?? '100,2048').split(',').map(Number);
const SEGMENT_MIB = (process.env.GREGOR_BENCH_RESTART_SEGMENT_MIB ?? '1024,128').split(',').map(Number);
const VALUE_BYTES = 1000;
const MESSAGES_PER_SEND = 1000;
const SENDS_IN_FLIGHT = 8;
const TOPIC = 'restart';
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const cli = path.join(root, 'packages/gregor/bin/gregor.js');

interface Served {
  child: ChildProcess;
  port: number;
  /** Spawn to banner. */
  startMs: number;
  exited: Promise<number | null>;
}

/** Starts `gregor serve` on `dir`; resolves once it prints its banner. */
function serve(dir: string): Promise<Served> {
  const started = performance.now();
  const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, cli, 'serve', '--dir', dir, '--port', '0', '--http-port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let printed = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`gregor serve printed no banner in 10 minutes: ${printed}`));
    }, 600_000);
    // Warnings and errors only (damage would show here); the listener's INFO line is noise.
    child.stderr?.on('data', (chunk) => {
      for (const line of String(chunk).split('\n')) if (/\b(WARN|ERROR)\b/.test(line)) process.stderr.write(`${line}\n`);
    });
    child.stdout?.on('data', (chunk) => {
      printed += String(chunk);
      const match = /serving Kafka's protocol on 127\.0\.0\.1:(\d+)/.exec(printed);
      if (match && printed.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), startMs: performance.now() - started, exited });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`gregor serve exited with ${code} before its banner: ${printed}`));
    });
  });
}

async function stopCleanly(served: Served): Promise<void> {
  served.child.kill('SIGTERM');
  const code = await served.exited;
  if (code !== 0) throw new Error(`gregor serve exited with ${code} on SIGTERM`);
}

/**
 * Produces until `bytes` of values are acknowledged, then SIGKILLs the server with sends in flight.
 * Returns the last acknowledged offset and how many records were acknowledged.
 */
async function fillAndKill(served: Served, bytes: number, segmentBytes: number): Promise<{ lastAckedOffset: number; acked: number }> {
  const transport = new TcpTransport({ brokers: [`127.0.0.1:${served.port}`] });
  const client = createClient({ transport });
  const admin = client.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: String(segmentBytes) }] }] });
  const producer = client.producer({ acks: 1, lingerMs: 2, batchBytes: 1024 * 1024, retry: { retries: 0 } });
  await producer.connect();
  const value = Buffer.alloc(VALUE_BYTES, 0x61);
  const messages = Array.from({ length: MESSAGES_PER_SEND }, (_, i) => ({ key: String(i), value }));
  let acked = 0;
  let lastAckedOffset = -1;
  let killed = false;
  const pending = new Set<Promise<void>>();
  while (!killed) {
    while (pending.size < SENDS_IN_FLIGHT) {
      const send: Promise<void> = producer.send({ topic: TOPIC, messages }).then(
        (metadata) => {
          acked += MESSAGES_PER_SEND;
          lastAckedOffset = Math.max(lastAckedOffset, Number(metadata[0].baseOffset) + MESSAGES_PER_SEND - 1);
          if (!killed && acked * VALUE_BYTES >= bytes) {
            // Under load: the other sends are still on the wire.
            killed = true;
            served.child.kill('SIGKILL');
          }
        },
        () => {},
      ).finally(() => pending.delete(send));
      pending.add(send);
    }
    await Promise.race(pending);
  }
  await served.exited;
  await Promise.allSettled([...pending]);
  await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
  await transport.close().catch(() => {});
  return { lastAckedOffset, acked };
}

/** Opens the log in-process: offsets contiguous from 0, and how many acknowledged ones are missing. */
async function verify(dir: string, lastAckedOffset: number): Promise<{ lost: number; gaps: number; logEndOffset: number; activeSegmentBytes: number }> {
  const warnings: string[] = [];
  const logs = LogManager.open({ fs: nodeFileSystem, dir, schedule: false, logger: { warn: (message) => warnings.push(message) } });
  try {
    const log = logs.get(TOPIC, 0) as PartitionLog;
    let expected = log.logStartOffset;
    let gaps = 0;
    for (let offset = log.logStartOffset; offset < log.logEndOffset; ) {
      const { records, nextOffset } = log.read(offset, { maxBytes: 8 * 1024 * 1024 });
      if (records.length === 0) break;
      forEachBatch(records, (position) => {
        const header = readBatchHeader(records, position);
        if (header.baseOffset !== expected) gaps++;
        expected = header.lastOffset + 1;
      });
      offset = nextOffset;
    }
    if (warnings.length > 0) throw new Error(`damage reported in a log that was only killed: ${warnings.join('; ')}`);
    const bases = log.segmentBaseOffsets();
    const active = path.join(dir, `${TOPIC}-0`, `${String(bases[bases.length - 1]).padStart(20, '0')}.log`);
    const activeSegmentBytes = nodeFileSystem.openFile(active).size();
    return { lost: Math.max(0, lastAckedOffset + 1 - expected), gaps, logEndOffset: log.logEndOffset, activeSegmentBytes };
  } finally {
    logs.close();
  }
}

export async function run(): Promise<Row[]> {
  const rows: Row[] = [];
  const emptyDir = await mkdtemp(path.join(tmpdir(), 'gregor-bench-restart-empty-'));
  try {
    const empty = await serve(emptyDir);
    await stopCleanly(empty);
    const emptyStartMs = empty.startMs;
    for (const segmentMiB of SEGMENT_MIB) {
      for (const sizeMb of SIZES_MB) {
        const dir = await mkdtemp(path.join(tmpdir(), 'gregor-bench-restart-'));
        try {
          const first = await serve(dir);
          const { lastAckedOffset, acked } = await fillAndKill(first, sizeMb * 1e6, segmentMiB * 1024 * 1024);
          const afterKill = await serve(dir);
          await stopCleanly(afterKill);
          const afterCleanStop = await serve(dir);
          await stopCleanly(afterCleanStop);
          const check = await verify(dir, lastAckedOffset);
          if (check.lost > 0 || check.gaps > 0) throw new Error(`${check.lost} acknowledged records lost, ${check.gaps} gaps`);
          const note = `segment.bytes ${segmentMiB} MiB; active segment re-read after the kill: ${(check.activeSegmentBytes / 1e6).toFixed(0)} MB; ${acked.toLocaleString('en-US')} records acknowledged, 0 lost (log end ${check.logEndOffset.toLocaleString('en-US')})`;
          rows.push(
            { name: `restart after kill -9, ${sizeMb} MB log`, value: afterKill.startMs, unit: 'ms', baseline: emptyStartMs, baselineName: 'start on an empty dir', note },
            { name: `restart after a clean stop, ${sizeMb} MB log`, value: afterCleanStop.startMs, unit: 'ms', baseline: emptyStartMs, baselineName: 'start on an empty dir', note: `segment.bytes ${segmentMiB} MiB` },
          );
        } finally {
          await rm(dir, { recursive: true, force: true });
        }
      }
    }
  } finally {
    await rm(emptyDir, { recursive: true, force: true });
  }
  return rows;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  for (const row of await run()) console.log(row);
}
