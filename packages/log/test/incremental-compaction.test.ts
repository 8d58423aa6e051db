/**
 * Compaction as bounded steps: appends, rolls and reads between the steps of a pass; passes
 * aborted by retention, record deletion, truncation and close; the LogManager's stepped run
 * letting an append through before a multi-MiB pass ends. Over both file systems.
 */
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, LogManager, MemoryFileSystem, PartitionLog, systemClock } from '../src/index.js';
import { type Backend, backends, batchOf, type ReadRecord, readAll } from './helpers.js';

const HOUR = 3_600_000;

interface Appended {
  offset: number;
  key: string;
  value: string;
}

/** Latest record per key among those below `cleanedUpTo`, then every record from there on, in offset order. */
function expectedAfterPass(model: Appended[], cleanedUpTo: number): string[] {
  const latest = new Map<string, number>();
  for (const record of model) if (record.offset < cleanedUpTo) latest.set(record.key, record.offset);
  return model.filter((record) => record.offset >= cleanedUpTo || latest.get(record.key) === record.offset).map(show);
}

function show(record: Pick<ReadRecord, 'offset' | 'key' | 'value'>): string {
  return `${record.offset}:${record.key}=${record.value}`;
}

function leftovers(backend: Backend, dir: string): string[] {
  return backend.fs.readdir(dir).filter((name) => name.endsWith('.cleaned') || name.endsWith('.swap'));
}

