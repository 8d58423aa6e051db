import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Body } from '@gregor/broker';
import { createTopic, openTestBroker, type TestBroker } from './helpers.js';

const GROUP = 'g';
const SESSION_MS = 10_000;

function joinBody(memberId: string, options: { groupInstanceId?: string | null; metadata?: string; protocols?: string[] } = {}): Body {
  return {
    groupId: GROUP,
    sessionTimeoutMs: SESSION_MS,
    rebalanceTimeoutMs: 30_000,
    memberId,
    groupInstanceId: options.groupInstanceId ?? null,
    protocolType: 'consumer',
    protocols: (options.protocols ?? ['range']).map((name) => ({ name, metadata: Buffer.from(options.metadata ?? `meta-${memberId}`) })),
    reason: null,
  };
}

/** JoinGroup as a v5 client does: an unknown member first gets MEMBER_ID_REQUIRED, then rejoins with that id. */
async function join(test: TestBroker, memberId: string, options: Parameters<typeof joinBody>[1] & { version?: number; clientId?: string } = {}): Promise<Body> {
  const context = { clientId: options.clientId ?? 'client', clientHost: '/127.0.0.1' };
  const response = (await test.broker.handle(ApiKey.JoinGroup, options.version ?? 5, joinBody(memberId, options), context)) as Body;
  if (response.errorCode !== ErrorCode.MEMBER_ID_REQUIRED || options.version !== undefined) return response;
  return test.broker.handle(ApiKey.JoinGroup, 5, joinBody(response.memberId, options), context) as Promise<Body>;
}

function sync(test: TestBroker, memberId: string, generationId: number, assignments: { memberId: string; assignment: Buffer }[] = [], groupInstanceId: string | null = null): Promise<Body> {
  return test.broker.handle(ApiKey.SyncGroup, 5, { groupId: GROUP, generationId, memberId, groupInstanceId, protocolType: 'consumer', protocolName: 'range', assignments }) as Promise<Body>;
}

async function heartbeat(test: TestBroker, memberId: string, generationId: number, groupInstanceId: string | null = null): Promise<number> {
  return ((await test.broker.handle(ApiKey.Heartbeat, 4, { groupId: GROUP, generationId, memberId, groupInstanceId })) as Body).errorCode;
}

async function describeGroup(test: TestBroker): Promise<Body> {
  return ((await test.broker.handle(ApiKey.DescribeGroups, 5, { groups: [GROUP], includeAuthorizedOperations: false })) as Body).groups[0];
}

/**
 * Joins `count` dynamic members into one generation: the initial rebalance delay (3 s) gathers
 * them, and restarts once because members joined during the first delay (Kafka's InitialDelayedJoin).
 */
async function formGroup(test: TestBroker, count: number): Promise<Body[]> {
  const joins = Array.from({ length: count }, (_, index) => join(test, '', { clientId: `c${index}` }));
  await settle();
  test.clock.advance(3000);
  await settle();
  test.clock.advance(3000);
  return Promise.all(joins);
}

async function settle(): Promise<void> {
  await new Promise((resolve) => setImmediate(resolve));
}

