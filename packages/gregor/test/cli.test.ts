/**
 * The `gregor` command line as a user runs it: each test spawns the CLI with a temporary data
 * directory and checks what it prints. `serve` runs as a real process that kcat talks to, and is
 * stopped with SIGTERM by its pid.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Gregor } from '../src/index.js';
import { ensureBuilt, expectOneLineFailure, gregor, root, type ServeProcess, startServe, temporaryDir } from './support/cli.js';

// Each test runs whole processes (a CLI command, a server); on a loaded machine they take long.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

/** The LAG column of `groups describe` for topic `orders`. */
function lagsOf(described: string): number[] {
  return [...described.matchAll(/^readers\s+orders\s+\d\s+\d+\s+\d+\s+(\d+)/gm)].map((match) => Number(match[1]));
}

describe('gregor CLI in-process (--dir)', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = temporaryDir('cli');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates, lists and describes topics, produces stdin lines with keys and consumes them back', () => {
    expect(gregor(['topics', 'create', '--dir', dir, '--topic', 'orders', '--partitions', '3', '--config', 'retention.ms=86400000']).stdout).toContain('Created topic orders.');
    expect(gregor(['topics', 'list', '--dir', dir]).stdout.split('\n')).toContain('orders');
    const produced = gregor(['produce', '--dir', dir, '--topic', 'orders', '--key-separator', ':'], { input: 'user-1:first\nuser-1:second\nuser-2:third\n' });
    expect(produced.status).toBe(0);
    expect(produced.stderr).toContain('3 records sent to orders');
    const consumed = gregor(['consume', '--dir', dir, '--topic', 'orders', '--group', 'readers', '--from-beginning', '--max-messages', '3', '--print-key', '--timeout-ms', '20000']);
    expect(consumed.status).toBe(0);
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(['user-1\tfirst', 'user-1\tsecond', 'user-2\tthird']);
    const described = gregor(['topics', 'describe', '--dir', dir, '--topic', 'orders']).stdout;
    expect(described).toMatch(/Topic: orders\tTopicId: [0-9a-f-]{36}\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: retention.ms=86400000/);
    const highWatermarks = described.split('\n').slice(2).filter(Boolean).map((line) => Number(line.trim().split(/\s+/)[5]));
    expect(highWatermarks.reduce((sum, n) => sum + n, 0)).toBe(3);
  });

  it('describes a group with its committed offsets and lag, and dumps a segment with its records', () => {
    const groups = gregor(['groups', 'describe', 'readers', '--dir', dir]);
    expect(groups.status).toBe(0);
    expect(groups.stderr).toContain("Consumer group 'readers' has no active members.");
    expect(groups.stdout).toMatch(/^GROUP\s+TOPIC\s+PARTITION\s+CURRENT-OFFSET\s+LOG-END-OFFSET\s+LAG/m);
    const lags = lagsOf(groups.stdout);
    expect(lags.length).toBeGreaterThan(0);
    expect(lags.every((lag) => lag === 0)).toBe(true);
    const partition = fs.readdirSync(dir).find((name) => name.startsWith('orders-') && fs.readdirSync(path.join(dir, name)).some((file) => file.endsWith('.log') && fs.statSync(path.join(dir, name, file)).size > 0));
    expect(partition).toBeDefined();
    const dumped = gregor(['dump-log', path.join(dir, partition as string, '00000000000000000000.log'), '--records']);
    expect(dumped.status).toBe(0);
    expect(dumped.stdout).toMatch(/baseOffset: 0 lastOffset: \d+ count: \d+ .*crc: \d+ isvalid: true/);
    expect(dumped.stdout).toMatch(/\| offset: 0 CreateTime: \d+ keySize: 6 .* key: "user-\d"/);
  });

  it('previews a reset by default and applies it with --execute, as kafka-consumer-groups --reset-offsets', () => {
    const preview = gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders', '--to-earliest']);
    expect(preview.status).toBe(0);
    expect(preview.stdout).toMatch(/^readers\s+orders\s+0\s+0$/m);
    expect(preview.stderr).toContain('dry run');
    expect(lagsOf(gregor(['groups', 'describe', 'readers', '--dir', dir]).stdout).reduce((sum, lag) => sum + lag, 0)).toBe(0);
    expect(gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders', '--to-earliest', '--execute']).status).toBe(0);
    expect(lagsOf(gregor(['groups', 'describe', 'readers', '--dir', dir]).stdout).reduce((sum, lag) => sum + lag, 0)).toBe(3);
    expect(gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders', '--to-datetime', '2999-01-01T00:00:00Z', '--execute']).status).toBe(0);
    const lags = lagsOf(gregor(['groups', 'describe', 'readers', '--dir', dir]).stdout);
    expect(lags.length).toBeGreaterThan(0);
    expect(lags.every((lag) => lag === 0)).toBe(true);
    expectOneLineFailure(gregor(['groups', 'reset-offsets', 'readers', '--dir', dir, '--topic', 'orders']), 'exactly one of --to-earliest');
  });

  it('refuses a data directory held by another process and explains the way around it', async () => {
    // This test process holds the directory, as a running `gregor serve` would.
    const holder = await Gregor.open({ dir });
    try {
      expectOneLineFailure(gregor(['topics', 'list', '--dir', dir]), `in use by process ${process.pid}`, '--bootstrap-server');
    } finally {
      await holder.close();
    }
  });
});

