import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode, encodeConsumerProtocolSubscription } from '@gregor/protocol';
import type { Body } from '@gregor/broker';
import { createTopic, openTestBroker, type TestBroker } from './helpers.js';

let test: TestBroker;
afterEach(async () => {
  await test.broker.close();
});

async function commit(groupId: string, topic: string, partition: number, offset: number, generationId = -1, memberId = ''): Promise<number> {
  const response = (await test.broker.handle(ApiKey.OffsetCommit, 8, {
    groupId, generationIdOrMemberEpoch: generationId, memberId, groupInstanceId: null,
    topics: [{ name: topic, partitions: [{ partitionIndex: partition, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  })) as Body;
  return response.topics[0].partitions[0].errorCode;
}

async function committed(groupId: string, topic: string, partitions: number[]): Promise<number[]> {
  const response = (await test.broker.handle(ApiKey.OffsetFetch, 7, { groupId, topics: [{ name: topic, partitionIndexes: partitions }], requireStable: false })) as Body;
  return response.topics[0].partitions.map((p: Body) => p.committedOffset);
}

/** One consumer-protocol member subscribed to `topics`, through a whole join and sync. */
async function joinConsumer(groupId: string, topics: string[], protocolType = 'consumer'): Promise<{ memberId: string; generationId: number }> {
  const metadata = protocolType === 'consumer' ? encodeConsumerProtocolSubscription({ topics, userData: null, ownedPartitions: [] }) : Buffer.from('opaque');
  const body = (memberId: string) => ({ groupId, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId, groupInstanceId: null, protocolType, protocols: [{ name: 'range', metadata }], reason: null });
  let joined = (await test.broker.handle(ApiKey.JoinGroup, 5, body(''))) as Body;
  if (joined.errorCode === ErrorCode.MEMBER_ID_REQUIRED) joined = (await test.broker.handle(ApiKey.JoinGroup, 5, body(joined.memberId))) as Body;
  expect(joined.errorCode).toBe(ErrorCode.NONE);
  await test.broker.handle(ApiKey.SyncGroup, 5, { groupId, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null, protocolType, protocolName: 'range', assignments: [] });
  return { memberId: joined.memberId, generationId: joined.generationId };
}

async function leave(groupId: string, memberId: string): Promise<void> {
  await test.broker.handle(ApiKey.LeaveGroup, 5, { groupId, members: [{ memberId, groupInstanceId: null, reason: null }] });
}

async function deleteGroups(names: string[], version = 2): Promise<Body[]> {
  return ((await test.broker.handle(ApiKey.DeleteGroups, version, { groupsNames: names })) as Body).results;
}

async function deleteOffsets(groupId: string, topic: string, partitions: number[]): Promise<Body> {
  return (await test.broker.handle(ApiKey.OffsetDelete, 0, { groupId, topics: [{ name: topic, partitions: partitions.map((partitionIndex) => ({ partitionIndex })) }] })) as Body;
}

describe('DeleteGroups', () => {
  it('deletes an empty group with its offsets, also across a reopen, and reports each group\'s error', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 2);
    expect(await commit('idle', 't', 0, 5)).toBe(ErrorCode.NONE);
    const member = await joinConsumer('busy', ['t']);
    expect(await deleteGroups(['idle', 'busy', 'missing', ''])).toEqual([
      { groupId: 'idle', errorCode: ErrorCode.NONE },
      { groupId: 'busy', errorCode: ErrorCode.NON_EMPTY_GROUP },
      { groupId: 'missing', errorCode: ErrorCode.GROUP_ID_NOT_FOUND },
      { groupId: '', errorCode: ErrorCode.INVALID_GROUP_ID },
    ]);
    expect(await committed('idle', 't', [0])).toEqual([-1]);
    expect(await deleteGroups(['idle'], 0)).toEqual([{ groupId: 'idle', errorCode: ErrorCode.GROUP_ID_NOT_FOUND }]);
    await leave('busy', member.memberId);
    expect(await deleteGroups(['busy'], 1)).toEqual([{ groupId: 'busy', errorCode: ErrorCode.NONE }]);
    await test.reopen();
    const listed = (await test.broker.handle(ApiKey.ListGroups, 4, { statesFilter: [] })) as Body;
    expect(listed.groups).toEqual([]);
    expect(await committed('idle', 't', [0])).toEqual([-1]);
  });
});

describe('OffsetDelete', () => {
  it('removes offsets of topics the group does not consume and refuses a subscribed topic', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'used', 1);
    await createTopic(test.broker, 'old', 2);
    const member = await joinConsumer('g', ['used']);
    expect(await commit('g', 'used', 0, 3, member.generationId, member.memberId)).toBe(ErrorCode.NONE);
    expect(await commit('g', 'old', 1, 9, member.generationId, member.memberId)).toBe(ErrorCode.NONE);
    expect(await deleteOffsets('g', 'old', [0, 1])).toMatchObject({ errorCode: ErrorCode.NONE, topics: [{ name: 'old', partitions: [{ partitionIndex: 0, errorCode: 0 }, { partitionIndex: 1, errorCode: 0 }] }] });
    expect(await deleteOffsets('g', 'used', [0])).toMatchObject({ errorCode: ErrorCode.NONE, topics: [{ name: 'used', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.GROUP_SUBSCRIBED_TO_TOPIC }] }] });
    expect(await committed('g', 'old', [1])).toEqual([-1]);
    expect(await committed('g', 'used', [0])).toEqual([3]);
    await leave('g', member.memberId);
    expect((await deleteOffsets('g', 'used', [0])).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    await test.reopen();
    expect(await committed('g', 'used', [0])).toEqual([-1]);
    expect(await committed('g', 'old', [1])).toEqual([-1]);
  });

  it('answers GROUP_ID_NOT_FOUND for an unknown group and NON_EMPTY_GROUP for a non-consumer group with members', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1);
    expect((await deleteOffsets('nobody', 't', [0])).errorCode).toBe(ErrorCode.GROUP_ID_NOT_FOUND);
    await joinConsumer('connect', [], 'connect');
    expect(await deleteOffsets('connect', 't', [0])).toMatchObject({ errorCode: ErrorCode.NON_EMPTY_GROUP, topics: [] });
  });
});

