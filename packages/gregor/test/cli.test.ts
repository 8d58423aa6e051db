/**
 * The `gregor` command line as a user runs it: each test spawns the CLI (from sources, through
 * tsx) with a temporary data directory and checks what it prints. `serve` runs as a real process
 * that kcat talks to, and is stopped with SIGTERM by its pid.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gregor } from '../src/index.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cliArgs = ['--tsconfig', path.join(root, 'tsconfig.check.json'), path.join(root, 'packages/gregor/src/cli.ts')];

function gregor(args: string[], input?: string): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(tsx, [...cliArgs, ...args], { encoding: 'utf8', input, timeout: 60_000, cwd: root });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** The LAG column of `groups describe` for topic `orders`. */
function lagsOf(described: string): number[] {
  return [...described.matchAll(/^orders\s+\d\s+\d+\s+\d+\s+(\d+)/gm)].map((match) => Number(match[1]));
}

describe('gregor CLI', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-cli-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates, lists and describes topics, produces stdin lines with keys and consumes them back', () => {
    expect(gregor(['topics', 'create', '--dir', dir, '--topic', 'orders', '--partitions', '3']).stdout).toContain('Created topic orders.');
    expect(gregor(['topics', 'list', '--dir', dir]).stdout.split('\n')).toContain('orders');
    const produced = gregor(['produce', '--dir', dir, '--topic', 'orders', '--key-separator', ':'], 'user-1:first\nuser-1:second\nuser-2:third\n');
    expect(produced.status).toBe(0);
    expect(produced.stderr).toContain('3 records sent to orders');
    const consumed = gregor(['consume', '--dir', dir, '--topic', 'orders', '--group', 'readers', '--from-beginning', '--max-messages', '3', '--print-key', '--timeout-ms', '20000']);
    expect(consumed.status).toBe(0);
    const lines = consumed.stdout.trim().split('\n').sort();
    expect(lines).toEqual(['user-1\tfirst', 'user-1\tsecond', 'user-2\tthird']);
    const described = gregor(['topics', 'describe', '--dir', dir, '--topic', 'orders']).stdout;
    expect(described).toMatch(/Topic: orders\tTopicId: [0-9a-f-]{36}\tPartitionCount: 3\tReplicationFactor: 1/);
    const highWatermarks = described.split('\n').slice(2).filter(Boolean).map((line) => Number(line.trim().split(/\s+/)[5]));
    expect(highWatermarks.reduce((sum, n) => sum + n, 0)).toBe(3);
  });

  it('describes a group with its committed offsets and lag, and dumps a segment with its records', () => {
    const groups = gregor(['groups', 'describe', 'readers', '--dir', dir]);
    expect(groups.status).toBe(0);
    expect(groups.stdout).toContain('Group readers: state Empty');
    expect(groups.stdout).toMatch(/orders\s+\d\s+\d+\s+\d+\s+0\s/);
    const partition = fs.readdirSync(dir).find((name) => name.startsWith('orders-') && fs.readdirSync(path.join(dir, name)).some((file) => file.endsWith('.log') && fs.statSync(path.join(dir, name, file)).size > 0));
    expect(partition).toBeDefined();
    const dumped = gregor(['dump-log', path.join(dir, partition as string, '00000000000000000000.log'), '--records']);
    expect(dumped.status).toBe(0);
    expect(dumped.stdout).toMatch(/baseOffset: 0 lastOffset: \d+ count: \d+ .*crc: \d+ isvalid: true/);
    expect(dumped.stdout).toMatch(/\| offset: 0 CreateTime: \d+ keySize: 6 .* key: "user-\d"/);
  });

  it('resets a group to the earliest offsets and to a time, as kafka-consumer-groups --reset-offsets', () => {
    const earliest = gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders', '--to-earliest']);
    expect(earliest.status).toBe(0);
    expect(earliest.stdout).toMatch(/orders\s+\d\s+0\n/);
    expect(lagsOf(gregor(['groups', 'describe', 'readers', '--dir', dir]).stdout).reduce((sum, lag) => sum + lag, 0)).toBe(3);
    const future = gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders', '--to-datetime', '2999-01-01T00:00:00Z']);
    expect(future.status).toBe(0);
    const lags = lagsOf(gregor(['groups', 'describe', 'readers', '--dir', dir]).stdout);
    expect(lags.length).toBe(3);
    expect(lags.every((lag) => lag === 0)).toBe(true);
    expect(gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders']).status).toBe(2);
  });

  it('refuses a data directory held by another process and explains the way around it', async () => {
    // This test process holds the directory, as a running `gregor serve` would.
    const holder = await Gregor.open({ dir });
    try {
      const result = gregor(['topics', 'list', '--dir', dir]);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`in use by process ${process.pid}`);
      expect(result.stderr).toContain('--bootstrap-server');
    } finally {
      await holder.close();
    }
  });

  it('reports a usage mistake with exit code 2', () => {
    const result = gregor(['topics', 'create', '--dir', dir]);
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('--topic is required');
  });
});

describe('gregor serve', () => {
  let dir: string;
  let server: ChildProcess | undefined;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-serve-'));
  });
  afterAll(() => {
    if (server?.pid !== undefined && server.exitCode === null) process.kill(server.pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves Kafka clients on the port it prints, and closes cleanly on SIGTERM', async () => {
    server = spawn(tsx, [...cliArgs, 'serve', '--dir', dir, '--port', '0'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    server.stdout?.on('data', (chunk) => {
      printed += String(chunk);
    });
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve printed no address: ${printed}`)), 30_000);
      server?.stdout?.on('data', () => {
        // The banner may arrive in several chunks: wait for its last line.
        const match = /serving Kafka's protocol on 127\.0\.0\.1:(\d+)/.exec(printed);
        if (match && printed.includes('Press Ctrl-C to stop.')) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      });
    });
    expect(printed).toContain(`kcat -L -b 127.0.0.1:${port}`);
    const produced = spawnSync('kcat', ['-P', '-b', `127.0.0.1:${port}`, '-t', 'served'], { input: 'one\ntwo\n', encoding: 'utf8', timeout: 20_000 });
    expect(produced.status).toBe(0);
    const consumed = spawnSync('kcat', ['-C', '-b', `127.0.0.1:${port}`, '-t', 'served', '-o', 'beginning', '-e', '-q'], { encoding: 'utf8', timeout: 20_000 });
    expect(consumed.stdout).toBe('one\ntwo\n');
    const exited = new Promise<number | null>((resolve) => server?.once('exit', (code) => resolve(code)));
    process.kill(server.pid as number, 'SIGTERM');
    expect(await exited).toBe(0);
    expect(printed).toContain('closed cleanly');
    expect(fs.existsSync(path.join(dir, '.kafka_cleanshutdown'))).toBe(true);
    // The lock went with the process (its file stays, as Kafka's does): the directory opens again.
    const reopened = await Gregor.open({ dir });
    await reopened.close();
  });
});
