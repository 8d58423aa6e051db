/**
 * offsetForTimestamp against a reference model (a sorted scan of every record's timestamp):
 * random batches with non-monotonic timestamps across several segments, before and after a clean
 * reopen (when the time indexes come from disk).
 */
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, PartitionLog } from '../src/index.js';
import { backends, batchOf } from './helpers.js';

describe.each(backends)('offsetForTimestamp against a reference model on %s', (name, makeBackend) => {
  it('returns the first offset whose timestamp is at least the target', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 500 }), { minLength: 1, maxLength: 5 }), { minLength: 1, maxLength: 25 }),
        fc.array(fc.integer({ min: -1, max: 520 }), { minLength: 1, maxLength: 12 }),
        fc.integer({ min: 0, max: 300 }),
        (batches, targets, indexIntervalBytes) => {
          const backend = makeBackend();
          const dir = path.join(backend.dir, 'time-0');
          const config = { indexIntervalBytes, segmentBytes: 600 };
          try {
            let log = PartitionLog.open({ fs: backend.fs, dir, config, clock: new FakeClock() });
            const stamps: number[] = [];
            for (const batch of batches) {
              log.append(batchOf(batch.map((timestamp) => ({ key: null, value: 'v', timestamp }))));
              stamps.push(...batch);
            }
            const reference = (target: number) => {
              const found = stamps.findIndex((stamp) => stamp >= target);
              return found < 0 ? undefined : found;
            };
            for (const target of targets.filter((t) => t >= 0)) expect(log.offsetForTimestamp(target)).toBe(reference(target));
            log.close();
            log = PartitionLog.open({ fs: backend.fs, dir, config, clock: new FakeClock(), hadCleanShutdown: true });
            for (const target of targets.filter((t) => t >= 0)) expect(log.offsetForTimestamp(target)).toBe(reference(target));
            log.close();
          } finally {
            backend.cleanup();
          }
        },
      ),
      { numRuns: name === 'memory' ? 100 : 20 },
    );
  });
});
