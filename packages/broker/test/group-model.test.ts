/**
 * The group coordinator against a small model: random sequences of members joining, leaving,
 * heartbeating or going silent across fake time, with a "stabilize" step in which every live
 * member rejoins and syncs as a client would. The model is just the set of live members and their
 * last heartbeat; the coordinator must agree on who is in the group, answer heartbeats as the
 * model predicts, keep generations increasing, and deliver the leader's assignment to everyone.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Body } from '@gregor/broker';
import { openTestBroker, type TestBroker } from './helpers.js';

const GROUP = 'model';
const SESSION_MS = 10_000;
/** Longer than any run, so a rebalance never times out while the model waits between steps. */
const REBALANCE_MS = 3_600_000;

type Operation =
  | { kind: 'add' }
  | { kind: 'leave'; pick: number }
  | { kind: 'advance'; ms: number; silentMask: number }
  | { kind: 'stabilize' };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  fc.constant<Operation>({ kind: 'add' }),
  fc.record({ kind: fc.constant('leave' as const), pick: fc.nat(7) }),
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 1000, max: 6000 }), silentMask: fc.nat(255) }),
  fc.constant<Operation>({ kind: 'stabilize' }),
);

interface Model {
  /** memberId → last time the coordinator heard from it. */
  live: Map<string, number>;
  /** Members added but not yet joined (they join in the next stabilize). */
  waiting: number;
  rebalancePending: boolean;
  generation: number;
  removed: Set<string>;
}

function joinBody(memberId: string): Body {
  return { groupId: GROUP, sessionTimeoutMs: SESSION_MS, rebalanceTimeoutMs: REBALANCE_MS, memberId, protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.from('m') }] };
}

async function heartbeat(test: TestBroker, memberId: string, generationId: number): Promise<number> {
  return ((await test.broker.handle(ApiKey.Heartbeat, 2, { groupId: GROUP, generationId, memberId })) as Body).errorCode;
}

/** Parked calls that never complete would hang the run; fail it instead, with what was waiting. */
function withDeadline<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} still parked after 2 s`)), 2000);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/** One consumer's join-then-sync loop, as a client runs it until it holds an assignment. */
async function runMember(test: TestBroker, startId: string): Promise<{ memberId: string; generation: number; assignment: string }> {
  let memberId = startId;
  for (let attempt = 0; attempt < 10; attempt++) {
    const joined = (await test.broker.handle(ApiKey.JoinGroup, 3, joinBody(memberId), { clientId: 'm' })) as Body;
    expect(joined.errorCode).toBe(ErrorCode.NONE);
    memberId = joined.memberId;
    const assignments = joined.members.map((member: Body) => ({ memberId: member.memberId, assignment: Buffer.from(`a:${member.memberId}`) }));
    const synced = (await test.broker.handle(ApiKey.SyncGroup, 2, { groupId: GROUP, generationId: joined.generationId, memberId, assignments })) as Body;
    if (synced.errorCode === ErrorCode.REBALANCE_IN_PROGRESS) continue;
    expect(synced.errorCode).toBe(ErrorCode.NONE);
    return { memberId, generation: joined.generationId, assignment: synced.assignment.toString() };
  }
  throw new Error(`member ${memberId} never completed a rebalance`);
}

/** Every live and waiting member runs its client loop until all hold the same, newest generation. */
async function stabilize(test: TestBroker, model: Model): Promise<void> {
  if (!model.rebalancePending && model.waiting === 0) return;
  const starts = [...Array.from({ length: model.waiting }, () => ''), ...model.live.keys()];
  model.waiting = 0;
  model.rebalancePending = false;
  if (starts.length === 0) return;
  let results = await withDeadline(Promise.all(starts.map((id) => runMember(test, id))), 'members');
  // Members that finished an older generation learn of the newer one by heartbeat and rejoin.
  for (let round = 0; round < 5; round++) {
    const newest = Math.max(...results.map((result) => result.generation));
    const behind = results.filter((result) => result.generation < newest);
    if (behind.length === 0) break;
    const redone = await withDeadline(Promise.all(behind.map((result) => runMember(test, result.memberId))), 'rejoins');
    results = [...results.filter((result) => result.generation === newest), ...redone];
  }
  const generation = results[0].generation;
  expect(results.every((result) => result.generation === generation)).toBe(true);
  expect(generation).toBeGreaterThan(model.generation);
  for (const result of results) expect(result.assignment).toBe(`a:${result.memberId}`);
  model.generation = generation;
  const now = test.clock.now();
  model.live = new Map(results.map((result) => [result.memberId, now]));
}

async function apply(test: TestBroker, model: Model, op: Operation): Promise<void> {
  if (op.kind === 'add') {
    model.waiting += 1;
  } else if (op.kind === 'leave') {
    const ids = [...model.live.keys()];
    if (ids.length === 0) return;
    const memberId = ids[op.pick % ids.length];
    const response = (await test.broker.handle(ApiKey.LeaveGroup, 1, { groupId: GROUP, memberId })) as Body;
    expect(response.errorCode).toBe(ErrorCode.NONE);
    model.live.delete(memberId);
    model.removed.add(memberId);
    model.rebalancePending = true;
  } else if (op.kind === 'advance') {
    test.clock.advance(op.ms);
    const now = test.clock.now();
    for (const [memberId, lastSeen] of [...model.live]) {
      if (now - lastSeen >= SESSION_MS) {
        model.live.delete(memberId);
        model.removed.add(memberId);
        model.rebalancePending = true;
      }
    }
    let bit = 0;
    for (const memberId of model.live.keys()) {
      if ((op.silentMask >> bit++ & 1) === 1) continue;
      const expected = model.rebalancePending ? ErrorCode.REBALANCE_IN_PROGRESS : ErrorCode.NONE;
      expect(await heartbeat(test, memberId, model.generation)).toBe(expected);
      model.live.set(memberId, now);
    }
  } else {
    await stabilize(test, model);
  }
  for (const memberId of model.removed) {
    if (!model.live.has(memberId)) expect(await heartbeat(test, memberId, model.generation)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  }
}

describe('group coordinator against a model', () => {
  it('agrees on members, heartbeat answers and generations over random runs', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(operation, { minLength: 1, maxLength: 20 }), async (operations) => {
        const test = await openTestBroker();
        try {
          const model: Model = { live: new Map(), waiting: 0, rebalancePending: false, generation: 0, removed: new Set() };
          for (const op of operations) await apply(test, model, op);
          await stabilize(test, model);
          const described = ((await test.broker.handle(ApiKey.DescribeGroups, 0, { groups: [GROUP] })) as Body).groups[0];
          const expectedState = model.live.size > 0 ? 'Stable' : described.groupState === 'Dead' ? 'Dead' : 'Empty';
          expect(described.groupState).toBe(expectedState);
          expect(described.members.map((member: Body) => member.memberId).sort()).toEqual([...model.live.keys()].sort());
        } finally {
          await test.broker.close();
        }
      }),
      { numRuns: 200 },
    );
  });
});
