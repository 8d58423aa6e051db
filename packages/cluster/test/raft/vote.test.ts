import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import type { RaftClient } from '../../src/index.js';
import { dataBatch, leaderChangeBatch } from '../../src/raft/records.js';
import { beginEpochBody, type ManualNetwork, openNode, partitionOf, readQuorumState, settle, voteBody, wireResponse } from './support.js';

const voters = [1, 2, 3];

async function vote(raft: RaftClient, fields: Parameters<typeof voteBody>[0]) {
  const response = await raft.handle(52, 2, voteBody(fields));
  return { top: response.errorCode, ...partitionOf(wireResponse(52, 2, response)) };
}

/** Makes node 2 a follower of node 1 in `epoch` holding a LeaderChange record and `values` (all of `epoch`). */
async function followerWithLog(network: ManualNetwork, raft: RaftClient, epoch: number, values: string[]) {
  await raft.handle(53, 1, beginEpochBody(1, epoch));
  await settle();
  const [fetch] = network.take(1, 1);
  const records = Buffer.concat([
    leaderChangeBatch(1, voters, [1, 2], { baseOffset: 0, epoch, timestampMs: 0 }),
    dataBatch(values.map((value) => Buffer.from(value)), { baseOffset: 1, epoch, timestampMs: 0 }),
  ]);
  fetch.respond(
    wireResponse(1, 13, {
      responses: [
        {
          topicId: '00000000-0000-0000-0000-000000000001',
          partitions: [{ partitionIndex: 0, highWatermark: 0, currentLeader: { leaderId: 1, leaderEpoch: epoch }, records }],
        },
      ],
    }),
  );
  await settle();
}