describe('ListOffsets v0', () => {
  it('answers the offsets before a time, newest first, capped at maxNumOffsets', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'v0', 1, [{ name: 'segment.bytes', value: '200' }]);
    const { produce, batch } = await import('./helpers.js');
    for (let index = 0; index < 4; index++) await produce(test.broker, 'v0', 0, batch([`value-${index}`.padEnd(80, '.')], { timestamp: 1000 * (index + 1) }));
    const bases = test.broker.partition('v0', 0)!.log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(2);
    const list = async (timestamp: number, maxNumOffsets: number, replicaId = -1) => {
      const response = (await test.broker.handle(ApiKey.ListOffsets, 0, { replicaId, topics: [{ name: 'v0', partitions: [{ partitionIndex: 0, timestamp, maxNumOffsets }] }] })) as Body;
      return response.topics[0].partitions[0];
    };
    expect(await list(-1, 1)).toEqual({ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [4] });
    expect(await list(-2, 5)).toEqual({ partitionIndex: 0, errorCode: 0, oldStyleOffsets: [0] });
    expect((await list(-1, 100)).oldStyleOffsets).toEqual([4, ...[...bases].reverse()]);
    // Segments whose newest record is at or before 2000 ms: the first two.
    expect((await list(2000, 100)).oldStyleOffsets).toEqual([bases[1], bases[0]]);
    expect((await list(500, 100)).oldStyleOffsets).toEqual([]);
    expect((await list(-3, 1)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    const missing = (await test.broker.handle(ApiKey.ListOffsets, 0, { replicaId: -1, topics: [{ name: 'nope', partitions: [{ partitionIndex: 0, timestamp: -1, maxNumOffsets: 1 }] }] })) as Body;
    expect(missing.topics[0].partitions[0].errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
  });
});
