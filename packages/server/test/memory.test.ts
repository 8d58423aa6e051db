/**
 * The broker's memory under misbehaving clients, measured from outside: a broker in a child
 * process (support/memory-broker.ts, default server settings) faces one connection that pipelines
 * 1,000 Fetch requests of 10 MiB and never reads, and ten connections stalled partway through
 * 100 MiB frames, while a normal client keeps fetching. The child's RSS must stay under a stated
 * bound, the normal client must keep getting answers, and everything the bad clients held must be
 * released when they leave. Without the limits the same run grows the broker by gigabytes (the
 * sampler stops the child as soon as it passes the bound, so a regression cannot eat the machine).
 */
import { type ChildProcess, fork } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ApiKey, decodeResponse, encodeRequest, FrameReader } from '@gregor/protocol';
import { afterEach, describe, expect, it } from 'vitest';
import type { MemoryUsage } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const script = fileURLToPath(new URL('./support/memory-broker.ts', import.meta.url));
const MiB = 1024 * 1024;
/** Data in the topic: every Fetch of 10 MiB gets 10 MiB. */
const TOPIC_MIB = 12;
/**
 * The bound, above the child's own RSS once it has started and written its data: two 100 MiB
 * frames read into the shared request budget (256 MiB), the Fetch client's 16 MiB of untaken
 * answers plus the one being made, and slack for the allocator and a shared, noisy machine.
 */
const GROWTH_BOUND_BYTES = 500 * MiB;
/** How far above the baseline the RSS may stay once the bad clients are gone and a GC ran. */
const RELEASED_BOUND_BYTES = 150 * MiB;
/** The normal client's every answer must come within this (the target is well under a second). */
const ANSWER_BOUND_MS = 5000;

interface Report {
  rss: number;
  usage: MemoryUsage;
  connections: number;
}

const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
});

function startBroker(): Promise<{ child: ChildProcess; port: number; ask: (message: 'usage' | 'gc') => Promise<Report> }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-memory-'));
  const child = fork(script, [dir, String(TOPIC_MIB)], {
    cwd: root,
    execArgv: ['--import', 'tsx', '--expose-gc'],
    env: { ...process.env, TSX_TSCONFIG_PATH: path.join(root, 'tsconfig.check.json') },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push(() => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const replies: { resolve: (report: Report) => void; reject: (error: Error) => void }[] = [];
  child.on('message', (message) => {
    if (typeof message === 'object' && message !== null && 'rss' in message) replies.shift()?.resolve(message as Report);
  });
  child.once('exit', (code, signal) => {
    for (const reply of replies.splice(0)) reply.reject(new Error(`the broker exited (${code ?? signal})`));
  });
  const ask = (message: 'usage' | 'gc'): Promise<Report> =>
    new Promise((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) {
        reject(new Error('the broker has exited'));
        return;
      }
      replies.push({ resolve, reject });
      child.send(message);
    });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the broker did not start')), 60_000);
    child.once('exit', (code) => reject(new Error(`the broker exited with ${code}`)));
    child.on('message', (message) => {
      if (typeof message === 'object' && message !== null && 'port' in message) {
        clearTimeout(timer);
        resolve({ child, port: (message as { port: number }).port, ask });
      }
    });
  });
}

const sockets = new Set<net.Socket>();
afterEach(() => {
  for (const socket of sockets) socket.destroy();
  sockets.clear();
});

/** A process's resident set from /proc (Linux), or undefined where there is none. */
function rssFromProc(pid: number): number | undefined {
  try {
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match === null ? undefined : Number(match[1]) * 1024;
  } catch {
    return undefined;
  }
}

function connect(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => resolve(socket));
    socket.once('error', reject);
    sockets.add(socket);
  });
}

function fetchRequest(correlationId: number, maxBytes: number): Buffer {
  return encodeRequest({ apiKey: ApiKey.Fetch, apiVersion: 11, correlationId, clientId: 'memory-test' }, {
    replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
    topics: [{ topic: 'big', partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: maxBytes }] }],
    forgottenTopicsData: [], rackId: '',
  });
}

/** Sends a frame that declares `declaredBytes` and stops partway, as fast as the broker takes it. */
async function stallPartway(socket: net.Socket, declaredBytes: number, sendBytes: number): Promise<number> {
  const header = Buffer.alloc(8);
  header.writeInt32BE(declaredBytes, 0);
  header.writeInt16BE(ApiKey.Produce, 4);
  header.writeInt16BE(9, 6);
  socket.write(header);
  const block = Buffer.alloc(MiB, 0x20);
  let sent = 0;
  while (sent < sendBytes && !socket.destroyed) {
    const size = Math.min(block.length, sendBytes - sent);
    sent += size;
    if (socket.write(block.subarray(0, size))) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 500);
      socket.once('drain', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!drained) break;
  }
  return sent;
}

