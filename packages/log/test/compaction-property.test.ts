/**
 * Compaction against a model (memory file system): random keyed appends, tombstones, rolls, clock
 * steps and compactions, some interrupted by an I/O error at a random step of the swap followed by
 * a crash, some driven step by step with appends and rolls between the steps and possibly a crash
 * between two steps. After each step the log must hold only records the model has, at their original
 * offsets, one record per key below the active segment after a pass, and the latest record of every
 * key (except tombstones past their horizon); the active segment is never touched.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { FakeClock, type FileSystemOperation, MemoryFileSystem, PartitionLog } from '../src/index.js';
import { batchOf, readAll } from './helpers.js';

type Step =
  | { kind: 'append'; records: { key: number; tombstone: boolean }[] }
  | { kind: 'roll' }
  | { kind: 'advance'; ms: number }
  | { kind: 'compact' }
  | { kind: 'compactAndCrash'; operation: FileSystemOperation; afterCalls: number }
  | { kind: 'stepped'; actions: SteppedAction[]; crash: boolean };

type SteppedAction = { kind: 'step' } | { kind: 'append'; key: number; tombstone: boolean } | { kind: 'roll' };

const steppedAction: fc.Arbitrary<SteppedAction> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'step' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('append' as const), key: fc.integer({ min: 0, max: 5 }), tombstone: fc.boolean() }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'roll' as const }) },
);

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('append' as const), records: fc.array(fc.record({ key: fc.integer({ min: 0, max: 5 }), tombstone: fc.boolean() }), { minLength: 1, maxLength: 4 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'roll' as const }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 3000 }) }) },
  { weight: 2, arbitrary: fc.constant({ kind: 'compact' as const }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('compactAndCrash' as const),
      operation: fc.constantFrom<FileSystemOperation>('rename', 'unlink', 'write', 'sync', 'open'),
      afterCalls: fc.integer({ min: 0, max: 4 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('stepped' as const), actions: fc.array(steppedAction, { minLength: 1, maxLength: 20 }), crash: fc.boolean() }) },
);

interface ModelRecord {
  offset: number;
  key: string;
  value: string | null;
  timestamp: number;
}

describe('compaction against a model, with crashes mid-swap', () => {
  it('keeps the latest record per key at its offset and never invents or reorders records', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 300 }), (steps, compactionKeysMax, compactionStepBytesMax) => {
        const fs = new MemoryFileSystem({ seed: 11 });
        const clock = new FakeClock(1_000_000);
        const config = { cleanupPolicy: 'compact' as const, deleteRetentionMs: 2000, segmentBytes: 400, compactionKeysMax, compactionStepBytesMax };
        const dir = '/data/compacted-0';
        let log = PartitionLog.open({ fs, dir, clock, config });
        const model: ModelRecord[] = [];
        let counter = 0;
        for (const current of steps) {
          if (current.kind === 'append') {
            const records = current.records.map(({ key, tombstone }) => ({ key: `k${key}`, value: tombstone ? null : `v${counter++}`, timestamp: clock.now() }));
            const { baseOffset } = log.append(batchOf(records));
            for (const [i, record] of records.entries()) model.push({ offset: baseOffset + i, ...record });
          } else if (current.kind === 'roll') {
            log.roll();
          } else if (current.kind === 'advance') {
            clock.advance(current.ms);
          } else if (current.kind === 'compact') {
            // A pass left under way by a 'stepped' step finishes first (it covers older segments only).
            if (log.compactionInProgress) log.compact();
            // Repeated passes finish even when the key map is small; then below the active segment
            // every key appears once.
            for (let pass = 0; pass < 20 && log.compact().complete === false; pass++);
            const activeBase = log.segmentBaseOffsets()[log.segmentCount - 1];
            const closedKeys = readAll(log, 0).filter((record) => record.offset < activeBase).map((record) => record.key);
            expect(new Set(closedKeys).size).toBe(closedKeys.length);
          } else if (current.kind === 'stepped') {
            for (const action of current.actions) {
              if (action.kind === 'step') log.compactionStep();
              else if (action.kind === 'roll') log.roll();
              else {
                const record = { key: `k${action.key}`, value: action.tombstone ? null : `v${counter++}`, timestamp: clock.now() };
                const { baseOffset } = log.append(batchOf([record]));
                model.push({ offset: baseOffset, ...record });
              }
              checkAgainstModel(log, model, clock.now() - config.deleteRetentionMs);
            }
            if (current.crash) {
              // A crash between two steps: the pass's `.cleaned` files are discarded on open.
              log.flush();
              fs.crash({ keepRandomPrefix: true });
              log = PartitionLog.open({ fs, dir, clock, config });
              expect(fs.readdir(dir).filter((name) => name.endsWith('.cleaned'))).toEqual([]);
            }
          } else {
            log.flush();
            fs.failNext(current.operation, undefined, { afterCalls: current.afterCalls });
            try {
              log.compact();
            } catch (error) {
              expect((error as { code?: string }).code).toBe('EIO');
            }
            fs.crash({ keepRandomPrefix: true });
            log = PartitionLog.open({ fs, dir, clock, config });
          }
          checkAgainstModel(log, model, clock.now() - config.deleteRetentionMs);
        }
        log.close();
      }),
      { numRuns: 120 },
    );
  });
});

function checkAgainstModel(log: PartitionLog, model: ModelRecord[], horizonMs: number): void {
  const byOffset = new Map(model.map((record) => [record.offset, record]));
  const present = readAll(log, 0);
  let previous = -1;
  for (const record of present) {
    expect(record.offset).toBeGreaterThan(previous);
    previous = record.offset;
    const original = byOffset.get(record.offset);
    expect(original).toBeDefined();
    expect([record.key, record.value]).toEqual([original?.key, original?.value]);
  }
  expect(log.logEndOffset).toBe(model.length === 0 ? 0 : model[model.length - 1].offset + 1);
  const presentOffsets = new Set(present.map((record) => record.offset));
  const latest = new Map<string, ModelRecord>();
  for (const record of model) latest.set(record.key, record);
  for (const record of latest.values()) {
    const mayBeGone = record.value === null && record.timestamp < horizonMs;
    if (!mayBeGone) expect(presentOffsets.has(record.offset)).toBe(true);
  }
}
