/**
 * The data directory lock against real processes: a live holder refuses everyone else, a killed
 * holder leaves nothing that blocks, and no pid written in `.lock` is ever trusted.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirLockedError, Gregor } from '../src/index.js';
import { lockDataDir } from '../src/data-dir-lock.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const holder = fileURLToPath(new URL('./support/hold-data-dir.ts', import.meta.url));

let dir: string;
const children: ChildProcess[] = [];

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-lock-'));
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Starts a process that locks `dir`; resolves with its first line (`locked <pid>` or `refused ...`). */
function startHolder(): Promise<{ child: ChildProcess; line: string }> {
  // node itself with tsx's loader (not the tsx wrapper, which forks): the pid we kill is the holder.
  const child = spawn(process.execPath, ['--import', 'tsx', holder, dir], { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    let printed = '';
    const timer = setTimeout(() => reject(new Error(`holder printed nothing: ${printed}`)), 30_000);
    child.stdout?.on('data', (chunk) => {
      printed += String(chunk);
      if (printed.includes('\n')) {
        clearTimeout(timer);
        resolve({ child, line: printed.split('\n')[0] });
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve({ child, line: printed.split('\n')[0] });
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

async function openError(): Promise<unknown> {
  try {
    const gregor = await Gregor.open({ dir });
    await gregor.close();
  } catch (error) {
    return error;
  }
  return undefined;
}

describe('data directory lock', () => {
  it('refuses a second process with DATA_DIR_LOCKED while the holder lives, naming its pid', async () => {
    const { child, line } = await startHolder();
    expect(line).toBe(`locked ${child.pid}`);
    const error = await openError();
    expect(error).toBeInstanceOf(DataDirLockedError);
    expect((error as DataDirLockedError).code).toBe('DATA_DIR_LOCKED');
    expect((error as DataDirLockedError).pid).toBe(child.pid);
    // The library's message tells who holds the directory; the CLI's hint is not part of it.
    expect((error as Error).message).not.toContain('--bootstrap-server');
    const second = await startHolder();
    expect(second.line).toMatch(/^refused DATA_DIR_LOCKED /);
  });

  it('opens at once after the holder is killed with SIGKILL', async () => {
    const { child } = await startHolder();
    process.kill(child.pid as number, 'SIGKILL');
    await exited(child);
    // The file is still there, naming a dead pid; the OS lock went with the process.
    expect(fs.readFileSync(path.join(dir, '.lock'), 'utf8')).toBe(`${child.pid}\n`);
    const gregor = await Gregor.open({ dir });
    await gregor.close();
  });

  it.each([
    ['a live unrelated process (the test runner\'s parent)', process.ppid],
    ['pid 1, as a broker in a container always is', 1],
    ['this very process', process.pid],
  ])('is not blocked by a stale lock file naming %s', async (_who, pid) => {
    fs.writeFileSync(path.join(dir, '.lock'), `${pid}\n`);
    const gregor = await Gregor.open({ dir });
    expect(fs.readFileSync(path.join(dir, '.lock'), 'utf8')).toBe(`${process.pid}\n`);
    await gregor.close();
  });

  it('refuses a second open of the same directory in one process, and allows it after release', () => {
    const release = lockDataDir(dir);
    expect(() => lockDataDir(dir)).toThrow(DataDirLockedError);
    release();
    lockDataDir(dir)();
  });

  it('refuses with DATA_DIR_LOCK_UNAVAILABLE, touching nothing, where no OS lock can be loaded', () => {
    const target = path.join(dir, 'unlockable');
    expect(() => lockDataDir(target, new Error('no prebuild for this platform'))).toThrow(expect.objectContaining({ code: 'DATA_DIR_LOCK_UNAVAILABLE' }));
    expect(fs.existsSync(target)).toBe(false);
  });

  it('keeps the lock file after a clean close, so a late opener cannot lock an unlinked file', async () => {
    const gregor = await Gregor.open({ dir });
    await gregor.close();
    expect(fs.existsSync(path.join(dir, '.lock'))).toBe(true);
    const { line } = await startHolder();
    expect(line).toMatch(/^locked /);
  });
});