describe('granting votes', () => {
  it('grants one vote per epoch, written to quorum-state before the answer, and keeps refusing others after a crash', async () => {
    const { raft, fs, clock, network } = await openNode({ nodeId: 2, voters });
    expect(await vote(raft, { epoch: 1, candidateId: 1, lastEpoch: 0, lastOffset: 0 })).toMatchObject({ errorCode: 0, voteGranted: true, leaderEpoch: 1 });
    expect(readQuorumState(fs)).toMatchObject({ leaderEpoch: 1, votedId: 1, leaderId: -1, data_version: 0, currentVoters: [{ voterId: 1 }, { voterId: 2 }, { voterId: 3 }] });
    expect((await vote(raft, { epoch: 1, candidateId: 3, lastEpoch: 0, lastOffset: 0 })).voteGranted).toBe(false);
    raft.kill();
    fs.crash();
    const { raft: restarted } = await openNode({ nodeId: 2, voters, fs, clock, network });
    expect((await vote(restarted, { epoch: 1, candidateId: 3, lastEpoch: 0, lastOffset: 0 })).voteGranted).toBe(false);
    expect((await vote(restarted, { epoch: 1, candidateId: 1, lastEpoch: 0, lastOffset: 0 })).voteGranted).toBe(true);
    restarted.kill();
  });

  it('grants only to a candidate whose log is at least as up to date: last epoch first, then end offset', async () => {
    const { raft, network } = await openNode({ nodeId: 2, voters });
    await followerWithLog(network, raft, 1, ['a', 'b']);
    expect(raft.logEndOffset).toBe(3);
    expect((await vote(raft, { epoch: 2, candidateId: 3, lastEpoch: 1, lastOffset: 2 })).voteGranted).toBe(false);
    expect((await vote(raft, { epoch: 3, candidateId: 3, lastEpoch: 0, lastOffset: 100 })).voteGranted).toBe(false);
    expect((await vote(raft, { epoch: 4, candidateId: 3, lastEpoch: 1, lastOffset: 3 })).voteGranted).toBe(true);
    expect((await vote(raft, { epoch: 5, candidateId: 1, lastEpoch: 2, lastOffset: 1 })).voteGranted).toBe(true);
    raft.kill();
  });

  it('answers a stale epoch with FENCED_LEADER_EPOCH and the current epoch, without voting', async () => {
    const { raft, fs } = await openNode({ nodeId: 2, voters });
    await vote(raft, { epoch: 4, candidateId: 1, lastEpoch: 0, lastOffset: 0 });
    expect(await vote(raft, { epoch: 3, candidateId: 3, lastEpoch: 0, lastOffset: 0 })).toMatchObject({ errorCode: ErrorCode.FENCED_LEADER_EPOCH, voteGranted: false, leaderEpoch: 4 });
    expect(readQuorumState(fs)).toMatchObject({ leaderEpoch: 4, votedId: 1 });
    raft.kill();
  });

  it('refuses malformed votes: a last epoch not below the candidate epoch, a negative offset, another cluster', async () => {
    const { raft } = await openNode({ nodeId: 2, voters });
    expect((await vote(raft, { epoch: 2, candidateId: 1, lastEpoch: 2, lastOffset: 0 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await vote(raft, { epoch: 2, candidateId: 1, lastEpoch: 0, lastOffset: -1 })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await vote(raft, { epoch: 2, candidateId: 1, lastEpoch: 0, lastOffset: 0, clusterId: 'other' })).top).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
    expect(raft.leaderAndEpoch.epoch).toBe(0);
    raft.kill();
  });

  it('only voters vote, and only for voters: INCONSISTENT_VOTER_SET', async () => {
    const observer = await openNode({ nodeId: 4, voters });
    expect((await vote(observer.raft, { epoch: 1, candidateId: 1, lastEpoch: 0, lastOffset: 0 })).errorCode).toBe(ErrorCode.INCONSISTENT_VOTER_SET);
    observer.raft.kill();
    const voter = await openNode({ nodeId: 2, voters });
    expect((await vote(voter.raft, { epoch: 1, candidateId: 9, lastEpoch: 0, lastOffset: 0 })).errorCode).toBe(ErrorCode.INCONSISTENT_VOTER_SET);
    voter.raft.kill();
  });
});

describe('pre-vote (KIP-996)', () => {
  it('is granted without bumping the epoch or recording a vote', async () => {
    const { raft, fs } = await openNode({ nodeId: 2, voters });
    const before = readQuorumState(fs);
    expect(await vote(raft, { epoch: 0, candidateId: 1, lastEpoch: 0, lastOffset: 0, preVote: true })).toMatchObject({ errorCode: 0, voteGranted: true, leaderEpoch: 0 });
    expect(readQuorumState(fs)).toEqual(before);
    expect(raft.leaderAndEpoch.epoch).toBe(0);
    // A pre-vote binds nothing: a real vote for another candidate is still possible.
    expect((await vote(raft, { epoch: 1, candidateId: 3, lastEpoch: 0, lastOffset: 0 })).voteGranted).toBe(true);
    raft.kill();
  });

  it('is refused by a follower that hears from its leader, naming the leader: a rejoining node cannot depose it', async () => {
    const { raft, network } = await openNode({ nodeId: 2, voters });
    await raft.handle(53, 1, beginEpochBody(1, 1));
    // Before the first successful fetch the leader may be gone already: an up-to-date pre-vote is granted.
    expect((await vote(raft, { epoch: 1, candidateId: 3, lastEpoch: 0, lastOffset: 0, preVote: true })).voteGranted).toBe(true);
    await followerWithLog(network, raft, 1, ['a']);
    expect(await vote(raft, { epoch: 1, candidateId: 3, lastEpoch: 1, lastOffset: 5, preVote: true })).toMatchObject({ voteGranted: false, leaderId: 1, leaderEpoch: 1 });
    // A real vote in the leader's epoch is refused too.
    expect(await vote(raft, { epoch: 1, candidateId: 3, lastEpoch: 0, lastOffset: 5 })).toMatchObject({ errorCode: 0, voteGranted: false });
    expect(raft.role).toBe('follower');
    raft.kill();
  });
});
