/**
 * The group coordinator in a cluster (cluster-harness.ts): a group is served only by the leader of
 * its `__consumer_offsets` partition, an offset commit is acknowledged and a SyncGroup assignment
 * handed out once the partition's ISR holds its record, and when leadership of the partition moves the old coordinator unloads the group
 * (NOT_COORDINATOR, also for parked requests) while the new one loads it from its replica.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Body, Broker } from '@gregor/broker';
import { TestCluster } from './cluster-harness.js';

const GROUP = 'orders-app';
const OFFSETS = '__consumer_offsets';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

function call(broker: Broker, apiKey: number, version: number, body: Body): Promise<Body> {
  return cluster.settleUntil(broker.handle(apiKey, version, body, { clientId: 'app', clientHost: '/127.0.0.1' }) as Promise<Body>);
}

async function findCoordinator(broker: Broker): Promise<Body> {
  return call(broker, ApiKey.FindCoordinator, 3, { key: GROUP, keyType: 0 });
}

/** JoinGroup v3 (no MEMBER_ID_REQUIRED round); not settled, so a test can keep it parked. */
function joinRequest(broker: Broker, memberId: string): Promise<Body> {
  return broker.handle(ApiKey.JoinGroup, 3, {
    groupId: GROUP, sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 30_000, memberId, protocolType: 'consumer',
    protocols: [{ name: 'range', metadata: Buffer.from(`meta-${memberId}`) }],
  }, { clientId: 'app', clientHost: '/127.0.0.1' }) as Promise<Body>;
}

async function joinAndSync(broker: Broker): Promise<{ memberId: string; generationId: number }> {
  const joined = await cluster.settleUntil(joinRequest(broker, ''));
  expect(joined.errorCode).toBe(ErrorCode.NONE);
  const synced = await call(broker, ApiKey.SyncGroup, 3, {
    groupId: GROUP, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null,
    assignments: [{ memberId: joined.memberId, assignment: Buffer.from('all of t') }],
  });
  expect(synced.errorCode).toBe(ErrorCode.NONE);
  return { memberId: joined.memberId, generationId: joined.generationId };
}

function commitRequest(broker: Broker, member: { memberId: string; generationId: number }, offset: number): Promise<Body> {
  return broker.handle(ApiKey.OffsetCommit, 8, {
    groupId: GROUP, generationIdOrMemberEpoch: member.generationId, memberId: member.memberId, groupInstanceId: null,
    topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: -1, committedMetadata: '' }] }],
  }) as Promise<Body>;
}

/** The group's committed offset of t-0 as `broker` answers it, or its error. */
async function fetchOffset(broker: Broker): Promise<{ errorCode: number; offset: number }> {
  const response = await call(broker, ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false });
  return { errorCode: response.errorCode, offset: response.topics[0]?.partitions[0]?.committedOffset ?? -1 };
}

/** fetchOffset as a client does it: retried (every 10 ms of the fake clock, for 5 s at most) while the coordinator loads. */
async function fetchOffsetOnceLoaded(broker: Broker): Promise<{ errorCode: number; offset: number }> {
  for (let waited = 0; ; waited += 10) {
    const answer = await fetchOffset(broker);
    if (answer.errorCode !== ErrorCode.COORDINATOR_LOAD_IN_PROGRESS || waited >= 5_000) return answer;
    await cluster.settle(10, 10);
  }
}

async function describe_(broker: Broker): Promise<Body> {
  return (await call(broker, ApiKey.DescribeGroups, 5, { groups: [GROUP], includeAuthorizedOperations: false })).groups[0];
}

