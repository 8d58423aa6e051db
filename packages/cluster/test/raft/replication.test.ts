import { ErrorCode } from '@gregor/protocol';
import { readBatchHeader } from '@gregor/records';
import { describe, expect, it } from 'vitest';
import { RaftStorageError } from '../../src/index.js';
import { dataBatch, leaderChangeBatch } from '../../src/raft/records.js';
import { beginEpochBody, elect, fetchBody, openNode, partitionOf, RecordingListener, settle, wireRequest, wireResponse } from './support.js';

const voters = [1, 2, 3];
const SEGMENT = '/meta/__cluster_metadata-0/00000000000000000000.log';

async function fetchFrom(raft: Awaited<ReturnType<typeof openNode>>['raft'], fields: Parameters<typeof fetchBody>[0]) {
  return partitionOf(wireResponse(1, 13, await raft.handle(1, 13, fetchBody(fields))));
}

function fetchAnswer(epoch: number, fields: { highWatermark?: number; records?: Buffer | null; divergingEpoch?: { epoch: number; endOffset: number } }) {
  return wireResponse(1, 13, {
    responses: [
      {
        topicId: '00000000-0000-0000-0000-000000000001',
        partitions: [{ partitionIndex: 0, highWatermark: fields.highWatermark ?? 0, currentLeader: { leaderId: 1, leaderEpoch: epoch }, records: fields.records ?? null, divergingEpoch: fields.divergingEpoch }],
      },
    ],
  });
}

