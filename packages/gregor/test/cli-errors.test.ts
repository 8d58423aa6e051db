/**
 * Every way a `gregor` command can fail ends the same: exit code 1 (as Kafka's tools), one line on
 * stderr naming the problem and what to do, no stack trace unless --verbose (or GREGOR_VERBOSE=1).
 * Failures that once exited 0 (a missing group, a missing topic to consume, a file that is not a
 * segment, no command at all) are here too.
 */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, expectOneLineFailure, gregor, type ServeProcess, startServe, temporaryDir } from './support/cli.js';

// Each test runs whole processes (a CLI command, a server); on a loaded machine they take long.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

let dir: string;
let server: ServeProcess;
let bootstrap: string[];

beforeAll(async () => {
  ensureBuilt();
  dir = temporaryDir('errors');
  server = await startServe(['--dir', path.join(dir, 'served'), '--port', '0', '--override', 'group.initial.rebalance.delay.ms=0']);
  bootstrap = ['--bootstrap-server', server.address];
  expect(gregor(['topics', 'create', '--topic', 'orders', '--partitions', '2', ...bootstrap]).status).toBe(0);
});
afterAll(async () => {
  await server?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('gregor failures: one line, exit 1, no stack trace', () => {
  it('names a topic that does not exist, for describe, delete, alter and consume', () => {
    for (const args of [['topics', 'describe', '--topic', 'nope'], ['topics', 'delete', '--topic', 'nope'], ['topics', 'alter', '--topic', 'nope', '--partitions', '3'], ['consume', '--topic', 'nope', '--timeout-ms', '1000']]) {
      expectOneLineFailure(gregor([...args, ...bootstrap]), "topic 'nope' does not exist");
    }
    expect(gregor(['topics', 'delete', '--topic', 'nope', '--if-exists', ...bootstrap]).status).toBe(0);
  });

  it('refuses to create a topic twice unless --if-not-exists', () => {
    expectOneLineFailure(gregor(['topics', 'create', '--topic', 'orders', ...bootstrap]), "topic 'orders' already exists", '--if-not-exists');
    const accepted = gregor(['topics', 'create', '--topic', 'orders', '--if-not-exists', ...bootstrap]);
    expect(accepted.status).toBe(0);
    expect(accepted.stderr).toBe('');
  });

  it('explains what the broker refuses in a topic: partitions, name, replication factor, config', () => {
    expectOneLineFailure(gregor(['topics', 'create', '--topic', 'zero', '--partitions', '0', ...bootstrap]), '--partitions must be at least 1');
    expectOneLineFailure(gregor(['topics', 'create', '--topic', 'a/b', ...bootstrap]), 'INVALID_TOPIC_EXCEPTION', 'a/b');
    expectOneLineFailure(gregor(['topics', 'create', '--topic', 'replicated', '--replication-factor', '3', ...bootstrap]), 'INVALID_REPLICATION_FACTOR', 'only 1 broker(s) are live');
    expectOneLineFailure(gregor(['topics', 'create', '--topic', 'configured', '--config', 'no.such.config=1', ...bootstrap]), 'INVALID_CONFIG', 'no.such.config');
    expectOneLineFailure(gregor(['topics', 'alter', '--topic', 'orders', '--partitions', '1', ...bootstrap]), 'never removed');
  });

  it('refuses a group that does not exist, and a reset of a group with active members', async () => {
    expectOneLineFailure(gregor(['groups', 'describe', 'no-such-group', ...bootstrap]), "consumer group 'no-such-group' does not exist");
    const { spawn } = await import('node:child_process');
    const { bin, root } = await import('./support/cli.js');
    // A member that stays in the group: a console consumer waiting for records.
    const member = spawn(process.execPath, [bin, 'consume', '--topic', 'orders', '--group', 'busy', ...bootstrap], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let state = '';
      for (let attempt = 0; attempt < 300 && !state.includes('Stable'); attempt++) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        state = gregor(['groups', 'describe', 'busy', '--state', ...bootstrap]).stdout;
      }
      expect(state).toMatch(/busy\s+.*Stable\s+1/);
      expectOneLineFailure(gregor(['groups', 'reset-offsets', 'busy', '--topic', 'orders', '--to-earliest', '--execute', ...bootstrap]), "'busy' has 1 active member(s)", 'stop its consumers first');
    } finally {
      member.kill('SIGKILL');
    }
  });

  it('reports a broker that cannot be reached, or an address without a port', () => {
    const closed = net.createServer();
    // A port nothing listens on: bind one, note it, close it.
    return new Promise<void>((resolve) => {
      closed.listen(0, '127.0.0.1', () => {
        const port = (closed.address() as net.AddressInfo).port;
        closed.close(() => {
          expectOneLineFailure(gregor(['topics', 'list', '--bootstrap-server', `127.0.0.1:${port}`]), `cannot connect to 127.0.0.1:${port}: connection refused`);
          expectOneLineFailure(gregor(['topics', 'list', '--bootstrap-server', 'no-such-host.invalid:9092']), 'does not resolve');
          expectOneLineFailure(gregor(['topics', 'list', '--bootstrap-server', 'localhost']), "--bootstrap-server takes host:port", "got 'localhost'");
          resolve();
        });
      });
    });
  });

  it('reports a port in use and a port out of range for serve', () => {
    expectOneLineFailure(gregor(['serve', '--dir', path.join(dir, 'second'), '--port', String(server.port)]), `cannot listen on 127.0.0.1:${server.port}: the address is already in use`);
    expectOneLineFailure(gregor(['serve', '--dir', path.join(dir, 'second'), '--port', '99999']), '--port must be at most 65535');
  });

  it('reports a data directory that is a file, under a file, held by a running server, or damaged', () => {
    const file = path.join(dir, 'a-file');
    fs.writeFileSync(file, 'not a directory');
    expectOneLineFailure(gregor(['topics', 'list', '--dir', file]), `${file} exists and is not a directory`);
    expectOneLineFailure(gregor(['topics', 'list', '--dir', path.join(file, 'sub')]), 'a part of this path is a file');
    expectOneLineFailure(gregor(['topics', 'list', '--dir', path.join(dir, 'served')]), 'is in use', '--bootstrap-server');
    expectOneLineFailure(gregor(['serve', '--dir', path.join(dir, 'served'), '--port', '0', '--http-port', '0']), `the data directory ${path.join(dir, 'served')} is in use by process ${server.child.pid}`, 'choose another --dir');
    const damaged = path.join(dir, 'damaged');
    expect(gregor(['topics', 'create', '--topic', 't', '--dir', damaged]).status).toBe(0);
    const segment = path.join(damaged, 't-0', '00000000000000000000.log');
    fs.rmSync(segment);
    fs.mkdirSync(segment);
    expectOneLineFailure(gregor(['topics', 'list', '--dir', damaged]), `${segment} is a directory where a file was expected`);
  });

  it('reports a directory or a segment this user may not read', () => {
    const root = process.getuid?.() === 0;
    // Root reads everything: the commands run as nobody (65534) instead.
    const other = root ? { uid: 65534, gid: 65534 } : {};
    fs.chmodSync(dir, 0o755);
    const readOnly = path.join(dir, 'read-only');
    fs.mkdirSync(readOnly);
    const unreadable = path.join(dir, 'unreadable');
    expect(gregor(['topics', 'create', '--topic', 't', '--dir', unreadable]).status).toBe(0);
    if (root) for (const entry of [unreadable, ...fs.readdirSync(unreadable, { recursive: true }).map((name) => path.join(unreadable, String(name)))]) fs.chownSync(entry, 65534, 65534);
    fs.chmodSync(readOnly, 0o555);
    const segment = path.join(unreadable, 't-0', '00000000000000000000.log');
    fs.chmodSync(segment, 0o000);
    expectOneLineFailure(gregor(['topics', 'list', '--dir', path.join(readOnly, 'data')], other), `permission denied: ${path.join(readOnly, 'data')}`);
    expectOneLineFailure(gregor(['topics', 'list', '--dir', unreadable], other), `permission denied: ${segment}`);
  });

  it('reports usage mistakes: unknown options with a suggestion, bad values, missing values', () => {
    expectOneLineFailure(gregor(['topics', 'list', '--bogus']), "unknown option '--bogus'", "see 'gregor topics --help'");
    expectOneLineFailure(gregor(['topics', 'describe', '--topci', 'x']), 'did you mean --topic?');
    expectOneLineFailure(gregor(['produce', '--topic', 'orders', '--acks', '2', ...bootstrap]), "--acks must be all, -1, 0 or 1, got '2'");
    expectOneLineFailure(gregor(['produce', '--topic', 'orders', '--compression', 'brotli', ...bootstrap]), '--compression must be one of none, gzip, snappy, lz4, zstd');
    expectOneLineFailure(gregor(['consume', '--topic']), '--topic needs a value');
    expectOneLineFailure(gregor(['nonsense']), "unknown command 'nonsense'");
    const bare = gregor([]);
    expect(bare.status).toBe(1);
    expect(bare.stderr).toContain('usage: gregor <command>');
  });

  it('accepts --acks -1 and --acks all as Kafka writes them', () => {
    for (const acks of ['-1', 'all', '1', '0']) {
      const produced = gregor(['produce', '--topic', 'orders', '--acks', acks, ...bootstrap], { input: `acks ${acks}\n` });
      expect(produced.status, produced.stderr).toBe(0);
    }
  });

  it('refuses dump-log of a file that is not a segment, and of a segment holding garbage', () => {
    expectOneLineFailure(gregor(['dump-log', path.join(dir, 'a-file')]), 'is not a segment file');
    expectOneLineFailure(gregor(['dump-log', path.join(dir, 'missing.log')]), 'does not exist');
    const garbage = path.join(dir, '00000000000000000000.log');
    fs.writeFileSync(garbage, Buffer.alloc(300, 0xab));
    const dumped = gregor(['dump-log', garbage]);
    expectOneLineFailure({ ...dumped, stderr: dumped.stderr }, 'Corrupt batch at position 0');
    expect(dumped.stdout).toContain('Log starting offset: 0');
  });

  it('prints the stack trace with --verbose or GREGOR_VERBOSE=1, for bug reports', () => {
    for (const result of [gregor(['topics', 'list', '--dir', path.join(dir, 'a-file'), '--verbose']), gregor(['topics', 'list', '--dir', path.join(dir, 'a-file')], { env: { GREGOR_VERBOSE: '1' } })]) {
      expect(result.status).toBe(1);
      expect(result.stderr.split('\n')[0]).toMatch(/^gregor: .* exists and is not a directory/);
      expect(result.stderr).toMatch(/^\s+at /m);
    }
  });

  it('shows an example in every command\'s --help', () => {
    for (const command of ['serve', 'topics', 'produce', 'consume', 'groups', 'metadata', 'dump-log', 'perf']) {
      const help = gregor([command, '--help']);
      expect(help.status, command).toBe(0);
      expect(help.stdout, command).toMatch(/\nExamples?:\n {2}.*\bgregor \S+/);
    }
    expect(gregor(['--help']).stdout).toMatch(/\nExample:\n {2}gregor /);
  });
});