/** A consumer that fetches 1 MiB, waits for the answer, and does it again until stopped or failed. */
function normalClient(socket: net.Socket): { latenciesMs: number[]; stop: () => Promise<Error | undefined> } {
  const latenciesMs: number[] = [];
  let running = true;
  const reader = new FrameReader();
  let waiting: ((frame: Buffer) => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    for (const frame of reader.push(chunk)) waiting?.(frame);
  });
  const exchange = (correlationId: number): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the normal client got no answer within ${ANSWER_BOUND_MS} ms`)), ANSWER_BOUND_MS);
      waiting = (frame) => {
        clearTimeout(timer);
        resolve(frame);
      };
      socket.write(fetchRequest(correlationId, MiB));
    });
  const done = (async (): Promise<Error | undefined> => {
    try {
      for (let correlationId = 1; running; correlationId++) {
        const started = performance.now();
        const { body } = decodeResponse(ApiKey.Fetch, 11, await exchange(correlationId));
        latenciesMs.push(performance.now() - started);
        if ((body.responses[0].partitions[0].records?.length ?? 0) === 0) return new Error('the normal client got an empty fetch');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      return undefined;
    } catch (error) {
      return error as Error;
    }
  })();
  return {
    latenciesMs,
    stop: () => {
      running = false;
      return done;
    },
  };
}

describe('broker memory under misbehaving clients', () => {
  it('stays bounded against a client that never reads and clients stalled in 100 MiB frames, answers a normal client throughout, and frees everything after', async () => {
    const { child, port, ask } = await startBroker();
    const baseline = (await ask('gc')).rss;
    let peak = baseline;
    let over: number | undefined;
    // RSS read from /proc, so a broker too busy to answer is still measured (and stopped).
    const sampler = setInterval(() => {
      const rss = child.pid === undefined ? undefined : rssFromProc(child.pid);
      const sample = rss === undefined ? ask('usage').then((report) => report.rss) : Promise.resolve(rss);
      sample.then((bytes) => {
        peak = Math.max(peak, bytes);
        if (bytes > baseline + GROWTH_BOUND_BYTES && over === undefined) {
          over = bytes;
          if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
        }
      }, () => {});
    }, 50);
    cleanups.push(() => clearInterval(sampler));

    const normal = normalClient(await connect(port));
    // One connection: 1,000 Fetches of 10 MiB in one go, and it never reads.
    const greedy = await connect(port);
    greedy.pause();
    greedy.write(Buffer.concat(Array.from({ length: 1000 }, (_, i) => fetchRequest(i, 10 * MiB))));
    // Ten connections each stop partway through a 100 MiB frame.
    const stalled = await Promise.all(Array.from({ length: 10 }, () => connect(port)));
    const sent = await Promise.all(stalled.map((socket) => stallPartway(socket, 100 * MiB, 99 * MiB)));
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const loaded = await ask('usage').catch(() => undefined);
    const normalFailure = await normal.stop();
    clearInterval(sampler);
    const report = `baseline ${(baseline / MiB).toFixed(0)} MiB, peak ${(peak / MiB).toFixed(0)} MiB, normal client answers ${normal.latenciesMs.length}, slowest ${Math.max(...normal.latenciesMs).toFixed(0)} ms, stalled frames read ${sent.map((bytes) => (bytes / MiB).toFixed(0)).join('/')} MiB`;
    console.log(`memory test: ${report}`);

    expect(over, report).toBeUndefined();
    expect(peak - baseline, report).toBeLessThan(GROWTH_BOUND_BYTES);
    expect(normalFailure, report).toBeUndefined();
    expect(normal.latenciesMs.length).toBeGreaterThan(5);
    expect(loaded?.usage.requestBytesCharged).toBeLessThanOrEqual(256 * MiB);
    expect(loaded?.usage.responseBytes).toBeLessThanOrEqual(16 * MiB + 10 * MiB);

    for (const socket of sockets) socket.destroy();
    let after = await ask('gc');
    for (let i = 0; i < 100 && after.connections > 0; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      after = await ask('gc');
    }
    console.log(`memory test: after the clients left, rss ${(after.rss / MiB).toFixed(0)} MiB`);
    expect(after.connections).toBe(0);
    // Given back: what the clients made the broker hold is released (the allocator may keep some).
    expect(after.rss - baseline).toBeLessThan(RELEASED_BOUND_BYTES);
    expect(after.usage).toEqual({ requestBytesCharged: 0, requestBytesClaimed: 0, responseBytes: 0, waitingConnections: 0 });
  }, 120_000);
});