describe.each(backends)('incremental compaction on %s', (_name, makeBackend) => {
  let backend: Backend;
  let dir: string;
  let clock: FakeClock;
  beforeEach(() => {
    backend = makeBackend();
    dir = path.join(backend.dir, 'topic-0');
    clock = new FakeClock(100 * HOUR);
  });
  afterEach(() => backend.cleanup());

  const config = { cleanupPolicy: 'compact' as const, segmentBytes: 600, compactionStepBytesMax: 150, deleteRetentionMs: HOUR };
  const open = (overrides = {}) => PartitionLog.open({ fs: backend.fs, dir, clock, config: { ...config, ...overrides } });

  /** Appends `count` one-record batches with keys k0..k{keys-1} in a fixed scramble. */
  function fill(log: PartitionLog, model: Appended[], count: number, keys = 5): void {
    for (let i = 0; i < count; i++) append(log, model, `k${(i * 7 + model.length) % keys}`);
  }

  function append(log: PartitionLog, model: Appended[], key: string): void {
    const value = `v${model.length}`;
    const { baseOffset } = log.append(batchOf([{ key, value, timestamp: clock.now() }]));
    model.push({ offset: baseOffset, key, value });
  }

  /** Starts a pass and steps it until it is writing a `.cleaned` file (bounded). */
  function stepIntoCleaning(log: PartitionLog): void {
    for (let i = 0; i < 1000 && !backend.fs.readdir(dir).some((name) => name.endsWith('.log.cleaned')); i++) {
      expect(log.compactionStep()).toBeUndefined();
    }
    expect(log.compactionInProgress).toBe(true);
    expect(leftovers(backend, dir).length).toBeGreaterThan(0);
  }

  it('appends, rolls and reads between the steps of a pass end with the latest record per key below the pass and every later record', () => {
    const log = open();
    const model: Appended[] = [];
    fill(log, model, 40);
    log.roll();
    const cleanedUpTo = log.logEndOffset;
    let steps = 0;
    for (let guard = 0; guard < 1000; guard++) {
      const stats = log.compactionStep();
      steps++;
      if (stats) {
        expect(stats.recordsRemoved).toBeGreaterThan(0);
        break;
      }
      append(log, model, `k${steps % 3}`);
      if (steps % 4 === 0) log.roll();
      // Reads between steps (some after a swap) see increasing offsets.
      const offsets = readAll(log, 0).map((record) => record.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
    expect(steps).toBeGreaterThan(3);
    expect(log.compactionInProgress).toBe(false);
    expect(readAll(log, 0).map(show)).toEqual(expectedAfterPass(model, cleanedUpTo));
    expect(leftovers(backend, dir)).toEqual([]);
    log.close();
    const reopened = open();
    expect(readAll(reopened, 0).map(show)).toEqual(expectedAfterPass(model, cleanedUpTo));
    // The segments rolled during the pass are cleaned by the next one.
    reopened.compact();
    expect(readAll(reopened, 0).map(show)).toEqual(expectedAfterPass(model, reopened.segmentBaseOffsets()[reopened.segmentCount - 1]));
    reopened.close();
  });

  it('compact() finishes a pass already under way', () => {
    const log = open();
    const model: Appended[] = [];
    fill(log, model, 30);
    log.roll();
    const cleanedUpTo = log.logEndOffset;
    expect(log.compactionStep()).toBeUndefined();
    append(log, model, 'k1');
    expect(log.compact().recordsRemoved).toBeGreaterThan(0);
    expect(log.compactionInProgress).toBe(false);
    expect(readAll(log, 0).map(show)).toEqual(expectedAfterPass(model, cleanedUpTo));
    log.close();
  });

  it('retention deleting a segment aborts the pass: no .cleaned files, the remaining records intact', () => {
    const log = open({ cleanupPolicy: 'compact,delete', retentionMs: 5 * HOUR });
    const model: Appended[] = [];
    const old = clock.now() - 10 * HOUR;
    for (let i = 0; i < 6; i++) {
      const { baseOffset } = log.append(batchOf([{ key: `old${i % 2}`, value: `o${i}`, timestamp: old }]));
      model.push({ offset: baseOffset, key: `old${i % 2}`, value: `o${i}` });
    }
    log.roll();
    fill(log, model, 30);
    log.roll();
    stepIntoCleaning(log);
    expect(log.applyRetention()).toBeGreaterThan(0);
    expect(log.compactionInProgress).toBe(false);
    expect(leftovers(backend, dir)).toEqual([]);
    const start = log.logStartOffset;
    expect(readAll(log, start).map(show)).toEqual(model.filter((record) => record.offset >= start).map(show));
    // A later pass starts over and completes.
    expect(log.compact().recordsRemoved).toBeGreaterThan(0);
    expect(readAll(log, start).map(show)).toEqual(expectedAfterPass(model.filter((record) => record.offset >= start), log.segmentBaseOffsets()[log.segmentCount - 1]));
    log.close();
  });

  it('deleteRecordsBefore deleting a segment aborts the pass and loses nothing above the new start', () => {
    const log = open();
    const model: Appended[] = [];
    fill(log, model, 40);
    log.roll();
    stepIntoCleaning(log);
    const newStart = log.segmentBaseOffsets()[1];
    log.deleteRecordsBefore(newStart);
    expect(log.compactionInProgress).toBe(false);
    expect(leftovers(backend, dir)).toEqual([]);
    expect(readAll(log, newStart).map(show)).toEqual(model.filter((record) => record.offset >= newStart).map(show));
    log.close();
  });

  it('truncation aborts the pass: no .cleaned files, every record below the cut intact', () => {
    const log = open();
    const model: Appended[] = [];
    fill(log, model, 40);
    log.roll();
    fill(log, model, 3);
    stepIntoCleaning(log);
    log.truncateTo(25);
    expect(log.compactionInProgress).toBe(false);
    expect(leftovers(backend, dir)).toEqual([]);
    expect(log.logEndOffset).toBe(25);
    expect(readAll(log, 0).map(show)).toEqual(model.filter((record) => record.offset < 25).map(show));
    stepIntoCleaning(log);
    log.truncateFullyAndStartAt(100);
    expect(leftovers(backend, dir)).toEqual([]);
    expect(log.logStartOffset).toBe(100);
    log.close();
  });

  it('close aborts the pass: no .cleaned files, and the reopened log holds every record', () => {
    const log = open();
    const model: Appended[] = [];
    fill(log, model, 40);
    log.roll();
    stepIntoCleaning(log);
    log.close();
    expect(leftovers(backend, dir)).toEqual([]);
    const reopened = open();
    expect(readAll(reopened, 0).map(show)).toEqual(model.map(show));
    reopened.close();
  });

  it('splits a pass over several MiB into many steps and lets an append between steps complete before the pass ends', async () => {
    const logs = LogManager.open({ fs: backend.fs, dir: backend.dir, clock: systemClock, schedule: false, config: { cleanupPolicy: 'compact', segmentBytes: 1024 * 1024, compactionStepBytesMax: 256 * 1024 } });
    const log = logs.getOrCreate('big', 0);
    const value = 'x'.repeat(1000);
    const keys = 64;
    for (let batch = 0; batch < 256; batch++) {
      const records = Array.from({ length: 16 }, (_, i) => ({ key: `k${(batch * 16 + i) % keys}`, value, timestamp: 1 }));
      log.append(batchOf(records));
    }
    log.roll();
    expect(log.sizeBytes).toBeGreaterThan(4_000_000);
    const lastBefore = log.logEndOffset;
    const run = logs.compactInSteps();
    expect(logs.compactInSteps()).toBe(run);
    let yields = 0;
    let appended: number | undefined;
    for (; yields < 10_000 && (appended === undefined || log.compactionInProgress); yields++) {
      await new Promise((resolve) => setImmediate(resolve));
      if (appended === undefined && log.compactionInProgress) appended = log.append(batchOf([{ key: 'during', value: 'pass', timestamp: 1 }])).baseOffset;
      if (!log.compactionInProgress && appended === undefined) break;
    }
    expect(appended).toBe(lastBefore);
    // The append was acknowledged while the pass still had steps to run.
    expect(yields).toBeGreaterThan(8);
    expect(await run).toBe(256 * 16 - keys);
    const records = readAll(log, 0);
    expect(records.length).toBe(keys + 1);
    expect(records[records.length - 1]).toMatchObject({ offset: lastBefore, key: 'during', value: 'pass' });
    logs.close();
  });

  it('LogManager.close stops a stepped run, resolving it, with no .cleaned files left', async () => {
    const logs = LogManager.open({ fs: backend.fs, dir: backend.dir, clock, schedule: false, config });
    const log = logs.getOrCreate('t', 0);
    const model: Appended[] = [];
    fill(log, model, 40);
    log.roll();
    // A pass under way (its first steps taken by hand); the run continues it on its next timer.
    for (let i = 0; i < 1000 && !backend.fs.readdir(path.join(backend.dir, 't-0')).some((name) => name.endsWith('.log.cleaned')); i++) log.compactionStep();
    const run = logs.compactInSteps();
    expect(log.compactionInProgress).toBe(true);
    logs.close();
    await expect(run).resolves.toBeGreaterThanOrEqual(0);
    expect(leftovers(backend, path.join(backend.dir, 't-0'))).toEqual([]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('the schedule runs stepped passes every cleanerBackoffMs on the injected clock', async () => {
    const logs = LogManager.open({ fs: backend.fs, dir: backend.dir, clock, config, managerConfig: { cleanerBackoffMs: 1000 } });
    const log = logs.getOrCreate('t', 0);
    const model: Appended[] = [];
    fill(log, model, 40);
    log.roll();
    const cleanedUpTo = log.logEndOffset;
    clock.advance(1000);
    // Steps are 0 ms timers: all of them fall due within this advance.
    expect(log.compactionInProgress).toBe(false);
    expect(readAll(log, 0).map(show)).toEqual(expectedAfterPass(model, cleanedUpTo));
    await Promise.resolve();
    logs.close();
  });
});

describe('incremental compaction with an I/O error in a step (memory file system)', () => {
  it('aborts the pass, deletes its .cleaned files and rethrows; nothing is lost and the next pass completes', () => {
    const fs = new MemoryFileSystem({ seed: 3 });
    const clock = new FakeClock(100 * HOUR);
    const dir = '/data/t-0';
    const log = PartitionLog.open({ fs, dir, clock, config: { cleanupPolicy: 'compact', segmentBytes: 600, compactionStepBytesMax: 150 } });
    const model: Appended[] = [];
    // Every segment keeps its unique keys, so the failing write is the first segment's first one.
    for (let i = 0; i < 40; i++) {
      const key = i % 2 === 0 ? `u${i}` : `k${i % 3}`;
      const { baseOffset } = log.append(batchOf([{ key, value: `v${i}`, timestamp: clock.now() }]));
      model.push({ offset: baseOffset, key, value: `v${i}` });
    }
    log.roll();
    const cleanedUpTo = log.logEndOffset;
    for (let i = 0; i < 1000 && !fs.readdir(dir).some((name) => name.endsWith('.log.cleaned')); i++) log.compactionStep();
    fs.failNext('write');
    expect(() => {
      for (let i = 0; i < 1000; i++) log.compactionStep();
    }).toThrow(expect.objectContaining({ code: 'EIO' }));
    expect(log.compactionInProgress).toBe(false);
    expect(fs.readdir(dir).filter((name) => name.endsWith('.cleaned'))).toEqual([]);
    expect(readAll(log, 0).map(show)).toEqual(model.map(show));
    expect(log.compact().recordsRemoved).toBeGreaterThan(0);
    expect(readAll(log, 0).map(show)).toEqual(expectedAfterPass(model, cleanedUpTo));
    log.close();
  });
});
