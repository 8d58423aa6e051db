/**
 * The TCP server's ingest rate: ready-made Produce requests (one 16 KiB batch of 100-byte records
 * each, acks=1) pipelined over loopback into a Gregor server, beside a raw loopback TCP transfer of
 * the same bytes measured in the same run; and kcat's produce rate against Gregor.
 * Run: `npx tsx --tsconfig tsconfig.check.json bench/run.ts server` (or import `run`).
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Broker } from '@gregor/broker';
import { nodeFileSystem, systemClock } from '@gregor/log';
import { ApiKey, encodeRequest } from '@gregor/protocol';
import { encodeBatch } from '@gregor/records';
import { Server, silentLogger } from '@gregor/server';
import type { Row } from './row.js';

const RECORD_BYTES = 100;
const BATCH_BYTES_TARGET = 16 * 1024;
const REQUESTS = Number(process.env.GREGOR_BENCH_SERVER_REQUESTS ?? 2000);
const WINDOW = 32;
const KCAT_LINES = Number(process.env.GREGOR_BENCH_KCAT_LINES ?? 200_000);
const PRODUCE_VERSION = 9;

function produceRequests(topic: string): { frames: Buffer[]; recordCount: number; batchBytes: number } {
  const value = Buffer.alloc(RECORD_BYTES, 0x61);
  const records = [];
  // A 100-byte value costs ~8 bytes of record framing: fill the batch up to ~16 KiB.
  for (let size = 61; size + RECORD_BYTES + 8 <= BATCH_BYTES_TARGET; size += RECORD_BYTES + 8) records.push({ value });
  const batch = encodeBatch({ records, timestamp: Date.now() });
  const frames = [];
  for (let i = 0; i < REQUESTS; i++) {
    const body = { transactionalId: null, acks: 1, timeoutMs: 30_000, topicData: [{ name: topic, partitionData: [{ index: 0, records: batch }] }] };
    frames.push(encodeRequest({ apiKey: ApiKey.Produce, apiVersion: PRODUCE_VERSION, correlationId: i, clientId: 'bench' }, body));
  }
  return { frames, recordCount: records.length * REQUESTS, batchBytes: batch.length * REQUESTS };
}

/** Sends the frames with at most WINDOW unanswered; resolves with the elapsed ms once every response arrived. */
function pipeline(port: number, frames: Buffer[], responsesExpected: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setNoDelay(true);
    let sent = 0;
    let answered = 0;
    let pending = 0;
    let partial: Buffer = Buffer.alloc(0);
    let started = 0;
    const pump = () => {
      while (sent < frames.length && sent - answered < WINDOW) socket.write(frames[sent++]);
    };
    socket.on('connect', () => {
      started = performance.now();
      pump();
    });
    socket.on('data', (chunk: Buffer) => {
      partial = partial.length === 0 ? chunk : Buffer.concat([partial, chunk]);
      let position = 0;
      while (partial.length - position >= 4) {
        const size = partial.readInt32BE(position);
        if (partial.length - position < 4 + size) break;
        position += 4 + size;
        answered++;
      }
      partial = partial.subarray(position);
      pending = answered;
      if (pending >= responsesExpected) {
        const elapsed = performance.now() - started;
        socket.destroy();
        resolve(elapsed);
      } else pump();
    });
    socket.on('error', reject);
  });
}

/** The same bytes through a bare TCP sink that answers one 4-byte frame per request frame. */
async function rawLoopback(frames: Buffer[]): Promise<number> {
  const sink = net.createServer({ noDelay: true }, (socket) => {
    let partial: Buffer = Buffer.alloc(0);
    const ack = Buffer.from([0, 0, 0, 4, 0, 0, 0, 0]);
    socket.on('data', (chunk: Buffer) => {
      partial = partial.length === 0 ? chunk : Buffer.concat([partial, chunk]);
      let position = 0;
      while (partial.length - position >= 4) {
        const size = partial.readInt32BE(position);
        if (partial.length - position < 4 + size) break;
        position += 4 + size;
        socket.write(ack);
      }
      partial = partial.subarray(position);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
  try {
    return await pipeline((sink.address() as net.AddressInfo).port, frames, frames.length);
  } finally {
    await new Promise<void>((resolve) => sink.close(() => resolve()));
  }
}

function kcatProduce(port: number, topic: string, lines: number): Promise<number> {
  const input = Buffer.from(`${'k'.repeat(RECORD_BYTES - 1)}\n`.repeat(lines));
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn('kcat', ['-P', '-b', `127.0.0.1:${port}`, '-t', topic, '-X', 'linger.ms=5', '-X', 'acks=1'], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (text) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.pid !== undefined && process.kill(child.pid, 'SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(performance.now() - started);
      else reject(new Error(`kcat exited ${code}: ${stderr}`));
    });
    child.stdin.end(input);
  });
}

export async function run(): Promise<Row[]> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gregor-bench-server-'));
  const broker = await Broker.open({ dir, fs: nodeFileSystem, clock: systemClock, random: Math.random, config: {} });
  const server = new Server({ broker, logger: silentLogger, config: { maxInFlightRequestsPerConnection: WINDOW } });
  try {
    const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
    const context = { connectionId: 0, clientId: 'bench', clientHost: '', correlationId: 0 };
    await broker.handle(ApiKey.CreateTopics, 4, { topics: [{ name: 'bench', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false }, context);
    const { frames, recordCount, batchBytes } = produceRequests('bench');
    const requestBytes = frames.reduce((sum, frame) => sum + frame.length, 0);
    await pipeline(port, frames.slice(0, 100), 100); // warm-up
    const rawMs = await rawLoopback(frames);
    const gregorMs = await pipeline(port, frames, frames.length);
    const mb = requestBytes / 1e6;
    const kcatMs = await kcatProduce(port, 'bench-kcat', KCAT_LINES);
    const note = `${REQUESTS} Produce v${PRODUCE_VERSION} requests, ${(batchBytes / REQUESTS / 1024).toFixed(1)} KiB batch of ${recordCount / REQUESTS} × ${RECORD_BYTES} B records, acks=1, window ${WINDOW}`;
    return [
      { name: 'Produce ingest over loopback', value: mb / (gregorMs / 1000), unit: 'MB/s', baseline: mb / (rawMs / 1000), baselineName: 'raw loopback TCP, same frames', note },
      { name: 'Produce ingest over loopback', value: recordCount / (gregorMs / 1000), unit: 'records/s', baseline: recordCount / (rawMs / 1000), baselineName: 'raw loopback TCP, same frames', note },
      { name: 'kcat -P against Gregor', value: KCAT_LINES / (kcatMs / 1000), unit: 'records/s', note: `${KCAT_LINES} lines of ${RECORD_BYTES} B, linger.ms=5, acks=1, includes kcat start-up` },
    ];
  } finally {
    await server.close();
    await broker.close();
    await rm(dir, { recursive: true, force: true });
  }
}
