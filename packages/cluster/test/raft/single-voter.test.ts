import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { describe, expect, it } from 'vitest';
import { NotLeaderError, RaftClient } from '../../src/index.js';
import { ManualNetwork, RecordingListener, seededRandom } from './support.js';

function openSole(fs: MemoryFileSystem, clock: FakeClock, config = {}) {
  return RaftClient.open({ nodeId: 1, voters: [1], dir: '/meta', fs, clock, random: seededRandom(1), network: new ManualNetwork(), clusterId: 'c', config });
}

describe('a quorum of one voter', () => {
  it('elects itself while opening, with no election timeout, and commits its LeaderChange record', async () => {
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(0);
    const raft = await openSole(fs, clock);
    expect(raft.role).toBe('leader');
    expect(raft.leaderAndEpoch).toEqual({ leaderId: 1, epoch: 1 });
    expect(raft.highWatermark).toBe(1);
    expect(clock.now()).toBe(0);
    const listener = new RecordingListener();
    raft.register(listener);
    expect(listener.batches).toHaveLength(1);
    expect(listener.batches[0]).toMatchObject({ control: true, epoch: 1, controlRecords: [{ type: 'LeaderChange', leaderId: 1, voters: [1], grantingVoters: [1] }] });
    expect(listener.leaders).toEqual([{ leaderId: 1, epoch: 1 }]);
    await raft.close();
  });

  it('commits an append after its own fsync and delivers it once', async () => {
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(0);
    const raft = await openSole(fs, clock, { controllerQuorumAppendLingerMs: 0 });
    const listener = new RecordingListener();
    raft.register(listener);
    const offset = await raft.append([Buffer.from('a'), Buffer.from('b')]);
    expect(offset).toBe(2);
    expect(listener.values).toEqual(['a', 'b']);
    expect(fs.unsyncedOperations('/meta/__cluster_metadata-0/00000000000000000000.log')).toBe(0);
    await raft.close();
  });

  it('lingers appends on the injected clock and writes them as one batch', async () => {
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(0);
    const raft = await openSole(fs, clock, { controllerQuorumAppendLingerMs: 25 });
    const listener = new RecordingListener();
    raft.register(listener);
    const first = raft.append([Buffer.from('x')]);
    const second = raft.append([Buffer.from('y'), Buffer.from('z')]);
    clock.advance(24);
    expect(listener.values).toEqual([]);
    clock.advance(1);
    expect(await first).toBe(1);
    expect(await second).toBe(3);
    expect(listener.batches.filter((batch) => !batch.control)).toHaveLength(1);
    await raft.close();
  });

  it('schedules appends with their offsets known at once, lingering ones counted (scheduleAtomicAppend)', async () => {
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(0);
    const raft = await openSole(fs, clock, { controllerQuorumAppendLingerMs: 25 });
    const { epoch } = raft.leaderAndEpoch;
    expect(raft.nextAppendOffset).toBe(1);
    const first = raft.scheduleAtomicAppend(epoch, [Buffer.from('a'), Buffer.from('b')]);
    const second = raft.scheduleAtomicAppend(epoch, [Buffer.from('c')]);
    expect([first.baseOffset, first.lastOffset, second.baseOffset, raft.nextAppendOffset]).toEqual([1, 2, 3, 4]);
    expect(() => raft.scheduleAtomicAppend(epoch + 1, [Buffer.from('x')])).toThrow(NotLeaderError);
    clock.advance(25);
    await Promise.all([first.committed, second.committed]);
    const listener = new RecordingListener();
    raft.register(listener);
    expect(listener.batches.filter((batch) => !batch.control).map((batch) => [batch.baseOffset, batch.records.map(String)])).toEqual([[1, ['a', 'b', 'c']]]);
    await raft.close();
  });

  it('replays its log to a listener after a restart, and leads a new epoch', async () => {
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(0);
    const raft = await openSole(fs, clock, { controllerQuorumAppendLingerMs: 0 });
    await raft.append([Buffer.from('one')]);
    await raft.append([Buffer.from('two')]);
    raft.kill();
    fs.crash();
    const reopened = await openSole(fs, clock, { controllerQuorumAppendLingerMs: 0 });
    expect(reopened.leaderAndEpoch).toEqual({ leaderId: 1, epoch: 2 });
    const listener = new RecordingListener();
    reopened.register(listener);
    expect(listener.values).toEqual(['one', 'two']);
    expect(listener.batches.map((batch) => batch.epoch)).toEqual([1, 1, 1, 2]);
    await reopened.close();
  });

  it('rejects appends once closed, and a closed leader is not the leader', async () => {
    const fs = new MemoryFileSystem();
    const clock = new FakeClock(0);
    const raft = await openSole(fs, clock);
    const pending = raft.append([Buffer.from('late')]);
    await raft.close();
    await expect(pending).rejects.toBeInstanceOf(NotLeaderError);
    await expect(raft.append([Buffer.from('x')])).rejects.toMatchObject({ code: 'RAFT_CLOSED' });
  });
});
