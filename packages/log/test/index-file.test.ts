import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { OffsetIndex, TimeIndex } from '../src/index.js';
import { backends } from './helpers.js';

describe.each(backends)('indexes against sorted-array models on %s', (_name, makeBackend) => {
  it('offset index lookups equal the reference floor search, before and after reopening', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.integer({ min: 1, max: 100_000 }), { minLength: 0, maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 101_000 }), { maxLength: 30 }), (raw, probes) => {
        const backend = makeBackend();
        try {
          backend.fs.mkdir(backend.dir);
          const sorted = [...raw].sort((a, b) => a - b);
          const entries = sorted.map((relative, i) => ({ offset: 500 + relative, position: (i + 1) * 10 }));
          const file = path.join(backend.dir, 'x.index');
          const options = { baseOffset: 500, maxIndexBytes: 8 * 100, limits: { logSizeBytes: 1_000_000 } };
          const index = OffsetIndex.open(backend.fs, file, options);
          index.preallocate();
          for (const entry of entries) index.append(entry.offset, entry.position);
          const reference = (offset: number) => [...entries].reverse().find((entry) => entry.offset <= offset)?.position ?? 0;
          for (const probe of probes) expect(index.lookup(500 + probe)).toBe(reference(500 + probe));
          index.flush();
          index.close();
          const reopened = OffsetIndex.open(backend.fs, file, options);
          expect(reopened.entries()).toEqual(entries);
          for (const probe of probes) expect(reopened.lookup(500 + probe)).toBe(reference(500 + probe));
          reopened.trim();
          reopened.close();
          expect(backend.fs.readFile(file).length).toBe(entries.length * 8);
        } finally {
          backend.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('time index keeps only growing timestamps and lookupBelow equals the reference', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 10_000 }), { maxLength: 60 }), fc.array(fc.integer({ min: 0, max: 11_000 }), { maxLength: 30 }), (stamps, probes) => {
        const backend = makeBackend();
        try {
          backend.fs.mkdir(backend.dir);
          const file = path.join(backend.dir, 'x.timeindex');
          const options = { baseOffset: 0, maxIndexBytes: 12 * 100, limits: { logSizeBytes: 1 } };
          const index = TimeIndex.open(backend.fs, file, options);
          const model: { timestamp: number; offset: number }[] = [];
          stamps.forEach((stamp, offset) => {
            index.maybeAppend(stamp, offset);
            if (model.length === 0 || stamp > model[model.length - 1].timestamp) model.push({ timestamp: stamp, offset });
          });
          expect(index.entries()).toEqual(model);
          for (const probe of probes) expect(index.lookupBelow(probe)).toBe([...model].reverse().find((entry) => entry.timestamp < probe)?.offset);
          index.flush();
          index.close();
          expect(TimeIndex.open(backend.fs, file, options).entries()).toEqual(model);
        } finally {
          backend.cleanup();
        }
      }),
      { numRuns: 40 },
    );
  });

  it('truncating an index drops the entries at and after the cut, on disk too', () => {
    const backend = makeBackend();
    try {
      backend.fs.mkdir(backend.dir);
      const file = path.join(backend.dir, 'y.index');
      const options = { baseOffset: 0, maxIndexBytes: 800, limits: { logSizeBytes: 10_000 } };
      const index = OffsetIndex.open(backend.fs, file, options);
      index.preallocate();
      for (let i = 1; i <= 10; i++) index.append(i * 10, i * 100);
      index.flush();
      index.truncateToPosition(500);
      expect(index.entries().map((entry) => entry.position)).toEqual([100, 200, 300, 400]);
      index.flush();
      index.close();
      expect(OffsetIndex.open(backend.fs, file, options).entries()).toHaveLength(4);
    } finally {
      backend.cleanup();
    }
  });
});
