/**
 * Running the `gregor` CLI as a user does: `node packages/gregor/bin/gregor.js` (the built CLI;
 * `pnpm test` builds first, and the bin rebuilds stale sources itself), with a temporary data
 * directory, and `gregor serve` as a real process on a free port, stopped by its pid.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { GREGOR_NODE_FLAGS } from '../../src/node-flags.js';

export const root = fileURLToPath(new URL('../../../../', import.meta.url));
export const bin = path.join(root, 'packages/gregor/bin/gregor.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export function gregor(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; uid?: number; gid?: number; timeoutMs?: number } = {}): CliResult {
  const result = spawnSync(process.execPath, [bin, ...args], {
    encoding: 'utf8',
    input: options.input ?? '',
    timeout: options.timeoutMs ?? 120_000,
    cwd: root,
    env: { ...process.env, GREGOR_VERBOSE: '', ...options.env },
    uid: options.uid,
    gid: options.gid,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/**
 * The CLI in a child process without blocking this process, for tests whose broker runs in this
 * process (a synchronous spawn would stop it from answering); killed after 60 s.
 */
export function gregorAsync(args: string[]): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

/** Builds the CLI if its sources changed, so no test sees the bin's "building" line. */
export function ensureBuilt(): void {
  gregor(['--help']);
}

/** A failure as the CLI must end: exit 1, one line on stderr starting `gregor: `, no stack trace. */
export function expectOneLineFailure(result: CliResult, ...includes: (string | RegExp)[]): void {
  const context = `stdout: ${result.stdout}\nstderr: ${result.stderr}`;
  expect(result.status, context).toBe(1);
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(/^gregor: /);
  expect(result.stderr, context).not.toMatch(/^\s+at /m);
  for (const part of includes) expect(lines[0], context).toMatch(typeof part === 'string' ? new RegExp(escapeRegExp(part)) : part);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A fresh directory, in memory (/dev/shm) where the system has one: these tests check what the
 * CLI does, not the disk, and every in-process command ends by closing a broker that fsyncs each
 * partition's files (about 270 fsyncs once __consumer_offsets exists), which on a busy shared disk
 * costs seconds per command.
 */
export function temporaryDir(prefix: string): string {
  return fs.mkdtempSync(path.join(memoryTmpDir() ?? os.tmpdir(), `gregor-${prefix}-`));
}

let memoryDir: string | null | undefined;

function memoryTmpDir(): string | null {
  if (memoryDir === undefined) {
    try {
      fs.accessSync('/dev/shm', fs.constants.W_OK);
      memoryDir = '/dev/shm';
    } catch {
      memoryDir = null;
    }
  }
  return memoryDir;
}

export interface ServeProcess {
  child: ChildProcess;
  port: number;
  address: string;
  printed: () => string;
  /** SIGTERM, then waits for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL if still running (for afterAll). */
  kill(): void;
}

/** Starts `gregor serve` with `args` and resolves once its banner is complete. */
export async function startServe(args: string[]): Promise<ServeProcess> {
  // The web console stays off: its default port is fixed, and tests take ports from the OS.
  const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, bin, 'serve', '--http-port', '0', ...args], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_VERBOSE: '' } });
  let printed = '';
  child.stdout?.on('data', (chunk) => {
    printed += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    printed += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve printed no address: ${printed}`)), 90_000);
    const check = () => {
      // The banner may arrive in several chunks: wait for its last line.
      const match = /serving Kafka's protocol on [^:\s]+:(\d+)/.exec(printed);
      if (match && printed.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}: ${printed}`));
    });
  });
  return {
    child,
    port,
    address: `127.0.0.1:${port}`,
    printed: () => printed,
    stop: async () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
      return exited;
    },
    kill: () => {
      if (child.exitCode === null && child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    },
  };
}
