import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CLEAN_SHUTDOWN_FILE, FakeClock, LogManager, readCleanShutdownBrokerEpoch, RECOVERY_POINT_CHECKPOINT_FILE, readOffsetCheckpoint,
} from '../src/index.js';
import { type Backend, backends, readAll, simpleBatch } from './helpers.js';

describe.each(backends)('LogManager on %s', (_name, makeBackend) => {
  let backend: Backend;
  let clock: FakeClock;
  beforeEach(() => {
    backend = makeBackend();
    clock = new FakeClock();
  });
  afterEach(() => backend.cleanup());

  const open = (extra = {}) => LogManager.open({ fs: backend.fs, dir: backend.dir, clock, config: { segmentIndexBytes: 4096 }, ...extra });

  it('opens every <topic>-<partition> directory, including topics with dashes', () => {
    const manager = open();
    manager.getOrCreate('orders', 0).append(simpleBatch(2));
    manager.getOrCreate('my-topic', 12).append(simpleBatch(3));
    manager.close();
    const reopened = open();
    expect(reopened.hadCleanShutdown).toBe(true);
    expect(reopened.all().map(({ topic, partition }) => `${topic}/${partition}`).sort()).toEqual(['my-topic/12', 'orders/0']);
    expect(reopened.get('my-topic', 12)?.logEndOffset).toBe(3);
    reopened.close();
  });

  it('writes the recovery-point checkpoint and the clean-shutdown marker on close, and removes the marker on open', () => {
    const manager = open();
    manager.getOrCreate('t', 0).append(simpleBatch(5));
    manager.close();
    expect(backend.fs.exists(path.join(backend.dir, CLEAN_SHUTDOWN_FILE))).toBe(true);
    expect(backend.fs.readFile(path.join(backend.dir, RECOVERY_POINT_CHECKPOINT_FILE)).toString()).toBe('0\n1\nt 0 5\n');
    const reopened = open();
    expect(backend.fs.exists(path.join(backend.dir, CLEAN_SHUTDOWN_FILE))).toBe(false);
    reopened.close();
  });

  it('keeps the broker epoch in the clean-shutdown marker, as Kafka\'s, and reads -1 after a crash or from a marker without one', () => {
    const marker = path.join(backend.dir, CLEAN_SHUTDOWN_FILE);
    expect(readCleanShutdownBrokerEpoch(backend.fs, backend.dir)).toBe(-1);
    open().close({ brokerEpoch: 42 });
    expect(JSON.parse(backend.fs.readFile(marker).toString())).toEqual({ version: 0, brokerEpoch: 42 });
    expect(readCleanShutdownBrokerEpoch(backend.fs, backend.dir)).toBe(42);
    // Open removes the marker: until the next clean close, a crash is what the directory says.
    const reopened = open();
    expect(readCleanShutdownBrokerEpoch(backend.fs, backend.dir)).toBe(-1);
    reopened.close();
    expect(JSON.parse(backend.fs.readFile(marker).toString())).toEqual({ version: 0, brokerEpoch: -1 });
    for (const content of ['', 'not json', '{"version":0}', '{"version":0,"brokerEpoch":"7"}', '{"version":0,"brokerEpoch":-5}']) {
      backend.fs.writeFileAtomic(marker, Buffer.from(content));
      expect(readCleanShutdownBrokerEpoch(backend.fs, backend.dir)).toBe(-1);
    }
  });

  it('after a crash (no marker) recovers from the recovery point and keeps flushed data (memory file system)', () => {
    if (!backend.memory) return;
    const manager = open();
    const log = manager.getOrCreate('t', 0);
    log.append(simpleBatch(3));
    manager.flushAll();
    manager.checkpoint();
    log.append(simpleBatch(3));
    backend.memory.crash();
    const reopened = open();
    expect(reopened.hadCleanShutdown).toBe(false);
    expect(reopened.get('t', 0)?.logEndOffset).toBe(3);
    reopened.close();
  });

  it('schedules flush by flushMs, retention and checkpoints on the clock', () => {
    const manager = open({
      config: { flushMs: 5000, retentionMs: 60_000, segmentMs: 1000 },
      managerConfig: { flushCheckIntervalMs: 1000, retentionCheckIntervalMs: 10_000, recoveryPointCheckpointIntervalMs: 3000 },
    });
    const log = manager.getOrCreate('t', 0);
    const start = clock.now();
    log.append(simpleBatch(1, start));
    log.append(simpleBatch(1, start + 2000));
    expect(log.segmentCount).toBe(2);
    expect(log.unflushedMessageCount).toBe(1);
    clock.advance(4999);
    expect(log.unflushedMessageCount).toBe(1);
    clock.advance(1001);
    expect(log.unflushedMessageCount).toBe(0);
    expect(readOffsetCheckpoint(backend.fs, path.join(backend.dir, RECOVERY_POINT_CHECKPOINT_FILE)).get('t-0')?.offset).toBe(2);
    clock.advance(64_000);
    expect(log.logStartOffset).toBe(1);
    expect(readAll(log, 1)).toHaveLength(1);
    manager.close();
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps the log start offset across a restart through log-start-offset-checkpoint', () => {
    const manager = open();
    const log = manager.getOrCreate('t', 0);
    for (let i = 0; i < 3; i++) log.append(simpleBatch(2));
    log.deleteRecordsBefore(3);
    manager.close();
    const reopened = open();
    expect(reopened.get('t', 0)?.logStartOffset).toBe(3);
    reopened.close();
  });

  it('deletes a partition log and its directory', () => {
    const manager = open();
    manager.getOrCreate('gone', 1).append(simpleBatch(1));
    expect(manager.delete('gone', 1)).toBe(true);
    expect(backend.fs.exists(path.join(backend.dir, 'gone-1'))).toBe(false);
    expect(manager.get('gone', 1)).toBeUndefined();
    manager.close();
  });

  it('rejects topic names that are not a directory name', () => {
    const manager = open();
    expect(() => manager.getOrCreate('../x', 0)).toThrow(expect.objectContaining({ code: 'INVALID_TOPIC' }));
    manager.close();
  });

  it('abandon stops scheduled work and leaves no marker, so the next open recovers', () => {
    const manager = open();
    manager.getOrCreate('t', 0).append(simpleBatch(2));
    manager.abandon();
    expect(clock.pendingTimers).toBe(0);
    expect(backend.fs.exists(path.join(backend.dir, CLEAN_SHUTDOWN_FILE))).toBe(false);
    backend.memory?.crash();
    const reopened = open();
    expect(reopened.hadCleanShutdown).toBe(false);
    expect(reopened.get('t', 0)?.logEndOffset).toBe(backend.memory ? 0 : 2);
    reopened.close();
  });
});
