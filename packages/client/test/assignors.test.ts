import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type AssignorMember, cooperativeStickyAssignor, type GroupAssignment, rangeAssignor, roundRobinAssignor } from '../src/assignors.js';
import type { TopicPartitions } from '../src/consumer-protocol.js';

const subscription = (topics: string[], owned: TopicPartitions[] = [], generationId = -1) => ({ topics, userData: null, ownedPartitions: owned, generationId, rackId: null });

const flatten = (assignment: GroupAssignment) => {
  const all: string[] = [];
  for (const [memberId, list] of assignment) for (const { topic, partitions } of list) for (const p of partitions) all.push(`${memberId}|${topic}|${p}`);
  return all;
};
const partitionsOf = (assignment: GroupAssignment) => flatten(assignment).map((s) => s.slice(s.indexOf('|') + 1));
const countOf = (assignment: GroupAssignment, memberId: string) => (assignment.get(memberId) ?? []).reduce((n, t) => n + t.partitions.length, 0);
const allPartitions = (topics: Map<string, number>) => [...topics].flatMap(([t, n]) => Array.from({ length: n }, (_, p) => `${t}|${p}`));

const groupArbitrary = fc.record({
  memberCount: fc.integer({ min: 1, max: 8 }),
  topics: fc.array(fc.integer({ min: 1, max: 12 }), { minLength: 1, maxLength: 4 }),
});
const build = ({ memberCount, topics }: { memberCount: number; topics: number[] }) => {
  const partitionsPerTopic = new Map(topics.map((n, i) => [`topic-${i}`, n]));
  const members: AssignorMember[] = Array.from({ length: memberCount }, (_, i) => ({ memberId: `m-${i}`, subscription: subscription([...partitionsPerTopic.keys()]) }));
  return { members, partitionsPerTopic };
};

describe.each([rangeAssignor, roundRobinAssignor, cooperativeStickyAssignor])('$name assignor', (assignor) => {
  it('gives every partition to exactly one member', () => {
    fc.assert(
      fc.property(groupArbitrary, (group) => {
        const input = build(group);
        const assigned = partitionsOf(assignor.assign(input));
        expect(new Set(assigned).size).toBe(assigned.length);
        expect(assigned.sort()).toEqual(allPartitions(input.partitionsPerTopic).sort());
      }),
    );
  });

  it('names every member in the result, even those given nothing', () => {
    const input = build({ memberCount: 5, topics: [2] });
    expect([...assignor.assign(input).keys()].sort()).toEqual(input.members.map((m) => m.memberId).sort());
  });

  it('only assigns topics a member subscribes to', () => {
    const members = [
      { memberId: 'a', subscription: subscription(['x']) },
      { memberId: 'b', subscription: subscription(['y']) },
    ];
    const result = assignor.assign({ members, partitionsPerTopic: new Map([['x', 3], ['y', 2]]) });
    expect(result.get('a')).toEqual([{ topic: 'x', partitions: [0, 1, 2] }]);
    expect(result.get('b')).toEqual([{ topic: 'y', partitions: [0, 1] }]);
  });
});

describe.each([roundRobinAssignor, cooperativeStickyAssignor])('$name balance', (assignor) => {
  it('keeps member loads within one of each other when all subscribe to the same topics', () => {
    fc.assert(
      fc.property(groupArbitrary, (group) => {
        const input = build(group);
        const result = assignor.assign(input);
        const counts = input.members.map((m) => countOf(result, m.memberId));
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
      }),
    );
  });
});

describe('range assignor', () => {
  it('gives the first members one extra partition of a topic that does not divide evenly', () => {
    const input = build({ memberCount: 3, topics: [10] });
    const result = rangeAssignor.assign(input);
    expect(result.get('m-0')).toEqual([{ topic: 'topic-0', partitions: [0, 1, 2, 3] }]);
    expect(result.get('m-1')).toEqual([{ topic: 'topic-0', partitions: [4, 5, 6] }]);
    expect(result.get('m-2')).toEqual([{ topic: 'topic-0', partitions: [7, 8, 9] }]);
  });
});

