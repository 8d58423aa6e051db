/**
 * Random sequences of append, roll, read, truncate, deleteRecordsBefore, flush, clean reopen and
 * (memory file system) crash, checked against a reference model: an array of records with offsets.
 * After a crash the log must hold every record below the recovery point it reported before the
 * crash, nothing the model does not have, and contiguous offsets.
 */
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, PartitionLog } from '../src/index.js';
import { backends, batchOf, readAll, recordsOf } from './helpers.js';

type Operation =
  | { kind: 'append'; batches: number[] }
  | { kind: 'roll' }
  | { kind: 'read'; at: number; maxBytes: number; minOneBatch: boolean; highWatermarkAt: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'deleteBefore'; at: number }
  | { kind: 'flush' }
  | { kind: 'reopen' }
  | { kind: 'crash'; keepRandomPrefix: boolean };

const operation = (withCrash: boolean): fc.Arbitrary<Operation> =>
  fc.oneof(
    { weight: 8, arbitrary: fc.record({ kind: fc.constant('append' as const), batches: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 1, maxLength: 3 }) }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
    {
      weight: 3,
      arbitrary: fc.record({
        kind: fc.constant('read' as const),
        at: fc.double({ min: 0, max: 1, noNaN: true }),
        maxBytes: fc.integer({ min: 1, max: 250 }),
        minOneBatch: fc.boolean(),
        highWatermarkAt: fc.oneof(fc.constant(1), fc.double({ min: 0, max: 1, noNaN: true })),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('truncate' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('deleteBefore' as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }) },
    { weight: 2, arbitrary: fc.constant({ kind: 'flush' as const }) },
    { weight: 1, arbitrary: fc.constant({ kind: 'reopen' as const }) },
    { weight: withCrash ? 2 : 0, arbitrary: fc.record({ kind: fc.constant('crash' as const), keepRandomPrefix: fc.boolean() }) },
  );

interface ModelRecord {
  offset: number;
  value: string;
  /** The batch holding the record: its offsets and size in bytes. */
  batch: { baseOffset: number; lastOffset: number; sizeBytes: number };
}

describe.each(backends)('PartitionLog against a reference model on %s', (name, makeBackend) => {
  it('agrees with the model over random operations', () => {
    fc.assert(
      fc.property(fc.array(operation(name === 'memory'), { minLength: 1, maxLength: 40 }), fc.integer({ min: 150, max: 1200 }), (operations, segmentBytes) => {
        const backend = makeBackend();
        const dir = path.join(backend.dir, 'topic-0');
        const config = { segmentBytes, indexIntervalBytes: 64 };
        const clock = new FakeClock();
        let log = PartitionLog.open({ fs: backend.fs, dir, config, clock });
        let model: ModelRecord[] = [];
        let logStart = 0;
        let counter = 0;
        const leo = () => (model.length === 0 ? logStart : Math.max(logStart, model[model.length - 1].offset + 1));
        try {
          for (const op of operations) {
            switch (op.kind) {
              case 'append': {
                const buffers = op.batches.map((count) => batchOf(Array.from({ length: count }, () => ({ key: null, value: `r${counter++}`, timestamp: 1000 + counter }))));
                const result = log.append(Buffer.concat(buffers));
                expect(result.baseOffset).toBe(leo());
                let offset = result.baseOffset;
                for (const buffer of buffers) {
                  const records = recordsOf(buffer);
                  const batch = { baseOffset: offset, lastOffset: offset + records.length - 1, sizeBytes: buffer.length };
                  for (const record of records) model.push({ offset: offset++, value: record.value as string, batch });
                }
                expect(log.logEndOffset).toBe(leo());
                break;
              }
              case 'roll':
                log.roll();
                break;
              case 'read': {
                const offset = logStart + Math.floor(op.at * (leo() - logStart));
                const maxOffset = logStart + Math.floor(op.highWatermarkAt * (leo() - logStart));
                const read = log.read(offset, { maxBytes: op.maxBytes, minOneBatch: op.minOneBatch, maxOffset });
                const got = recordsOf(read.records);
                // Reference: the batch holding `offset`; empty when it reaches the high watermark or
                // is over maxBytes without minOneBatch; otherwise whole batches from it, below maxOffset.
                const holder = model.find((record) => record.offset === offset)?.batch;
                const expectEmpty = !holder || holder.lastOffset >= maxOffset || (holder.sizeBytes > op.maxBytes && !op.minOneBatch);
                expect(got.length === 0).toBe(expectEmpty);
                if (holder && !expectEmpty) {
                  expect(got[0].offset).toBe(holder.baseOffset);
                  expect(read.records.length <= op.maxBytes || read.records.length === holder.sizeBytes).toBe(true);
                  const last = got[got.length - 1].offset;
                  expect(last).toBeLessThan(maxOffset);
                  expect(model.find((record) => record.offset === last)?.batch.lastOffset).toBe(last);
                  expect(read.nextOffset).toBe(last + 1);
                }
                for (const record of got) expect(record.value).toBe(model.find((entry) => entry.offset === record.offset)?.value);
                break;
              }
              case 'truncate': {
                const target = logStart + Math.floor(op.at * (leo() - logStart));
                log.truncateTo(target);
                // Truncation cuts at a batch boundary at or below the target.
                expect(log.logEndOffset).toBeLessThanOrEqual(Math.max(target, logStart));
                model = model.filter((record) => record.offset < log.logEndOffset);
                if (log.logStartOffset !== logStart) logStart = log.logStartOffset;
                break;
              }
              case 'deleteBefore': {
                const target = logStart + Math.floor(op.at * (leo() - logStart));
                logStart = log.deleteRecordsBefore(target);
                expect(logStart).toBe(Math.max(target, logStart));
                break;
              }
              case 'flush':
                log.flush();
                expect(log.recoveryPoint).toBe(leo());
                break;
              case 'reopen':
                log.close();
                log = PartitionLog.open({ fs: backend.fs, dir, config, clock, hadCleanShutdown: true, logStartOffset: logStart });
                expect(log.logEndOffset).toBe(leo());
                break;
              case 'crash': {
                const durable = log.recoveryPoint;
                backend.memory?.crash({ keepRandomPrefix: op.keepRandomPrefix });
                log = PartitionLog.open({ fs: backend.fs, dir, config, clock, hadCleanShutdown: false, recoveryPoint: durable, logStartOffset: logStart });
                const survived = log.logEndOffset;
                expect(survived).toBeGreaterThanOrEqual(durable);
                expect(survived).toBeLessThanOrEqual(leo());
                model = model.filter((record) => record.offset < survived);
                logStart = log.logStartOffset;
                break;
              }
            }
            expect(log.logStartOffset).toBe(logStart);
            expect(log.logEndOffset).toBe(leo());
          }
          // Whole-log check: every record from the log start, in order, contiguous, as in the model.
          const all = readAll(log, logStart);
          expect(all.map((record) => [record.offset, record.value])).toEqual(model.filter((record) => record.offset >= logStart).map((record) => [record.offset, record.value]));
          log.close();
          const reopened = PartitionLog.open({ fs: backend.fs, dir, config, clock, hadCleanShutdown: false, logStartOffset: logStart });
          expect(reopened.logEndOffset).toBe(leo());
          reopened.close();
        } finally {
          backend.cleanup();
        }
      }),
      { numRuns: name === 'memory' ? 250 : 15 },
    );
  });
});
