/**
 * `gregor serve` as a real process under load: paused (SIGSTOP, SIGCONT) and then killed with
 * SIGKILL while sends are in flight, then started again on the same directory. Every acknowledged
 * record must be in the log, at contiguous offsets; the only damage the restart may find is a batch
 * the kill cut short while writing it, which was never acknowledged.
 * The server runs from the built CLI (`packages/gregor/bin/gregor.js`, which `pnpm test` builds
 * first) under `node` itself, so the pid killed is the broker's. Every process is ended by its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { createClient, TcpTransport } from '@gregor/client';
import { LogManager, nodeFileSystem, type PartitionLog } from '@gregor/log';
import { forEachBatch, readBatchHeader } from '@gregor/records';
import { GREGOR_NODE_FLAGS } from '../src/node-flags.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const cli = path.join(root, 'packages/gregor/bin/gregor.js');
const VALUE = Buffer.alloc(1000, 0x62);
const MESSAGES_PER_SEND = 200;

interface Served {
  child: ChildProcess;
  port: number;
  stderr: () => string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];

function serve(dir: string): Promise<Served> {
  const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, cli, 'serve', '--dir', dir, '--port', '0', '--http-port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let printed = '';
  let stderr = '';
  child.stderr?.on('data', (chunk) => {
    stderr += String(chunk);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no banner: ${printed} ${stderr}`)), 30_000);
    child.stdout?.on('data', (chunk) => {
      printed += String(chunk);
      const match = /serving Kafka's protocol on 127\.0\.0\.1:(\d+)/.exec(printed);
      if (match && printed.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve({ child, port: Number(match[1]), stderr: () => stderr, exited });
      }
    });
  });
}

describe('gregor serve under load', () => {
  let dir: string | undefined;
  afterEach(() => {
    for (const child of children.splice(0)) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    if (dir !== undefined) fs.rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('keeps every acknowledged record through a pause and a kill -9 with sends in flight, and restarts finding at most an unacknowledged torn tail', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-kill-'));
    const first = await serve(dir);
    const transport = new TcpTransport({ brokers: [`127.0.0.1:${first.port}`] });
    const client = createClient({ transport });
    const admin = client.admin();
    await admin.connect();
    // Small segments, so the log rolls (and checkpoints its recovery point) under load.
    await admin.createTopics({ topics: [{ topic: 'load', numPartitions: 1, configEntries: [{ name: 'segment.bytes', value: String(1024 * 1024) }] }] });
    const producer = client.producer({ acks: 1, lingerMs: 1, retry: { retries: 0 } });
    await producer.connect();
    const messages = Array.from({ length: MESSAGES_PER_SEND }, (_, i) => ({ key: String(i), value: VALUE }));
    const pid = first.child.pid as number;
    let acked = 0;
    let lastAckedOffset = -1;
    let paused = false;
    let killed = false;
    const pending = new Set<Promise<void>>();
    while (!killed) {
      while (pending.size < 4 && !killed) {
        const send: Promise<void> = producer.send({ topic: 'load', messages }).then((metadata) => {
          acked += MESSAGES_PER_SEND;
          lastAckedOffset = Math.max(lastAckedOffset, Number(metadata[0].baseOffset) + MESSAGES_PER_SEND - 1);
          if (!paused && acked >= 3000) {
            paused = true;
            process.kill(pid, 'SIGSTOP');
            setTimeout(() => process.kill(pid, 'SIGCONT'), 300);
          }
          if (!killed && acked >= 8000) {
            killed = true;
            process.kill(pid, 'SIGKILL');
          }
        }, () => {}).finally(() => pending.delete(send));
        pending.add(send);
      }
      await Promise.race(pending);
    }
    await first.exited;
    await Promise.allSettled([...pending]);
    await Promise.allSettled([producer.disconnect(), admin.disconnect()]);
    await transport.close().catch(() => {});
    expect(lastAckedOffset).toBeGreaterThanOrEqual(7999);

    const second = await serve(dir);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    // A write the kill interrupted leaves a torn batch at the end: moved aside, and past every acknowledged offset.
    for (const line of second.stderr().split('\n').filter((text) => /\bWARN\b/.test(text))) {
      expect(line).toContain('"code":"DAMAGE_MOVED_ASIDE"');
      expect(Number(/"firstOffset":(\d+)/.exec(line)?.[1])).toBeGreaterThan(lastAckedOffset);
    }

    const warnings: string[] = [];
    const logs = LogManager.open({ fs: nodeFileSystem, dir, schedule: false, logger: { warn: (message) => warnings.push(message) } });
    try {
      const log = logs.get('load', 0) as PartitionLog;
      expect(log.segmentBaseOffsets().length).toBeGreaterThan(3);
      let expected = 0;
      for (let offset = 0; offset < log.logEndOffset; ) {
        const { records, nextOffset } = log.read(offset, { maxBytes: 4 * 1024 * 1024 });
        forEachBatch(records, (position) => {
          const header = readBatchHeader(records, position);
          expect(header.baseOffset).toBe(expected);
          expected = header.lastOffset + 1;
        });
        offset = nextOffset;
      }
      expect(expected).toBeGreaterThan(lastAckedOffset);
      expect(warnings).toEqual([]);
    } finally {
      logs.close();
    }
  }, 120_000);
});