/** Starts three brokers, creates t and `__consumer_offsets` (RF 3), and returns the group's coordinator and partition. */
async function startWithGroupTopic(config: Parameters<typeof TestCluster.start>[1] = {}): Promise<{ coordinator: Broker; partition: number; others: Broker[] }> {
  cluster = await TestCluster.start(3, config);
  cluster.controller.createTopic('t', [[0, 1, 2]]);
  const found = await findCoordinator(cluster.broker(0));
  expect(found.errorCode).toBe(ErrorCode.NONE);
  await cluster.settle(50);
  const coordinator = cluster.broker(found.nodeId);
  const partition = coordinator.offsetsPartitionFor(GROUP);
  expect(cluster.controller.partition(OFFSETS, partition)).toMatchObject({ leader: found.nodeId, replicas: expect.arrayContaining([0, 1, 2]) });
  return { coordinator, partition, others: [0, 1, 2].filter((id) => id !== found.nodeId).map((id) => cluster.broker(id)) };
}

describe('the group coordinator in a cluster', () => {
  it('serves a group only on the leader of its __consumer_offsets partition; the other brokers answer NOT_COORDINATOR', async () => {
    const { coordinator, others } = await startWithGroupTopic();
    for (const other of others) {
      expect((await findCoordinator(other)).nodeId).toBe(coordinator.nodeId);
      expect((await cluster.settleUntil(joinRequest(other, ''))).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect((await call(other, ApiKey.Heartbeat, 3, { groupId: GROUP, generationId: 1, memberId: 'm', groupInstanceId: null })).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect((await fetchOffset(other)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect((await describe_(other)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
      expect((await call(other, ApiKey.DeleteGroups, 2, { groupsNames: [GROUP] })).results[0].errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    }
    const member = await joinAndSync(coordinator);
    expect((await cluster.settleUntil(commitRequest(others[0], member, 5))).topics[0].partitions[0].errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await call(coordinator, ApiKey.ListGroups, 4, { statesFilter: [] })).groups.map((group: Body) => group.groupId)).toEqual([GROUP]);
    for (const other of others) expect((await call(other, ApiKey.ListGroups, 4, { statesFilter: [] })).groups).toEqual([]);
  });

  it('acknowledges an offset commit only once every ISR replica of the group\'s partition holds it', async () => {
    // The ISR drops a silent follower (2 s) well before the commit would time out (5 s).
    const { coordinator, partition, others } = await startWithGroupTopic({ replicaLagTimeMaxMs: 2_000 });
    const member = await joinAndSync(coordinator);
    const committed = await cluster.settleUntil(commitRequest(coordinator, member, 7));
    expect(committed.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    const leaderEnd = coordinator.partition(OFFSETS, partition)?.logEndOffset ?? 0;
    for (const other of others) expect(other.partition(OFFSETS, partition)?.logEndOffset).toBe(leaderEnd);

    // A follower that cannot fetch holds the commit back until the leader drops it from the ISR.
    const [cut, kept] = others;
    cluster.network.cutLink(cut.nodeId, coordinator.nodeId);
    const parked = commitRequest(coordinator, member, 8);
    let answered = false;
    void parked.then(() => { answered = true; });
    await cluster.settle(500, 50);
    expect(answered).toBe(false);
    expect((await fetchOffset(coordinator)).offset).toBe(7);
    const answer = await cluster.settleUntil(parked, 30_000, 50);
    expect(answer.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    expect(cluster.controller.partition(OFFSETS, partition).isr).not.toContain(cut.nodeId);
    expect(kept.partition(OFFSETS, partition)?.logEndOffset).toBe(coordinator.partition(OFFSETS, partition)?.logEndOffset);
    expect((await fetchOffset(coordinator)).offset).toBe(8);
  });

  it('hands out the leader\'s assignment (SyncGroup) only once the group\'s record is replicated', async () => {
    const { coordinator, partition, others } = await startWithGroupTopic({ replicaLagTimeMaxMs: 2_000 });
    for (const other of others) cluster.network.cutLink(other.nodeId, coordinator.nodeId);
    const joined = await cluster.settleUntil(joinRequest(coordinator, ''));
    const sync = coordinator.handle(ApiKey.SyncGroup, 3, {
      groupId: GROUP, generationId: joined.generationId, memberId: joined.memberId, groupInstanceId: null,
      assignments: [{ memberId: joined.memberId, assignment: Buffer.from('all of t') }],
    }) as Promise<Body>;
    let answered = false;
    void sync.then(() => { answered = true; });
    await cluster.settle(500, 50);
    expect(answered).toBe(false);
    expect((await describe_(coordinator)).groupState).toBe('CompletingRebalance');
    // Once the silent followers leave the ISR, the record is committed and the assignment goes out.
    const answer = await cluster.settleUntil(sync, 30_000, 50);
    expect(answer).toMatchObject({ errorCode: ErrorCode.NONE, assignment: Buffer.from('all of t') });
    expect(cluster.controller.partition(OFFSETS, partition).isr).toEqual([coordinator.nodeId]);
    expect((await describe_(coordinator)).groupState).toBe('Stable');
  });

  it('answers COORDINATOR_NOT_AVAILABLE (as Kafka maps REQUEST_TIMED_OUT) when a commit is not replicated within offsets.commit.timeout.ms, and does not show it', async () => {
    cluster = await TestCluster.start(3, { offsetsCommitTimeoutMs: 1_000 });
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    const coordinator = cluster.broker((await findCoordinator(cluster.broker(0))).nodeId);
    await cluster.settle(50);
    const member = await joinAndSync(coordinator);
    for (const other of [0, 1, 2].filter((id) => id !== coordinator.nodeId)) cluster.network.cutLink(other, coordinator.nodeId);
    const answer = await cluster.settleUntil(commitRequest(coordinator, member, 3), 5_000, 50);
    expect(answer.topics[0].partitions[0].errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect((await fetchOffset(coordinator)).offset).toBe(-1);
  });

  it('answers DeleteGroups only once its tombstones are replicated (COORDINATOR_NOT_AVAILABLE when they are not in time)', async () => {
    const { coordinator, others } = await startWithGroupTopic({ offsetsCommitTimeoutMs: 1_000 });
    const member = await joinAndSync(coordinator);
    expect((await cluster.settleUntil(commitRequest(coordinator, member, 7))).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    expect((await call(coordinator, ApiKey.LeaveGroup, 2, { groupId: GROUP, memberId: member.memberId })).errorCode).toBe(ErrorCode.NONE);
    await cluster.settle(100);
    const offsetsLog = () => (coordinator as unknown as { partition(topic: string, index: number): { logEndOffset: number; highWatermark: number } }).partition(OFFSETS, coordinator.offsetsPartitionFor(GROUP));
    // The followers cut off: the tombstones are appended but the HW does not move.
    for (const other of others) cluster.network.cutLink(other.nodeId, coordinator.nodeId);
    let answered = false;
    const deletion = (coordinator.handle(ApiKey.DeleteGroups, 2, { groupsNames: [GROUP] }, { clientId: 'app', clientHost: '/127.0.0.1' }) as Promise<Body>).then((answer) => {
      answered = true;
      return answer;
    });
    await cluster.settle(500);
    expect(answered, JSON.stringify(answered && (await deletion))).toBe(false);
    expect(offsetsLog().logEndOffset).toBeGreaterThan(offsetsLog().highWatermark);
    expect((await cluster.settleUntil(deletion, 5_000, 50)).results).toEqual([{ groupId: GROUP, errorCode: ErrorCode.COORDINATOR_NOT_AVAILABLE }]);
    // Healed: the tombstones replicate (the leader's log is the truth; the group stays deleted).
    for (const other of others) cluster.network.healLink(other.nodeId, coordinator.nodeId);
    await cluster.settle(2_000, 50);
    expect(offsetsLog().highWatermark).toBe(offsetsLog().logEndOffset);
    expect((await call(coordinator, ApiKey.DeleteGroups, 2, { groupsNames: [GROUP] })).results).toEqual([{ groupId: GROUP, errorCode: ErrorCode.GROUP_ID_NOT_FOUND }]);
  });

  it('answers COORDINATOR_LOAD_IN_PROGRESS while a new coordinator loads a long __consumer_offsets partition in chunks, then serves the loaded offsets', async () => {
    // One batch per chunk: each commit below is one batch, so the load takes several turns of the clock.
    const { coordinator, partition, others } = await startWithGroupTopic({ offsetsLoadBufferSize: 1 });
    const member = await joinAndSync(coordinator);
    for (let offset = 1; offset <= 20; offset++) {
      expect((await cluster.settleUntil(commitRequest(coordinator, member, offset))).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    }
    await cluster.settle(100);
    const [next] = others;
    cluster.controller.electLeader(OFFSETS, partition, next.nodeId);
    // Requests that reach the new leader before its load is done are told to retry the same coordinator.
    const statuses: number[] = [];
    for (let turn = 0; turn < 2_000 && !statuses.includes(ErrorCode.NONE); turn++) {
      const response = await next.handle(ApiKey.OffsetFetch, 7, { groupId: GROUP, topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false }, { clientId: 'app', clientHost: '/127.0.0.1' }) as Body;
      statuses.push(response.errorCode);
      if (response.errorCode === ErrorCode.NONE) expect(response.topics[0].partitions[0].committedOffset).toBe(20);
      await cluster.settle(1, 1);
    }
    expect(statuses).toContain(ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    expect(statuses.at(-1)).toBe(ErrorCode.NONE);
    expect(statuses.filter((status) => ![ErrorCode.NOT_COORDINATOR, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, ErrorCode.NONE].includes(status))).toEqual([]);
    // The old leader unloaded the group.
    expect((await fetchOffset(coordinator)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
  });

  it('keeps the committed offsets when the coordinator\'s broker dies: the new leader from the ISR loads them before it answers', async () => {
    const { coordinator, partition, others } = await startWithGroupTopic();
    const member = await joinAndSync(coordinator);
    expect((await cluster.settleUntil(commitRequest(coordinator, member, 41))).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    cluster.kill(coordinator.nodeId, { powerLoss: true });
    const newLeader = cluster.controller.partition(OFFSETS, partition).leader;
    expect(others.map((broker) => broker.nodeId)).toContain(newLeader);
    const survivor = cluster.broker(newLeader);
    expect((await findCoordinator(others.find((broker) => broker.nodeId !== newLeader) as Broker)).nodeId).toBe(newLeader);
    expect(await fetchOffsetOnceLoaded(survivor)).toEqual({ errorCode: ErrorCode.NONE, offset: 41 });
    // The stored member came back with the group, and leaves when its session runs out without it.
    expect(await describe_(survivor)).toMatchObject({ errorCode: ErrorCode.NONE, groupState: 'Stable', members: [expect.objectContaining({ memberId: member.memberId })] });
    await cluster.settle(11_000, 100);
    expect(await describe_(survivor)).toMatchObject({ groupState: 'Empty', members: [] });
    expect((await fetchOffset(survivor)).offset).toBe(41);
  });

  it('serves nothing from the unreplicated tail of its log until it is committed, so an offset it answered never goes back when the next election cuts that tail', async () => {
    const { coordinator, partition, others } = await startWithGroupTopic({ offsetsCommitTimeoutMs: 1_000 });
    const member = await joinAndSync(coordinator);
    expect((await cluster.settleUntil(commitRequest(coordinator, member, 7))).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    await cluster.settle(100);
    const [heir, straggler] = others;
    const endOf = (broker: Broker) => broker.partition(OFFSETS, partition)?.logEndOffset ?? -1;
    // The commit of 8 reaches the heir but not the straggler (still in the ISR): never acknowledged.
    cluster.network.cutLink(straggler.nodeId, coordinator.nodeId);
    const unreplicated = await cluster.settleUntil(commitRequest(coordinator, member, 8), 5_000, 50);
    expect(unreplicated.topics[0].partitions[0].errorCode).toBe(ErrorCode.COORDINATOR_NOT_AVAILABLE);
    expect(endOf(heir)).toBe(endOf(coordinator));
    expect(endOf(straggler)).toBeLessThan(endOf(heir));
    // The heir leads with the commit of 8 above its high watermark: it must not answer it.
    cluster.network.cutLink(straggler.nodeId, heir.nodeId);
    cluster.controller.electLeader(OFFSETS, partition, heir.nodeId);
    await cluster.settle(1_000, 10);
    expect(cluster.controller.partition(OFFSETS, partition).isr).toContain(straggler.nodeId);
    expect(await fetchOffset(heir)).toEqual({ errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS, offset: -1 });
    // The straggler, in the ISR, is elected next (a clean election): the tail is cut, the group is at 7.
    cluster.network.healLink(straggler.nodeId, heir.nodeId);
    cluster.network.healLink(straggler.nodeId, coordinator.nodeId);
    cluster.controller.electLeader(OFFSETS, partition, straggler.nodeId);
    expect(await fetchOffsetOnceLoaded(straggler)).toEqual({ errorCode: ErrorCode.NONE, offset: 7 });
    await cluster.settle(500);
    expect(endOf(heir)).toBe(endOf(straggler));
  });

  it('unloads the group when leadership of its partition moves: a parked JoinGroup is answered NOT_COORDINATOR, the new leader serves the stored group', async () => {
    const { coordinator, partition, others } = await startWithGroupTopic();
    const first = await joinAndSync(coordinator);
    expect((await cluster.settleUntil(commitRequest(coordinator, first, 12))).topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
    // A second member's join starts a rebalance that waits for the first member to rejoin.
    const parked = joinRequest(coordinator, '');
    await cluster.settle(100);
    expect((await describe_(coordinator)).groupState).toBe('PreparingRebalance');
    const [next] = others;
    cluster.controller.electLeader(OFFSETS, partition, next.nodeId);
    expect((await cluster.settleUntil(parked)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await describe_(coordinator)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect((await fetchOffset(coordinator)).errorCode).toBe(ErrorCode.NOT_COORDINATOR);
    expect(await fetchOffsetOnceLoaded(next)).toEqual({ errorCode: ErrorCode.NONE, offset: 12 });
    expect(await describe_(next)).toMatchObject({ groupState: 'Stable', members: [expect.objectContaining({ memberId: first.memberId })] });
    // The first member goes on with the new coordinator: its generation is still valid there.
    expect((await call(next, ApiKey.Heartbeat, 3, { groupId: GROUP, generationId: first.generationId, memberId: first.memberId, groupInstanceId: null })).errorCode).toBe(ErrorCode.NONE);
  });

  it('keeps its groups in memory across an ISR change of their partition: a parked JoinGroup still completes', async () => {
    const { coordinator, partition, others } = await startWithGroupTopic();
    const first = await joinAndSync(coordinator);
    const parked = joinRequest(coordinator, '');
    await cluster.settle(100);
    // A follower leaves: the partition's ISR and partition epoch change, its leader stays.
    cluster.kill(others[0].nodeId);
    expect(cluster.controller.partition(OFFSETS, partition)).toMatchObject({ leader: coordinator.nodeId });
    expect(cluster.controller.partition(OFFSETS, partition).isr).not.toContain(others[0].nodeId);
    const rejoin = joinRequest(coordinator, first.memberId);
    const [second, again] = await cluster.settleUntil(Promise.all([parked, rejoin]));
    expect(second).toMatchObject({ errorCode: ErrorCode.NONE, generationId: first.generationId + 1 });
    expect(again).toMatchObject({ errorCode: ErrorCode.NONE, generationId: first.generationId + 1 });
  });
});