describe('the leader: commit rule', () => {
  it('advances the high watermark to what a majority of voters hold, counting its own flushed log', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    const listener = new RecordingListener();
    raft.register(listener);
    const appended = raft.append([Buffer.from('a')]);
    await settle();
    expect(raft.highWatermark).toBe(0);
    // Nothing committed in its epoch yet: the leader tells no high watermark (-1), as Kafka's.
    expect(await fetchFrom(raft, { replicaId: 3, epoch, fetchOffset: 0, lastFetchedEpoch: 0 })).toMatchObject({ errorCode: 0, highWatermark: -1 });
    // Voter 3 now holds [0, 2): with the leader, a majority of three.
    expect(await fetchFrom(raft, { replicaId: 3, epoch, fetchOffset: 2, lastFetchedEpoch: epoch })).toMatchObject({ errorCode: 0, highWatermark: 2 });
    expect(await appended).toBe(1);
    expect(listener.values).toEqual(['a']);
    // Observers never count.
    raft.append([Buffer.from('b')]).catch(() => {});
    await fetchFrom(raft, { replicaId: 7, epoch, fetchOffset: 3, lastFetchedEpoch: epoch });
    expect(raft.highWatermark).toBe(2);
    raft.kill();
  });

  it('lets a listener that appends as it learns of its leadership write after the epoch\'s LeaderChange record', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    // Registered before the election and caught up with the (empty) log, the listener hears of the
    // leadership while the election completes, and appends at once, as an active controller does.
    const appended: Promise<number>[] = [];
    const listener = new RecordingListener();
    const handleLeaderChange = listener.handleLeaderChange.bind(listener);
    listener.handleLeaderChange = (leader) => {
      handleLeaderChange(leader);
      if (leader.leaderId === 1) appended.push(raft.append([Buffer.from('bootstrap')]));
    };
    raft.register(listener);
    const epoch = await elect(raft, clock, network);
    expect(appended).toHaveLength(1);
    expect(raft.logEndOffset).toBe(2);
    expect(await fetchFrom(raft, { replicaId: 2, epoch, fetchOffset: 0, lastFetchedEpoch: 0 })).toMatchObject({ errorCode: 0 });
    expect(await fetchFrom(raft, { replicaId: 2, epoch, fetchOffset: 2, lastFetchedEpoch: epoch })).toMatchObject({ errorCode: 0, highWatermark: 2 });
    expect(await appended[0]).toBe(1);
    expect(listener.batches.map((batch) => [batch.baseOffset, batch.control])).toEqual([[0, true], [1, false]]);
  });

  it('never commits an earlier epoch record by counting: it must first commit a record of its own epoch', async () => {
    const first = await openNode({ nodeId: 1, voters });
    const epoch1 = await elect(first.raft, first.clock, first.network);
    first.raft.append([Buffer.from('a')]).catch(() => {});
    await settle();
    expect(first.raft.logEndOffset).toBe(2);
    first.raft.kill();
    // Restarted, node 1 leads a new epoch; its log still holds the uncommitted 'a' from epoch 1.
    const { raft, clock, network } = await openNode({ nodeId: 1, voters, fs: first.fs, clock: first.clock });
    const epoch2 = await elect(raft, clock, network);
    expect(epoch2).toBeGreaterThan(epoch1);
    expect(raft.logEndOffset).toBe(3);
    // Voter 2 holds everything of epoch 1 ([0, 2)), a majority with the leader, but not the new LeaderChange.
    expect(await fetchFrom(raft, { replicaId: 2, epoch: epoch2, fetchOffset: 2, lastFetchedEpoch: epoch1 })).toMatchObject({ errorCode: 0 });
    expect(raft.highWatermark).toBe(0);
    expect(await fetchFrom(raft, { replicaId: 2, epoch: epoch2, fetchOffset: 3, lastFetchedEpoch: epoch2 })).toMatchObject({ highWatermark: 3 });
    raft.kill();
  });

  it('answers a fetch that diverges with the end of the largest shared epoch, and one below its snapshot with the snapshot id', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    // A follower that wrote offsets [0, 5) in epoch `epoch - 1`, which this leader never had.
    expect(await fetchFrom(raft, { replicaId: 2, epoch, fetchOffset: 5, lastFetchedEpoch: epoch - 1 })).toMatchObject({
      errorCode: 0,
      divergingEpoch: { epoch: epoch - 1, endOffset: 0 },
    });
    // A follower claiming more of the leader's own epoch than the leader has.
    expect((await fetchFrom(raft, { replicaId: 2, epoch, fetchOffset: 9, lastFetchedEpoch: epoch })).divergingEpoch).toEqual({ epoch, endOffset: 1 });
    // Stale and future epochs.
    expect((await fetchFrom(raft, { replicaId: 2, epoch: epoch - 1, fetchOffset: 0, lastFetchedEpoch: 0 })).errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect((await fetchFrom(raft, { replicaId: 2, epoch: epoch + 1, fetchOffset: 0, lastFetchedEpoch: 0 })).errorCode).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    raft.kill();
  });

  it('answers Fetch v12, which names the topic instead of its id, and refuses versions without divergingEpoch', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    const v12 = wireRequest(1, 12, {
      clusterId: 'c',
      replicaId: 2,
      maxBytes: 1 << 20,
      topics: [{ topic: '__cluster_metadata', partitions: [{ partition: 0, currentLeaderEpoch: epoch, fetchOffset: 0, lastFetchedEpoch: 0, partitionMaxBytes: 1 << 20 }] }],
    });
    const answer = wireResponse(1, 12, await raft.handle(1, 12, v12));
    expect(answer.responses[0].topic).toBe('__cluster_metadata');
    expect(readBatchHeader(answer.responses[0].partitions[0].records, 0).isControl).toBe(true);
    const v11 = wireRequest(1, 11, { replicaId: 2, topics: [{ topic: '__cluster_metadata', partitions: [{ partition: 0, fetchOffset: 0 }] }] });
    expect((await raft.handle(1, 11, v11)).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    raft.kill();
  });

  it('parks a caught-up fetch until the next append, up to the fetch wait', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    // Voter 3 holds the LeaderChange record: committed. A fetch at the end now has nothing to return.
    await fetchFrom(raft, { replicaId: 3, epoch, fetchOffset: 1, lastFetchedEpoch: epoch });
    expect(raft.highWatermark).toBe(1);
    let answered: any;
    raft.handle(1, 13, fetchBody({ replicaId: 2, epoch, fetchOffset: 1, lastFetchedEpoch: epoch, maxWaitMs: 500 })).then((response) => {
      answered = partitionOf(wireResponse(1, 13, response));
    });
    await settle();
    expect(answered).toBeUndefined();
    raft.append([Buffer.from('x')]);
    await settle();
    expect(answered.records.length).toBeGreaterThan(0);
    expect(readBatchHeader(answered.records, 0).baseOffset).toBe(1);
    // Voter 3's fetch at 2 commits the append: it is answered at once, with the new high watermark.
    expect(await fetchFrom(raft, { replicaId: 3, epoch, fetchOffset: 2, lastFetchedEpoch: epoch, maxWaitMs: 500 })).toMatchObject({ highWatermark: 2 });
    // Nothing new for voter 2 at 2: it waits out the fetch wait, then gets an empty answer.
    let empty: any;
    raft.handle(1, 13, fetchBody({ replicaId: 2, epoch, fetchOffset: 2, lastFetchedEpoch: epoch, maxWaitMs: 500 })).then((response) => {
      empty = partitionOf(wireResponse(1, 13, response));
    });
    clock.advance(499);
    await settle();
    expect(empty).toBeUndefined();
    clock.advance(1);
    await settle();
    expect(empty).toMatchObject({ errorCode: 0, highWatermark: 2 });
    expect(empty.records.length).toBe(0);
    raft.kill();
  });

  it('describes the quorum (DescribeQuorum): voters and observers with their end offsets; others answer NOT_LEADER_OR_FOLLOWER', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    await fetchFrom(raft, { replicaId: 2, epoch, fetchOffset: 1, lastFetchedEpoch: epoch });
    await fetchFrom(raft, { replicaId: 9, epoch, fetchOffset: 0, lastFetchedEpoch: 0 });
    const body = wireRequest(55, 2, { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] });
    const described = partitionOf(wireResponse(55, 2, await raft.handle(55, 2, body)));
    expect(described).toMatchObject({ errorCode: 0, leaderId: 1, leaderEpoch: epoch, highWatermark: 1 });
    expect(described.currentVoters.map((voter: any) => [voter.replicaId, voter.logEndOffset])).toEqual([
      [1, 1],
      [2, 1],
      [3, -1],
    ]);
    expect(described.observers.map((observer: any) => [observer.replicaId, observer.logEndOffset])).toEqual([[9, 0]]);
    const follower = await openNode({ nodeId: 2, voters });
    expect(partitionOf(wireResponse(55, 2, await follower.raft.handle(55, 2, body))).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    follower.raft.kill();
    raft.kill();
  });

  it('flushes before it counts its own log end offset: a failed fsync stops it with nothing committed', async () => {
    const { raft, fs } = await openNode({ nodeId: 1, voters: [1] });
    await raft.append([Buffer.from('durable')]);
    fs.failNext('sync');
    await expect(raft.append([Buffer.from('lost')])).rejects.toBeInstanceOf(RaftStorageError);
    expect(raft.isClosed).toBe(true);
    expect(raft.highWatermark).toBe(2);
  });
});

