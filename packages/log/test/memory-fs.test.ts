import fs from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, FileSystemError, MemoryFileSystem } from '../src/index.js';
import { type Backend, backends } from './helpers.js';

describe.each(backends)('FileSystem contract on %s', (_name, makeBackend) => {
  let backend: Backend;
  beforeEach(() => {
    backend = makeBackend();
    backend.fs.mkdir(path.join(backend.dir, 'a/b'));
  });
  afterEach(() => backend.cleanup());

  it('reads back positional writes, zero-fills gaps, truncates and lists entries', () => {
    const file = backend.fs.openFile(path.join(backend.dir, 'a/f'), { create: true });
    file.write(Buffer.from('hello'), 0, 5, 0);
    file.write(Buffer.from('xy'), 0, 2, 8);
    expect(file.size()).toBe(10);
    const out = Buffer.alloc(12);
    expect(file.read(out, 0, 12, 0)).toBe(10);
    expect(out.subarray(0, 10)).toEqual(Buffer.from([104, 101, 108, 108, 111, 0, 0, 0, 120, 121]));
    file.truncate(3);
    expect(file.size()).toBe(3);
    file.truncate(6);
    expect(backend.fs.readFile(path.join(backend.dir, 'a/f'))).toEqual(Buffer.from([104, 101, 108, 0, 0, 0]));
    file.sync();
    file.close();
    expect(backend.fs.readdir(path.join(backend.dir, 'a')).sort()).toEqual(['b', 'f']);
  });

  it('renames atomically over an existing file and unlinks', () => {
    backend.fs.writeFileAtomic(path.join(backend.dir, 'x'), Buffer.from('1'));
    backend.fs.writeFileAtomic(path.join(backend.dir, 'y'), Buffer.from('2'));
    backend.fs.rename(path.join(backend.dir, 'y'), path.join(backend.dir, 'x'));
    expect(backend.fs.readFile(path.join(backend.dir, 'x')).toString()).toBe('2');
    expect(backend.fs.exists(path.join(backend.dir, 'y'))).toBe(false);
    backend.fs.unlink(path.join(backend.dir, 'x'));
    expect(backend.fs.exists(path.join(backend.dir, 'x'))).toBe(false);
    expect(() => backend.fs.openFile(path.join(backend.dir, 'x'))).toThrow();
  });

  it('keeps the old content and leaves no .tmp when an atomic write meets a full disk', () => {
    const file = path.join(backend.dir, 'checkpoint');
    backend.fs.writeFileAtomic(file, Buffer.from('old'));
    // A real ENOSPC on the real disk: the temporary file is a link to /dev/full, which refuses writes.
    if (backend.memory === undefined) fs.symlinkSync('/dev/full', `${file}.tmp`);
    else backend.memory.setDiskFull(true);
    expect(() => backend.fs.writeFileAtomic(file, Buffer.from('new'))).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(backend.fs.readFile(file).toString()).toBe('old');
    expect(backend.fs.readdir(backend.dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    backend.memory?.setDiskFull(false);
    backend.fs.writeFileAtomic(file, Buffer.from('new'));
    expect(backend.fs.readFile(file).toString()).toBe('new');
  });

  it('removes a directory tree', () => {
    backend.fs.writeFileAtomic(path.join(backend.dir, 'a/b/c'), Buffer.from('1'));
    backend.fs.rmdir(path.join(backend.dir, 'a'));
    expect(backend.fs.exists(path.join(backend.dir, 'a/b/c'))).toBe(false);
    expect(backend.fs.exists(path.join(backend.dir, 'a'))).toBe(false);
  });
});

describe('MemoryFileSystem faults', () => {
  it('crash drops unsynced writes and truncations but keeps synced ones and directory operations', () => {
    const fs = new MemoryFileSystem();
    fs.mkdir('/d');
    const file = fs.openFile('/d/f', { create: true });
    file.write(Buffer.from('abc'), 0, 3, 0);
    file.sync();
    file.write(Buffer.from('def'), 0, 3, 3);
    file.truncate(1);
    fs.crash();
    expect(() => file.write(Buffer.from('z'), 0, 1, 0)).toThrow(FileSystemError);
    expect(fs.readFile('/d/f').toString()).toBe('abc');
    expect(fs.exists('/d')).toBe(true);
  });

  it('crash with keepRandomPrefix keeps a prefix of the unsynced writes, deterministically per seed', () => {
    const outcome = (seed: number) => {
      const fs = new MemoryFileSystem({ seed });
      fs.mkdir('/d');
      const file = fs.openFile('/d/f', { create: true });
      for (let i = 0; i < 10; i++) file.write(Buffer.from([65 + i]), 0, 1, i);
      fs.crash({ keepRandomPrefix: true });
      return fs.readFile('/d/f').toString();
    };
    const results = new Set([1, 2, 3, 4, 5, 6, 7, 8].map(outcome));
    for (const result of results) expect('ABCDEFGHIJ'.startsWith(result)).toBe(true);
    expect(results.size).toBeGreaterThan(1);
    expect(outcome(3)).toBe(outcome(3));
  });

  it('crash with tearWrites also keeps part of the first lost write of each file: a torn tail, never more than was written', () => {
    const outcome = (seed: number) => {
      const fs = new MemoryFileSystem({ seed });
      fs.mkdir('/d');
      const file = fs.openFile('/d/f', { create: true });
      file.write(Buffer.from('synced|'), 0, 7, 0);
      file.sync();
      file.write(Buffer.from('AAAA'), 0, 4, 7);
      file.write(Buffer.from('BBBB'), 0, 4, 11);
      fs.crash({ keepRandomPrefix: true, tearWrites: true });
      return fs.readFile('/d/f').toString();
    };
    const results = new Set(Array.from({ length: 40 }, (_, seed) => outcome(seed)));
    for (const result of results) expect('synced|AAAABBBB'.startsWith(result) && result.startsWith('synced|')).toBe(true);
    // Some crash ends inside a write (a length that is not a whole number of writes).
    expect([...results].some((result) => ![7, 11, 15].includes(result.length))).toBe(true);
  });

  it('tearNextWrite stores only a prefix of the next write', () => {
    const fs = new MemoryFileSystem();
    fs.mkdir('/d');
    const file = fs.openFile('/d/f', { create: true });
    fs.tearNextWrite(2);
    expect(file.write(Buffer.from('hello'), 0, 5, 0)).toBe(5);
    file.write(Buffer.from('!'), 0, 1, 10);
    expect(fs.readFile('/d/f').subarray(0, 2).toString()).toBe('he');
    expect(fs.readFile('/d/f').subarray(2, 5)).toEqual(Buffer.alloc(3));
  });

  it('flipBit flips one bit of durable and current content', () => {
    const fs = new MemoryFileSystem();
    fs.mkdir('/d');
    fs.writeFileAtomic('/d/f', Buffer.from([0, 0]));
    fs.flipBit('/d/f', 1, 3);
    expect(fs.readFile('/d/f')).toEqual(Buffer.from([0, 8]));
    fs.crash();
    expect(fs.readFile('/d/f')).toEqual(Buffer.from([0, 8]));
  });

  it('setDiskFull fails writes and new directories with ENOSPC, changing nothing, until turned off', () => {
    const memory = new MemoryFileSystem();
    memory.mkdir('/d');
    const file = memory.openFile('/d/f', { create: true });
    file.write(Buffer.from('ab'), 0, 2, 0);
    memory.setDiskFull(true);
    expect(() => file.write(Buffer.from('cd'), 0, 2, 2)).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(() => memory.mkdir('/d/e')).toThrow(expect.objectContaining({ code: 'ENOSPC' }));
    expect(() => memory.mkdir('/d')).not.toThrow();
    expect(() => memory.openFile('/d/g', { create: true })).not.toThrow();
    expect(memory.readFile('/d/f').toString()).toBe('ab');
    memory.setDiskFull(false);
    file.write(Buffer.from('cd'), 0, 2, 2);
    expect(memory.readFile('/d/f').toString()).toBe('abcd');
  });

  it('failNext makes the next call of that operation throw an EIO error, once', () => {
    const fs = new MemoryFileSystem();
    fs.mkdir('/d');
    const file = fs.openFile('/d/f', { create: true });
    fs.failNext('sync');
    expect(() => file.sync()).toThrow(expect.objectContaining({ code: 'EIO', syscall: 'sync', path: '/d/f' }));
    expect(() => file.sync()).not.toThrow();
    const full = Object.assign(new Error('ENOSPC: no space left'), { code: 'ENOSPC' });
    fs.failNext('write', full);
    expect(() => file.write(Buffer.from('x'), 0, 1, 0)).toThrow(full);
  });
});

describe('FakeClock', () => {
  it('runs due timers in order of due time and creation when advanced, and not before', () => {
    const clock = new FakeClock(0);
    const ran: string[] = [];
    clock.setTimeout(() => ran.push(`b@${clock.now()}`), 20);
    clock.setTimeout(() => ran.push(`a@${clock.now()}`), 10);
    const cancelled = clock.setTimeout(() => ran.push('never'), 15);
    clock.setTimeout(() => {
      ran.push(`c@${clock.now()}`);
      clock.setTimeout(() => ran.push(`d@${clock.now()}`), 5);
    }, 20);
    clock.clearTimeout(cancelled);
    clock.advance(9);
    expect(ran).toEqual([]);
    clock.advance(16);
    expect(ran).toEqual(['a@10', 'b@20', 'c@20', 'd@25']);
    expect(clock.now()).toBe(25);
    expect(clock.pendingTimers).toBe(0);
  });
});