describe('group coordinator', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('asks a v4+ joiner for a member id first (MEMBER_ID_REQUIRED)', async () => {
    test = await openTestBroker();
    const first = await join(test, '', { version: 9, clientId: 'app' });
    expect(first.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    expect(first.memberId).toMatch(/^app-[0-9a-f-]{36}$/);
    const second = await join(test, first.memberId, { version: 9 });
    expect(second).toMatchObject({ errorCode: 0, generationId: 1, leader: first.memberId, memberId: first.memberId, protocolName: 'range' });
  });

  it('three members join, the leader gets everyone\'s metadata, sync distributes its assignment', async () => {
    test = await openTestBroker({ groupInitialRebalanceDelayMs: 3000 });
    const joined = await formGroup(test, 3);
    const leader = joined[0].leader;
    expect(new Set(joined.map((response) => response.generationId))).toEqual(new Set([1]));
    expect(joined.every((response) => response.errorCode === 0 && response.leader === leader)).toBe(true);
    const leaderResponse = joined.find((response) => response.memberId === leader) as Body;
    expect(leaderResponse.members.map((member: Body) => member.memberId).sort()).toEqual(joined.map((response) => response.memberId).sort());
    for (const response of joined) if (response.memberId !== leader) expect(response.members).toEqual([]);
    const followers = joined.filter((response) => response.memberId !== leader);
    const pendingSyncs = followers.map((response) => sync(test, response.memberId, 1));
    expect((await describeGroup(test)).groupState).toBe('CompletingRebalance');
    const assignments = joined.map((response) => ({ memberId: response.memberId, assignment: Buffer.from(`for-${response.memberId}`) }));
    const leaderSync = await sync(test, leader, 1, assignments);
    expect(leaderSync.assignment.toString()).toBe(`for-${leader}`);
    for (const [index, pending] of pendingSyncs.entries()) expect((await pending).assignment.toString()).toBe(`for-${followers[index].memberId}`);
    const described = await describeGroup(test);
    expect(described).toMatchObject({ groupState: 'Stable', protocolType: 'consumer', protocolData: 'range' });
    expect(described.members).toHaveLength(3);
    expect(described.members[0].memberAssignment.toString()).toMatch(/^for-/);
  });

  it('answers a leader that asks JoinGroup again while the group completes its rebalance with the members again', async () => {
    // The leader's first answer was lost: without the members it would assign nothing to anyone.
    test = await openTestBroker({ groupInitialRebalanceDelayMs: 3000 });
    const joined = await formGroup(test, 2);
    const leader = joined[0].leader;
    const follower = joined.find((response) => response.memberId !== leader) as Body;
    expect((await describeGroup(test)).groupState).toBe('CompletingRebalance');
    const again = await join(test, leader);
    expect(again).toMatchObject({ errorCode: 0, generationId: 1, leader, memberId: leader });
    expect(again.members.map((member: Body) => member.memberId).sort()).toEqual(joined.map((response) => response.memberId).sort());
    const followerAgain = await join(test, follower.memberId);
    expect(followerAgain).toMatchObject({ errorCode: 0, generationId: 1, leader, members: [] });
  });

  it('completes the join as soon as the last member to arrive is a new one (no wait for the rebalance timeout)', async () => {
    test = await openTestBroker({ groupInitialRebalanceDelayMs: 0 });
    const first = await join(test, '', { clientId: 'a' });
    await sync(test, first.memberId, first.generationId, [{ memberId: first.memberId, assignment: Buffer.from('a') }]);
    const pending = (await test.broker.handle(ApiKey.JoinGroup, 5, joinBody(''), { clientId: 'c', clientHost: '/127.0.0.1' })) as Body;
    expect(pending.errorCode).toBe(ErrorCode.MEMBER_ID_REQUIRED);
    const joins = [join(test, '', { clientId: 'b' }), join(test, first.memberId)];
    await settle();
    joins.push(join(test, pending.memberId, { clientId: 'c' }));
    let resolved = false;
    const all = Promise.all(joins).then((responses) => {
      resolved = true;
      return responses;
    });
    for (let i = 0; i < 5 && !resolved; i++) await settle();
    expect(resolved).toBe(true);
    expect((await all).map((response) => [response.errorCode, response.generationId])).toEqual([[0, 2], [0, 2], [0, 2]]);
  });

  it('a member leaving starts a rebalance and the next generation holds the rest', async () => {
    test = await openTestBroker({ groupInitialRebalanceDelayMs: 3000 });
    const joined = await formGroup(test, 3);
    await Promise.all([sync(test, joined[1].memberId, 1), sync(test, joined[2].memberId, 1), sync(test, joined[0].leader, 1, [])]);
    const [leaving, ...staying] = joined;
    const left = (await test.broker.handle(ApiKey.LeaveGroup, 5, { groupId: GROUP, members: [{ memberId: leaving.memberId, groupInstanceId: null, reason: null }] })) as Body;
    expect(left.members).toEqual([{ memberId: leaving.memberId, groupInstanceId: null, errorCode: 0 }]);
    expect(await heartbeat(test, staying[0].memberId, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await Promise.all(staying.map((member) => join(test, member.memberId)));
    expect(rejoined.map((response) => response.generationId)).toEqual([2, 2]);
    expect(await heartbeat(test, staying[0].memberId, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await heartbeat(test, leaving.memberId, 2)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
  });

  it('removes a member that stops heartbeating after its session timeout on the fake clock', async () => {
    test = await openTestBroker({ groupInitialRebalanceDelayMs: 3000 });
    const [a, b] = await formGroup(test, 2);
    await Promise.all([sync(test, a.memberId, 1, []), sync(test, b.memberId, 1, [])]);
    for (let step = 0; step < 3; step++) {
      test.clock.advance(SESSION_MS / 4);
      expect(await heartbeat(test, a.memberId, 1)).toBe(ErrorCode.NONE);
    }
    expect((await describeGroup(test)).groupState).toBe('Stable');
    test.clock.advance(SESSION_MS / 4);
    expect((await describeGroup(test)).groupState).toBe('PreparingRebalance');
    expect(await heartbeat(test, a.memberId, 1)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    const rejoined = await join(test, a.memberId);
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 2, leader: a.memberId });
    expect(rejoined.members.map((member: Body) => member.memberId)).toEqual([a.memberId]);
  });

  it('lets a static member rejoin under a new member id without a rebalance, fencing the old id', async () => {
    test = await openTestBroker();
    const first = await join(test, '', { groupInstanceId: 'instance-1' });
    expect(first).toMatchObject({ errorCode: 0, generationId: 1 });
    await sync(test, first.memberId, 1, [{ memberId: first.memberId, assignment: Buffer.from('mine') }], 'instance-1');
    const again = await join(test, '', { groupInstanceId: 'instance-1' });
    expect(again.errorCode).toBe(0);
    expect(again.memberId).not.toBe(first.memberId);
    expect(again.generationId).toBe(1);
    expect((await describeGroup(test)).groupState).toBe('Stable');
    expect((await sync(test, again.memberId, 1, [], 'instance-1')).assignment.toString()).toBe('mine');
    expect(await heartbeat(test, first.memberId, 1, 'instance-1')).toBe(ErrorCode.FENCED_INSTANCE_ID);
  });

  it('brings a stable group back after a reopen (GroupMetadata records) and expires members that do not return', async () => {
    test = await openTestBroker({ groupInitialRebalanceDelayMs: 3000 });
    const [a, b] = await formGroup(test, 2);
    await Promise.all([sync(test, a.memberId, 1, [{ memberId: a.memberId, assignment: Buffer.from('A') }, { memberId: b.memberId, assignment: Buffer.from('B') }]), sync(test, b.memberId, 1)]);
    await test.reopen();
    const described = await describeGroup(test);
    expect(described).toMatchObject({ groupState: 'Stable', protocolData: 'range' });
    expect(described.members.map((member: Body) => member.memberAssignment.toString()).sort()).toEqual(['A', 'B']);
    expect(await heartbeat(test, a.memberId, 1)).toBe(ErrorCode.NONE);
    expect((await sync(test, b.memberId, 1)).assignment.toString()).toBe('B');
    test.clock.advance(SESSION_MS / 2);
    expect(await heartbeat(test, b.memberId, 1)).toBe(ErrorCode.NONE);
    test.clock.advance(SESSION_MS / 2);
    expect((await describeGroup(test)).groupState).toBe('PreparingRebalance');
    const rejoined = await join(test, b.memberId);
    expect(rejoined).toMatchObject({ errorCode: 0, generationId: 2, members: [{ memberId: b.memberId }] });
  });

  it('refuses a protocol no member shares and a session timeout out of bounds', async () => {
    test = await openTestBroker();
    await join(test, '', { protocols: ['range'] });
    expect((await join(test, '', { protocols: ['roundrobin'], version: 3 })).errorCode).toBe(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const tooShort = (await test.broker.handle(ApiKey.JoinGroup, 3, { ...joinBody(''), sessionTimeoutMs: 10 }, {})) as Body;
    expect(tooShort.errorCode).toBe(ErrorCode.INVALID_SESSION_TIMEOUT);
  });

  it('lists groups with their state', async () => {
    test = await openTestBroker();
    await join(test, '');
    const listed = (await test.broker.handle(ApiKey.ListGroups, 4, { statesFilter: [] })) as Body;
    expect(listed.groups).toEqual([{ groupId: GROUP, protocolType: 'consumer', groupState: 'CompletingRebalance' }]);
    const filtered = (await test.broker.handle(ApiKey.ListGroups, 4, { statesFilter: ['Stable'] })) as Body;
    expect(filtered.groups).toEqual([]);
  });

  it('finds this broker as coordinator and creates __consumer_offsets', async () => {
    test = await openTestBroker();
    test.broker.setAdvertisedListener('h', 1);
    const v3 = (await test.broker.handle(ApiKey.FindCoordinator, 3, { key: GROUP, keyType: 0 })) as Body;
    expect(v3).toMatchObject({ errorCode: 0, nodeId: 0, host: 'h', port: 1 });
    const v4 = (await test.broker.handle(ApiKey.FindCoordinator, 4, { keyType: 0, coordinatorKeys: ['a', 'b'] })) as Body;
    expect(v4.coordinators.map((c: Body) => c.key)).toEqual(['a', 'b']);
    expect(test.broker.image.topic('__consumer_offsets')?.partitions.size).toBe(3);
  });
});

describe('committed offsets', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  const commit = async (generationId: number, memberId: string, offset: number): Promise<number> => {
    const response = (await test.broker.handle(ApiKey.OffsetCommit, 8, {
      groupId: GROUP, generationIdOrMemberEpoch: generationId, memberId, groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: 0, committedMetadata: 'm' }] }],
    })) as Body;
    return response.topics[0].partitions[0].errorCode;
  };
  const fetchCommitted = async (): Promise<Body> => {
    const response = (await test.broker.handle(ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: 't', partitionIndexes: [0, 1] }], requireStable: false })) as Body;
    return response.topics[0].partitions;
  };

  it('survive a reopen through __consumer_offsets', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 2);
    const member = await join(test, '');
    expect(await commit(1, member.memberId, 42)).toBe(ErrorCode.REBALANCE_IN_PROGRESS);
    await sync(test, member.memberId, 1);
    expect(await commit(1, member.memberId, 42)).toBe(0);
    expect(await commit(1, member.memberId, 43)).toBe(0);
    await test.reopen();
    expect(await fetchCommitted()).toEqual([
      { partitionIndex: 0, committedOffset: 43, committedLeaderEpoch: 0, metadata: 'm', errorCode: 0 },
      { partitionIndex: 1, committedOffset: -1, committedLeaderEpoch: -1, metadata: '', errorCode: 0 },
    ]);
    const all = (await test.broker.handle(ApiKey.OffsetFetch, 8, { groups: [{ groupId: GROUP, topics: null }], requireStable: false })) as Body;
    expect(all.groups[0].topics).toEqual([{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: 43, committedLeaderEpoch: 0, metadata: 'm', errorCode: 0 }] }]);
  });

  it('refuses a stale generation, an unknown member and an unknown topic', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const member = await join(test, '');
    await sync(test, member.memberId, 1);
    expect(await commit(0, member.memberId, 1)).toBe(ErrorCode.ILLEGAL_GENERATION);
    expect(await commit(1, 'stranger', 1)).toBe(ErrorCode.UNKNOWN_MEMBER_ID);
    await test.broker.handle(ApiKey.DeleteTopics, 4, { topicNames: ['t'], timeoutMs: 1 });
    expect(await commit(1, member.memberId, 1)).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });

  it('forgets the offsets of a deleted topic, also after a reopen (tombstones)', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    expect(await commit(-1, '', 7)).toBe(0);
    await test.broker.handle(ApiKey.DeleteTopics, 4, { topicNames: ['t'], timeoutMs: 1 });
    await createTopic(test.broker, 't');
    expect((await fetchCommitted())[0].committedOffset).toBe(-1);
    await test.reopen();
    expect((await fetchCommitted())[0].committedOffset).toBe(-1);
  });

  it('expires the offsets of an empty group after offsets.retention, also across a reopen', async () => {
    test = await openTestBroker({ offsetsRetentionMs: 60_000, offsetsRetentionCheckIntervalMs: 10_000 });
    await createTopic(test.broker, 't');
    expect(await commit(-1, '', 7)).toBe(0);
    test.clock.advance(50_000);
    expect((await fetchCommitted())[0].committedOffset).toBe(7);
    test.clock.advance(20_000);
    expect((await fetchCommitted())[0].committedOffset).toBe(-1);
    expect(((await test.broker.handle(ApiKey.ListGroups, 4, { statesFilter: [] })) as Body).groups).toEqual([]);
    await test.reopen();
    expect((await fetchCommitted())[0].committedOffset).toBe(-1);
  });

  it('accepts commits without group management (generation -1) for an empty group', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    expect(await commit(-1, '', 7)).toBe(0);
    expect((await fetchCommitted())[0].committedOffset).toBe(7);
  });
});
