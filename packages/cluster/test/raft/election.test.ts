import { describe, expect, it } from 'vitest';
import { NotLeaderError } from '../../src/index.js';
import { elect, fetchBody, openNode, partitionOf, readQuorumState, RecordingListener, settle, voteAnswer, voteBody, wireRequest, wireResponse } from './support.js';

const voters = [1, 2, 3];
const TOPIC = '__cluster_metadata';

describe('elections', () => {
  it('waits for its randomized election timeout, asks for pre-votes in its epoch, then bumps the epoch and votes for itself durably before asking for votes', async () => {
    const { raft, fs, clock, network } = await openNode({ nodeId: 1, voters });
    expect(raft.role).toBe('unattached');
    clock.advance(raft.config.controllerQuorumElectionTimeoutMs - 1);
    await settle();
    expect(network.sent).toHaveLength(0);
    clock.advance(raft.config.controllerQuorumElectionTimeoutMs);
    await settle();
    const preVotes = network.take(52);
    expect(preVotes.map((request) => request.destinationId)).toEqual([2, 3]);
    expect(preVotes[0].body.topics[0].partitions[0]).toMatchObject({ replicaEpoch: 0, replicaId: 1, preVote: true, lastOffset: 0, lastOffsetEpoch: 0 });
    expect(raft.role).toBe('prospective');
    expect(readQuorumState(fs)).toMatchObject({ leaderEpoch: 0, votedId: -1 });

    preVotes[0].respond(voteAnswer(0, true));
    await settle();
    expect(raft.role).toBe('candidate');
    expect(readQuorumState(fs)).toMatchObject({ leaderEpoch: 1, votedId: 1 });
    const votes = network.take(52);
    expect(votes.map((request) => request.destinationId)).toEqual([2, 3]);
    expect(votes[0].body.topics[0].partitions[0]).toMatchObject({ replicaEpoch: 1, preVote: false });

    votes[1].respond(voteAnswer(1, true));
    await settle();
    expect(raft.leaderAndEpoch).toEqual({ leaderId: 1, epoch: 1 });
    expect(readQuorumState(fs)).toMatchObject({ leaderEpoch: 1, leaderId: 1, votedId: 1 });
    expect(network.take(53).map((request) => request.destinationId)).toEqual([2, 3]);
    // The epoch opens with a LeaderChange record, not committed until a majority holds it.
    expect(raft.logEndOffset).toBe(1);
    expect(raft.highWatermark).toBe(0);
    raft.kill();
  });

  it('backs off after a lost pre-vote round and asks again, without bumping the epoch', async () => {
    const { raft, fs, clock, network } = await openNode({ nodeId: 1, voters });
    clock.advance(2 * raft.config.controllerQuorumElectionTimeoutMs);
    await settle();
    for (const request of network.take(52)) request.respond(voteAnswer(0, false));
    await settle();
    expect(raft.role).toBe('prospective');
    expect(network.sent).toHaveLength(0);
    expect(readQuorumState(fs)).toMatchObject({ leaderEpoch: 0, votedId: -1 });
    clock.advance(raft.config.controllerQuorumElectionBackoffMaxMs);
    await settle();
    const again = network.take(52);
    expect(again).toHaveLength(2);
    expect(again[0].body.topics[0].partitions[0]).toMatchObject({ replicaEpoch: 0, preVote: true });
    raft.kill();
  });

  it('follows the leader a pre-vote answer names in its epoch, when it knew none', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    clock.advance(2 * raft.config.controllerQuorumElectionTimeoutMs);
    await settle();
    network.take(52)[0].respond(voteAnswer(0, false, 3));
    await settle();
    expect(raft.role).toBe('follower');
    expect(raft.leaderAndEpoch).toEqual({ leaderId: 3, epoch: 0 });
    expect(network.take(1, 3)).toHaveLength(1);
    raft.kill();
  });

  it('a candidate restarted after a crash keeps its epoch and its vote for itself', async () => {
    const { raft, fs, clock, network } = await openNode({ nodeId: 1, voters });
    clock.advance(2 * raft.config.controllerQuorumElectionTimeoutMs);
    await settle();
    network.take(52)[0].respond(voteAnswer(0, true));
    await settle();
    expect(raft.role).toBe('candidate');
    raft.kill();
    fs.crash();
    const { raft: restarted } = await openNode({ nodeId: 1, voters, fs, clock, network });
    expect(restarted.leaderAndEpoch.epoch).toBe(1);
    const answer = partitionOf(wireResponse(52, 2, await restarted.handle(52, 2, voteBody({ epoch: 1, candidateId: 3, lastEpoch: 0, lastOffset: 0 }))));
    expect(answer.voteGranted).toBe(false);
    restarted.kill();
  });

  it('resigns gracefully with EndQuorumEpoch, most caught-up voter first, and that voter runs at once', async () => {
    const leaderNode = await openNode({ nodeId: 1, voters });
    const epoch = await elect(leaderNode.raft, leaderNode.clock, leaderNode.network);
    await leaderNode.raft.handle(1, 13, fetchBody({ replicaId: 3, epoch, fetchOffset: 1, lastFetchedEpoch: epoch }));
    await leaderNode.raft.handle(1, 13, fetchBody({ replicaId: 2, epoch, fetchOffset: 0, lastFetchedEpoch: 0 }));
    leaderNode.network.take(53);
    const closed = leaderNode.raft.close();
    await settle();
    const ends = leaderNode.network.take(54);
    expect(ends.map((request) => request.destinationId)).toEqual([3, 2]);
    expect(ends[0].body.topics[0].partitions[0]).toMatchObject({ leaderId: 1, leaderEpoch: epoch, preferredCandidates: [{ candidateId: 3 }, { candidateId: 2 }] });
    const ack = wireResponse(54, 1, { topics: [{ topicName: TOPIC, partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: epoch }] }] });
    for (const request of ends) request.respond(ack);
    await closed;
    expect(leaderNode.raft.isClosed).toBe(true);

    // On voter 3, named first: the EndQuorumEpoch ends its wait for the leader at once.
    const successor = await openNode({ nodeId: 3, voters });
    await successor.raft.handle(53, 1, wireRequest(53, 1, { clusterId: 'c', topics: [{ topicName: TOPIC, partitions: [{ partitionIndex: 0, leaderId: 1, leaderEpoch: epoch }] }] }));
    await successor.raft.handle(54, 1, ends[0].body);
    successor.clock.advance(0);
    await settle();
    expect(successor.raft.role).toBe('prospective');
    expect(successor.network.take(52)).toHaveLength(2);
    successor.raft.kill();
  });

  it('a leader refuses pre-votes and votes in its epoch, and steps down for a candidate of a newer one', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    const ask = async (fields: Parameters<typeof voteBody>[0]) => partitionOf(wireResponse(52, 2, await raft.handle(52, 2, voteBody(fields))));
    expect(await ask({ epoch, candidateId: 2, lastEpoch: epoch, lastOffset: 9, preVote: true })).toMatchObject({ voteGranted: false, leaderId: 1, leaderEpoch: epoch });
    expect(await ask({ epoch, candidateId: 2, lastEpoch: epoch - 1, lastOffset: 9 })).toMatchObject({ voteGranted: false, leaderId: 1 });
    expect(raft.role).toBe('leader');
    expect(await ask({ epoch: epoch + 1, candidateId: 2, lastEpoch: epoch, lastOffset: 9 })).toMatchObject({ voteGranted: true, leaderEpoch: epoch + 1 });
    expect(raft.role).toBe('unattached');
    raft.kill();
  });

  it('a leader asked to resign its epoch sends EndQuorumEpoch and rejects what it had not committed', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters, config: { controllerQuorumAppendLingerMs: 10 } });
    const epoch = await elect(raft, clock, network);
    const pending = raft.append([Buffer.from('never')]);
    raft.resign(epoch - 1);
    expect(raft.role).toBe('leader');
    raft.resign(epoch);
    expect(raft.role).toBe('resigned');
    await expect(pending).rejects.toBeInstanceOf(NotLeaderError);
    await settle();
    expect(network.take(54).map((request) => request.destinationId).sort()).toEqual([2, 3]);
    raft.kill();
  });

  it('a leader that hears from no majority within 1.5 fetch timeouts resigns and refuses appends (check quorum)', async () => {
    const { raft, clock, network } = await openNode({ nodeId: 1, voters });
    const epoch = await elect(raft, clock, network);
    const listener = new RecordingListener();
    raft.register(listener);
    clock.advance(raft.config.controllerQuorumFetchTimeoutMs * 1.5);
    await settle();
    expect(raft.role).toBe('resigned');
    expect(raft.leaderAndEpoch).toEqual({ leaderId: 1, epoch });
    await expect(raft.append([Buffer.from('x')])).rejects.toBeInstanceOf(NotLeaderError);
    raft.kill();
  });
});