/** Runs KIP-429's two phases: assign with ownership, revoke what was lost, rejoin, assign again. */
function cooperativeRounds(members: { memberId: string; owned: TopicPartitions[] }[], partitionsPerTopic: Map<string, number>) {
  const toMembers = (owned: Map<string, TopicPartitions[]>) =>
    members.map((m) => ({ memberId: m.memberId, subscription: subscription([...partitionsPerTopic.keys()], owned.get(m.memberId) ?? [], 1) }));
  const first = cooperativeStickyAssignor.assign({ members: toMembers(new Map(members.map((m) => [m.memberId, m.owned]))), partitionsPerTopic });
  const second = cooperativeStickyAssignor.assign({ members: toMembers(first), partitionsPerTopic });
  return { first, second };
}

describe('cooperative-sticky assignor', () => {
  const ownershipArbitrary = fc
    .record({ memberCount: fc.integer({ min: 1, max: 7 }), partitions: fc.integer({ min: 1, max: 20 }), seed: fc.array(fc.integer({ min: -1, max: 6 }), { minLength: 20, maxLength: 20 }) })
    .map(({ memberCount, partitions, seed }) => {
      // Each partition owned by at most one member (or none), as after a previous generation.
      const owned = new Map<string, number[]>();
      for (let p = 0; p < partitions; p++) {
        const owner = seed[p];
        if (owner < 0 || owner >= memberCount) continue;
        const list = owned.get(`m-${owner}`) ?? [];
        list.push(p);
        owned.set(`m-${owner}`, list);
      }
      const members = Array.from({ length: memberCount }, (_, i) => ({ memberId: `m-${i}`, owned: owned.has(`m-${i}`) ? [{ topic: 't', partitions: owned.get(`m-${i}`)! }] : [] }));
      return { members, partitionsPerTopic: new Map([['t', partitions]]) };
    });

  it('never gives a member a partition another member still owns (two-phase revocation)', () => {
    fc.assert(
      fc.property(ownershipArbitrary, ({ members, partitionsPerTopic }) => {
        const { first } = cooperativeRounds(members, partitionsPerTopic);
        const ownerOf = new Map(members.flatMap((m) => m.owned.flatMap((t) => t.partitions.map((p) => [p, m.memberId] as const))));
        for (const entry of flatten(first)) {
          const [memberId, , p] = entry.split('|');
          const owner = ownerOf.get(Number(p));
          expect(owner === undefined || owner === memberId).toBe(true);
        }
      }),
    );
  });

  it('reaches a complete balanced assignment in the second round with nothing left to revoke', () => {
    fc.assert(
      fc.property(ownershipArbitrary, ({ members, partitionsPerTopic }) => {
        const { first, second } = cooperativeRounds(members, partitionsPerTopic);
        expect(partitionsOf(second).sort()).toEqual(allPartitions(partitionsPerTopic).sort());
        const counts = members.map((m) => countOf(second, m.memberId));
        expect(Math.max(...counts) - Math.min(...counts)).toBeLessThanOrEqual(1);
        // Round two only adds: everything a member held after round one it still holds.
        for (const entry of flatten(first)) expect(flatten(second)).toContain(entry);
      }),
    );
  });

  it('keeps every owned partition a member may keep under balance', () => {
    fc.assert(
      fc.property(ownershipArbitrary, ({ members, partitionsPerTopic }) => {
        const { second } = cooperativeRounds(members, partitionsPerTopic);
        const floor = Math.floor(partitionsPerTopic.get('t')! / members.length);
        for (const m of members) {
          const owned = m.owned.flatMap((t) => t.partitions);
          const kept = owned.filter((p) => second.get(m.memberId)![0]?.partitions.includes(p)).length;
          expect(kept).toBeGreaterThanOrEqual(Math.min(owned.length, floor));
        }
      }),
    );
  });

  it('moves nothing when a balanced group rejoins unchanged', () => {
    const partitionsPerTopic = new Map([['t', 10]]);
    const members = [
      { memberId: 'a', owned: [{ topic: 't', partitions: [0, 1, 2, 3] }] },
      { memberId: 'b', owned: [{ topic: 't', partitions: [4, 5, 6] }] },
      { memberId: 'c', owned: [{ topic: 't', partitions: [7, 8, 9] }] },
    ];
    const { first } = cooperativeRounds(members, partitionsPerTopic);
    for (const m of members) expect(first.get(m.memberId)).toEqual(m.owned);
  });
});
