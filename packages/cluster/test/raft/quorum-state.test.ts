import { MemoryFileSystem } from '@gregor/log';
import { describe, expect, it } from 'vitest';
import { QuorumStateError, QuorumStateStore, RaftClient } from '../../src/index.js';
import { ManualNetwork, openNode, QUORUM_STATE_PATH, seededRandom } from './support.js';

function storeWith(text: string) {
  const fs = new MemoryFileSystem();
  fs.mkdir('/meta/__cluster_metadata-0');
  fs.writeFileAtomic(QUORUM_STATE_PATH, Buffer.from(text));
  return { fs, store: new QuorumStateStore(fs, QUORUM_STATE_PATH) };
}

describe('the quorum-state file', () => {
  it('is written as Kafka writes it: one JSON object, data_version 0', () => {
    const { fs, store } = storeWith('{}');
    store.write({ epoch: 5, leaderId: 2, votedId: 3, voters: [3, 1, 2] });
    expect(fs.readFile(QUORUM_STATE_PATH).toString()).toBe(
      '{"clusterId":"","leaderId":2,"leaderEpoch":5,"votedId":3,"appliedOffset":0,"currentVoters":[{"voterId":1},{"voterId":2},{"voterId":3}],"data_version":0}',
    );
    expect(store.read()).toEqual({ epoch: 5, leaderId: 2, votedId: 3, voters: [1, 2, 3] });
  });

  it('reads data_version 1 (KIP-853), which has no voter list', () => {
    const { store } = storeWith('{"leaderId":-1,"leaderEpoch":9,"votedId":2,"votedDirectoryId":"AAAAAAAAAAAAAAAAAAAAAA","data_version":1}');
    expect(store.read()).toEqual({ epoch: 9, leaderId: -1, votedId: 2, voters: [] });
  });

  it('refuses a file that is not JSON, has an unknown version, or non-integer fields, naming the file', () => {
    for (const text of ['{"leaderEpoch":', '{"data_version":7}', '{"leaderEpoch":"1","data_version":0}', '[]']) {
      const { store } = storeWith(text);
      expect(() => store.read()).toThrow(QuorumStateError);
      expect(() => store.read()).toThrow(/quorum-state/);
    }
  });

  it('names voters that must match the configuration: opening with other voters fails with INCONSISTENT_VOTER_SET', async () => {
    const { raft, fs, clock } = await openNode({ nodeId: 1, voters: [1, 2, 3] });
    raft.kill();
    await expect(RaftClient.open({ nodeId: 1, voters: [1, 2], dir: '/meta', fs, clock, random: seededRandom(1), network: new ManualNetwork(), clusterId: 'c' })).rejects.toMatchObject({
      code: 'INCONSISTENT_VOTER_SET',
    });
  });

  it('an election state older than the log (the file was lost) restarts from the log epoch', async () => {
    const { raft, fs, clock } = await openNode({ nodeId: 1, voters: [1] });
    await raft.append([Buffer.from('x')]);
    raft.kill();
    fs.unlink(QUORUM_STATE_PATH);
    const { raft: reopened } = await openNode({ nodeId: 1, voters: [1], fs, clock });
    expect(reopened.leaderAndEpoch).toEqual({ leaderId: 1, epoch: 2 });
    await reopened.close();
  });
});
