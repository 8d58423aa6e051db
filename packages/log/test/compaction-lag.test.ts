/**
 * The topic configs that decide when compaction and rolling happen: min.compaction.lag.ms,
 * max.compaction.lag.ms, min.cleanable.dirty.ratio and segment.jitter.ms, and changing a log's
 * config while it is open.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { FakeClock, LogManager, MemoryFileSystem, PartitionLog } from '../src/index.js';
import { batchOf, readAll } from './helpers.js';

const HOUR = 3_600_000;
let fs: MemoryFileSystem;
let clock: FakeClock;

beforeEach(() => {
  fs = new MemoryFileSystem({ seed: 3 });
  clock = new FakeClock(1000 * HOUR);
});

const keyed = (key: string, value: string, timestamp: number) => batchOf([{ key, value, timestamp }]);
const open = (config = {}, random?: () => number) => PartitionLog.open({ fs, dir: '/data/t-0', clock, config: { cleanupPolicy: 'compact', segmentBytes: 120, ...config }, random });

/** Appends `count` updates of one key, one batch each, stamped `timestamp`; small segments roll every batch or two. */
function appendUpdates(log: PartitionLog, count: number, timestamp: number, key = 'k'): void {
  for (let index = 0; index < count; index++) log.append(keyed(key, `value-${index}`, timestamp));
}

describe('min.compaction.lag.ms', () => {
  it('leaves segments holding records younger than the lag uncompacted, and compacts them once they age', () => {
    const log = open({ minCompactionLagMs: 2 * HOUR });
    appendUpdates(log, 6, clock.now() - 3 * HOUR, 'old');
    appendUpdates(log, 6, clock.now(), 'new');
    const before = readAll(log, 0).length;
    log.compact();
    const after = readAll(log, 0);
    // The old key kept one record; the young key's closed segments were not touched.
    expect(after.filter((record) => record.key === 'old')).toHaveLength(1);
    expect(after.filter((record) => record.key === 'new')).toHaveLength(6);
    expect(after.length).toBeLessThan(before);
    clock.advance(3 * HOUR);
    log.compact();
    const aged = readAll(log, 0).filter((record) => record.key === 'new');
    // Only the active segment (never compacted) may still hold more than the latest value.
    expect(aged.length).toBeLessThanOrEqual(2);
    log.close();
  });
});

describe('min.cleanable.dirty.ratio and max.compaction.lag.ms (scheduled compaction)', () => {
  it('is due only once the uncompacted share of the log passes the ratio', () => {
    const log = open({ minCleanableDirtyRatio: 0.9 });
    appendUpdates(log, 8, clock.now());
    expect(log.isCompactionDue()).toBe(true); // nothing compacted yet: everything is dirty
    log.compact();
    log.append(keyed('k', 'one-more', clock.now()));
    log.roll();
    expect(log.isCompactionDue()).toBe(false); // a little dirty data behind a compacted head
    log.updateConfig({ minCleanableDirtyRatio: 0.01 });
    expect(log.isCompactionDue()).toBe(true);
    log.close();
  });

  it('is due whatever the ratio once the oldest uncompacted batch is older than max.compaction.lag.ms', () => {
    const log = open({ minCleanableDirtyRatio: 1, maxCompactionLagMs: HOUR });
    appendUpdates(log, 4, clock.now());
    expect(log.isCompactionDue()).toBe(false);
    clock.advance(2 * HOUR);
    expect(log.isCompactionDue()).toBe(true);
    log.close();
  });

  it('rolls a compacted log\'s active segment at max.compaction.lag.ms even when segment.ms is longer', () => {
    const log = open({ segmentBytes: 1 << 20, segmentMs: 100 * HOUR, maxCompactionLagMs: HOUR });
    log.append(keyed('k', 'a', clock.now()));
    log.append(keyed('k', 'b', clock.now() + 30 * 60_000));
    expect(log.segmentCount).toBe(1);
    log.append(keyed('k', 'c', clock.now() + 2 * HOUR));
    expect(log.segmentCount).toBe(2);
    log.close();
  });

  it('LogManager runs scheduled passes only over logs that are due', async () => {
    const manager = LogManager.open({ fs, dir: '/data', clock, schedule: false, config: { cleanupPolicy: 'compact', segmentBytes: 120, minCleanableDirtyRatio: 0.99 } });
    const log = manager.getOrCreate('t', 0);
    appendUpdates(log, 8, clock.now());
    const removedFirst = manager.compactInSteps();
    for (let step = 0; step < 200; step++) clock.advance(0);
    expect(await removedFirst).toBeGreaterThan(0);
    log.append(keyed('k', 'again', clock.now()));
    log.roll();
    const removedSecond = manager.compactInSteps();
    clock.advance(0);
    expect(await removedSecond).toBe(0);
    manager.close();
  });
});

describe('segment.jitter.ms', () => {
  it('rolls each segment up to the jitter earlier than segment.ms, drawn from the log\'s random', () => {
    const rollAfter = (random: () => number) => {
      const log = PartitionLog.open({ fs, dir: `/data/j-${random()}`, clock, config: { segmentMs: HOUR, segmentJitterMs: 30 * 60_000 }, random });
      const start = clock.now();
      log.append(batchOf([{ key: null, value: 'first', timestamp: start }]));
      let minutes = 0;
      while (log.segmentCount === 1) {
        minutes += 1;
        log.append(batchOf([{ key: null, value: 'next', timestamp: start + minutes * 60_000 }]));
      }
      log.close();
      return minutes;
    };
    expect(rollAfter(() => 0)).toBe(61);
    expect(rollAfter(() => 0.5)).toBe(46);
    expect(rollAfter(() => 0.999)).toBe(31);
  });
});

describe('updateConfig', () => {
  it('applies new settings to the open log and refuses invalid ones without changing anything', () => {
    const log = PartitionLog.open({ fs, dir: '/data/u-0', clock, config: { retentionMs: -1, segmentMs: HOUR } });
    for (let hour = 0; hour < 4; hour++) log.append(batchOf([{ key: null, value: `h${hour}`, timestamp: clock.now() - (10 - hour) * HOUR }]));
    expect(log.applyRetention()).toBe(0);
    log.updateConfig({ retentionMs: 8 * HOUR });
    expect(log.applyRetention()).toBeGreaterThan(0);
    expect(() => log.updateConfig({ segmentBytes: 3 })).toThrow(RangeError);
    expect(log.config.segmentBytes).toBe(1024 * 1024 * 1024);
    log.close();
  });
});
