/**
 * `gregor consume --dir` on a data directory with a damaged batch: it prints the records before
 * the damage, then stops with an error naming topic, partition and offset and exit code 1, instead
 * of spinning with no output; and on a healthy topic with no --timeout-ms, Ctrl-C (SIGINT) stops
 * it cleanly. The damage is a batch whose CRC matches but whose records do not decode (as a
 * broker without record validation stored them): the log serves it, and the consumer must refuse
 * it. (A CRC mismatch found when the log opens is moved aside by the log itself, see
 * docs/damaged-data.md.) The CLI runs as a real process (from sources, through tsx), stopped by
 * its pid.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { batchesIn, BATCH_HEADER_BYTES, writeBatchCrc } from '@gregor/records';
import { Gregor } from 'gregor';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cliArgs = ['--tsconfig', path.join(root, 'tsconfig.check.json'), path.join(root, 'packages/gregor/src/cli.ts')];
const RECORDS = 6;

let dir: string;
let child: ChildProcess | null = null;

beforeEach(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-consume-'));
  const gregor = await Gregor.open({ dir });
  try {
    await gregor.admin().createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
    const producer = gregor.producer({ lingerMs: 0 });
    await producer.connect();
    // One send at a time: one batch per record.
    for (let index = 0; index < RECORDS; index++) await producer.send({ topic: 'orders', messages: [{ value: `record-${index}` }] });
    await producer.disconnect();
  } finally {
    await gregor.close();
  }
});

afterEach(() => {
  if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  child = null;
  fs.rmSync(dir, { recursive: true, force: true });
});

function consume(args: string[]): { exited: Promise<{ code: number | null; stdout: string; stderr: string }>; output: () => string } {
  child = spawn(tsx, [...cliArgs, 'consume', '--dir', dir, '--topic', 'orders', '--group', 'readers', '--from-beginning', '--print-offset', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (chunk) => void (stdout += String(chunk)));
  child.stderr?.on('data', (chunk) => void (stderr += String(chunk)));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => child!.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { exited, output: () => stdout };
}

describe('gregor consume', () => {
  it('stops with an error naming topic, partition and offset at a damaged batch, after the records before it', async () => {
    const segment = path.join(dir, 'orders-0', '00000000000000000000.log');
    const bytes = fs.readFileSync(segment);
    const positions = [...batchesIn(bytes)].map((batch) => batch.position);
    expect(positions.length).toBe(RECORDS);
    // Offset 3's batch: its record's length field says 2 bytes, under a CRC computed again.
    bytes[positions[3] + BATCH_HEADER_BYTES] = 4;
    writeBatchCrc(bytes, positions[3], positions[4] - positions[3]);
    fs.writeFileSync(segment, bytes);
    const { code, stdout, stderr } = await consume([]).exited;
    expect(code).toBe(1);
    expect(stderr).toMatch(/^gregor: (CORRUPT_MESSAGE: )?Corrupt record batch in orders-0 at offset 3 /m);
    expect(stdout.trim().split('\n')).toEqual(['Partition:0\tOffset:0\trecord-0', 'Partition:0\tOffset:1\trecord-1', 'Partition:0\tOffset:2\trecord-2']);
  });

  it('stops cleanly on SIGINT when it has no timeout', async () => {
    const run = consume([]);
    const deadline = Date.now() + 60_000;
    while (!run.output().includes(`Offset:${RECORDS - 1}\t`) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    process.kill(child!.pid as number, 'SIGINT');
    const { code, stderr } = await run.exited;
    expect(code).toBe(0);
    expect(stderr).toContain(`Processed a total of ${RECORDS} messages`);
  });
});