describe('a follower', () => {
  async function follower() {
    const node = await openNode({ nodeId: 2, voters });
    await node.raft.handle(53, 1, beginEpochBody(1, 2));
    await settle();
    return node;
  }

  it('appends what it fetched and flushes it before it fetches again, at the new log end offset', async () => {
    const { raft, fs, clock, network } = await follower();
    const [fetch] = network.take(1, 1);
    expect(fetch.body.topics[0].partitions[0]).toMatchObject({ fetchOffset: 0, lastFetchedEpoch: 0, currentLeaderEpoch: 2 });
    const records = Buffer.concat([leaderChangeBatch(1, voters, [1, 2], { baseOffset: 0, epoch: 2, timestampMs: 0 }), dataBatch([Buffer.from('a'), Buffer.from('b')], { baseOffset: 1, epoch: 2, timestampMs: 0 })]);
    fetch.respond(fetchAnswer(2, { records, highWatermark: 2 }));
    await settle();
    const [next] = network.take(1, 1);
    expect(next.body.topics[0].partitions[0]).toMatchObject({ fetchOffset: 3, lastFetchedEpoch: 2 });
    expect(fs.unsyncedOperations(SEGMENT)).toBe(0);
    // The high watermark is the leader's, within what this log holds.
    expect(raft.highWatermark).toBe(2);
    raft.kill();
    fs.crash();
    const { raft: restarted } = await openNode({ nodeId: 2, voters, fs, clock, network });
    expect(restarted.logEndOffset).toBe(3);
    restarted.kill();
  });

  it('truncates a divergent tail to where the leader says its epoch ends, then fetches from there', async () => {
    const { raft, network } = await follower();
    const records = Buffer.concat([
      leaderChangeBatch(3, voters, [3, 2], { baseOffset: 0, epoch: 1, timestampMs: 0 }),
      dataBatch([Buffer.from('x')], { baseOffset: 1, epoch: 1, timestampMs: 0 }),
      dataBatch([Buffer.from('y'), Buffer.from('z')], { baseOffset: 2, epoch: 1, timestampMs: 0 }),
    ]);
    network.take(1, 1)[0].respond(fetchAnswer(2, { records, highWatermark: 1 }));
    await settle();
    expect(raft.logEndOffset).toBe(4);
    network.take(1, 1)[0].respond(fetchAnswer(2, { divergingEpoch: { epoch: 1, endOffset: 2 } }));
    await settle();
    expect(raft.logEndOffset).toBe(2);
    const [next] = network.take(1, 1);
    expect(next.body.topics[0].partitions[0]).toMatchObject({ fetchOffset: 2, lastFetchedEpoch: 1 });
    raft.kill();
  });

  it('starts an election after the fetch timeout without an answer from the leader', async () => {
    const { raft, clock, network } = await follower();
    network.take(1);
    clock.advance(raft.config.controllerQuorumFetchTimeoutMs);
    await settle();
    expect(raft.role).toBe('prospective');
    expect(network.take(52).map((request) => request.body.topics[0].partitions[0].preVote)).toEqual([true, true]);
    raft.kill();
  });
});

describe('an observer', () => {
  it('finds the leader through any voter, and asks again when a request is never answered', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 4, voters });
    const [first] = network.take(1);
    expect(voters).toContain(first.destinationId);
    expect(first.body.replicaId).toBe(4);
    clock.advance(raft.config.controllerQuorumRequestTimeoutMs + raft.config.controllerQuorumRetryBackoffMs);
    await settle();
    const [second] = network.take(1);
    expect(second).toBeDefined();
    // A voter that knows the leader says so (NOT_LEADER_OR_FOLLOWER with the current leader): the observer follows it.
    second.respond(
      wireResponse(1, 13, {
        responses: [{ topicId: '00000000-0000-0000-0000-000000000001', partitions: [{ partitionIndex: 0, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER, currentLeader: { leaderId: 3, leaderEpoch: 5 } }] }],
      }),
    );
    await settle();
    expect(raft.leaderAndEpoch).toEqual({ leaderId: 3, epoch: 5 });
    expect(network.take(1, 3)).toHaveLength(1);
    raft.kill();
  });
});
