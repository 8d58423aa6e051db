/**
 * The group coordinator's load state machine per `__consumer_offsets` partition, against a
 * reference model over random histories: not owned ─onElection→ loading ─done→ owned, loading
 * ─failed→ not owned, loading or owned ─onResignation→ not owned. While loading, a group's
 * requests answer COORDINATOR_LOAD_IN_PROGRESS and ListGroups leaves it out; a load that finishes
 * after its partition was resigned (or re-elected) changes nothing; a loaded group is forgotten
 * when its partition goes.
 */
import { GroupCoordinator, type OffsetStore } from '@gregor/broker';
import { FakeClock } from '@gregor/log';
import { ErrorCode } from '@gregor/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';

const PARTITIONS = 2;
const groupOf = (partition: number) => `group-${partition}`;

function coordinator(): GroupCoordinator {
  const store: OffsetStore = {
    storeOffsets: async () => {},
    storeGroup: async () => {},
    storeTombstones: async () => {},
    partitionExists: () => true,
    partitionFor: (groupId) => Number(groupId.slice('group-'.length)),
  };
  const config = { groupMinSessionTimeoutMs: 6000, groupMaxSessionTimeoutMs: 1_800_000, groupInitialRebalanceDelayMs: 0, groupMaxSize: 100, offsetMetadataMaxBytes: 4096 };
  return new GroupCoordinator(new FakeClock(0), () => 0.5, config, store);
}

interface PendingLoad {
  resolve: () => void;
  reject: (error: Error) => void;
  isCurrent: () => boolean;
  done: Promise<void> | void;
}

type Step =
  | { kind: 'elect'; partition: number; chunked: boolean }
  | { kind: 'finish'; partition: number }
  | { kind: 'fail'; partition: number }
  | { kind: 'resign'; partition: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('elect' as const), partition: fc.nat(PARTITIONS - 1), chunked: fc.boolean() }),
  fc.record({ kind: fc.constant('finish' as const), partition: fc.nat(PARTITIONS - 1) }),
  fc.record({ kind: fc.constant('fail' as const), partition: fc.nat(PARTITIONS - 1) }),
  fc.record({ kind: fc.constant('resign' as const), partition: fc.nat(PARTITIONS - 1) }),
);

describe('the group coordinator loading __consumer_offsets partitions', () => {
  it('follows the reference model: COORDINATOR_LOAD_IN_PROGRESS while loading, served once loaded, NOT_COORDINATOR after a resignation or a failed load', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const groups = coordinator();
        const model = new Map<number, 'none' | 'loading' | 'owned'>(Array.from({ length: PARTITIONS }, (_, p) => [p, 'none']));
        // Every load ever started (a stale one may still be finished or failed by the history).
        const pending = new Map<number, PendingLoad[]>();
        for (const s of steps) {
          const loads = pending.get(s.partition) ?? [];
          pending.set(s.partition, loads);
          if (s.kind === 'elect') {
            const state = model.get(s.partition);
            let started = false;
            const done = groups.onElection(s.partition, (isCurrent) => {
              started = true;
              // What the partition's log holds: the group with one committed offset.
              groups.loadOffset(groupOf(s.partition), 't', 0, { offset: 42, leaderEpoch: 0, metadata: '', commitTimestamp: 0 });
              if (!s.chunked) return;
              return new Promise<void>((resolve, reject) => loads.push({ resolve, reject, isCurrent, done: undefined }));
            });
            // Loads only from not owned; an owned or loading partition is not loaded again.
            expect(started).toBe(state === 'none');
            if (state === 'none') {
              model.set(s.partition, s.chunked ? 'loading' : 'owned');
              const last = loads.at(-1);
              if (s.chunked && last !== undefined) {
                last.done = done;
                (done as Promise<void>).catch(() => {});
              } else expect(done).toBeUndefined();
            }
          } else if (s.kind === 'finish' || s.kind === 'fail') {
            const load = loads.shift();
            if (load === undefined) continue;
            const current = load.isCurrent();
            expect(current).toBe(model.get(s.partition) === 'loading' && loads.every((other) => !other.isCurrent()));
            if (s.kind === 'finish') {
              load.resolve();
              await load.done;
              if (current) model.set(s.partition, 'owned');
            } else {
              load.reject(new Error('the log went away'));
              await expect(load.done).rejects.toThrow('the log went away');
              if (current) model.set(s.partition, 'none');
            }
          } else {
            groups.onResignation(s.partition);
            model.set(s.partition, 'none');
            for (const load of loads) expect(load.isCurrent()).toBe(false);
          }
          // The coordinator agrees with the model on every partition.
          for (const [partition, state] of model) {
            const expected = state === 'owned' ? ErrorCode.NONE : state === 'loading' ? ErrorCode.COORDINATOR_LOAD_IN_PROGRESS : ErrorCode.NOT_COORDINATOR;
            expect(groups.groupStatus(groupOf(partition))).toBe(expected);
            expect(groups.isLoadingPartition(partition)).toBe(state === 'loading');
            expect(groups.ownsPartition(partition)).toBe(state === 'owned');
            const offsets = groups.fetchOffsets(groupOf(partition), null);
            // A group is known only while its partition is loading or owned, with what the load gave it.
            expect(offsets.get('t')?.get(0)?.offset).toBe(state === 'none' ? undefined : 42);
          }
          expect(groups.isLoading).toBe([...model.values()].includes('loading'));
          expect(groups.listGroups().map((group) => group.groupId).sort()).toEqual([...model].filter(([, state]) => state === 'owned').map(([p]) => groupOf(p)).sort());
        }
        groups.close();
        for (let partition = 0; partition < PARTITIONS; partition++) {
          expect(groups.groupStatus(groupOf(partition))).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
          for (const load of pending.get(partition) ?? []) expect(load.isCurrent()).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