describe('gregor serve', () => {
  let dir: string;
  let server: ServeProcess | undefined;
  beforeAll(() => {
    ensureBuilt();
    dir = temporaryDir('serve');
  });
  afterAll(() => {
    server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('serves Kafka clients on the port it prints, keeps --dir commands out of its directory, and closes cleanly on SIGTERM', async () => {
    server = await startServe(['--dir', dir, '--port', '0']);
    const { port } = server;
    expect(server.printed()).toContain(`kcat -L -b 127.0.0.1:${port}`);
    const produced = spawnSync('kcat', ['-P', '-b', `127.0.0.1:${port}`, '-t', 'served'], { input: 'one\ntwo\n', encoding: 'utf8', timeout: 20_000 });
    expect(produced.status).toBe(0);
    const consumed = spawnSync('kcat', ['-C', '-b', `127.0.0.1:${port}`, '-t', 'served', '-o', 'beginning', '-e', '-q'], { encoding: 'utf8', timeout: 20_000 });
    expect(consumed.stdout).toBe('one\ntwo\n');
    // The directory belongs to the server: the CLI says to reach it over the network instead.
    expectOneLineFailure(gregor(['topics', 'list', '--dir', dir]), 'is in use', '--bootstrap-server');
    expect(gregor(['topics', 'list', '--bootstrap-server', server.address]).stdout).toContain('served');
    expect(await server.stop()).toBe(0);
    expect(server.printed()).toContain('closed cleanly');
    expect(fs.existsSync(path.join(dir, '.kafka_cleanshutdown'))).toBe(true);
  });
});

describe('the pnpm scripts', () => {
  let dir: string;
  beforeAll(() => {
    ensureBuilt();
    dir = temporaryDir('scripts');
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('pnpm gregor prints only what the command prints, so its output can be piped', () => {
    const result = spawnSync('pnpm', ['gregor', 'topics', 'list', '--dir', dir], { cwd: root, encoding: 'utf8', timeout: 60_000 });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe('');
  });

  it('pnpm start ends on Ctrl-C with exit code 0 and no ELIFECYCLE', async () => {
    // A terminal's Ctrl-C signals the whole process group: pnpm and the server alike.
    const child = spawn('pnpm', ['start', '--dir', dir, '--port', '0', '--http-port', '0'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    child.stdout.on('data', (chunk) => {
      printed += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      printed += String(chunk);
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      for (let waited = 0; !printed.includes('Press Ctrl-C to stop.') && waited < 90_000; waited += 50) await new Promise((resolve) => setTimeout(resolve, 50));
      expect(printed).toContain('Press Ctrl-C to stop.');
      process.kill(-(child.pid as number), 'SIGINT');
      expect(await exited).toBe(0);
      expect(printed).toContain('closed cleanly');
      expect(printed).not.toContain('ELIFECYCLE');
    } finally {
      if (child.exitCode === null && child.signalCode === null) process.kill(-(child.pid as number), 'SIGKILL');
    }
  });
});
