import { describe, expect, it } from 'vitest';
import { simCluster } from './support.js';

describe('a quorum on a simulated network', () => {
  it('elects one leader among three voters, replicates to them and to an observer, which never counts', async () => {
    const cluster = await simCluster({ voters: [1, 2, 3], observers: [4] });
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    const leader = cluster.leader();
    if (!leader) throw new Error('no leader');
    const offsets: number[] = [];
    for (const value of ['a', 'b', 'c']) leader.raft.append([Buffer.from(value)]).then((offset) => offsets.push(offset));
    await cluster.scheduler.runFor(2000);
    expect(offsets).toHaveLength(3);
    for (const node of cluster.nodes.values()) {
      expect(node.listener.values).toEqual(['a', 'b', 'c']);
      expect(node.raft.highWatermark).toBe(offsets[2] + 1);
    }
    // With both other voters down, nothing commits, however many observers fetch.
    const others = [1, 2, 3].filter((id) => id !== leader.id);
    for (const id of others) cluster.crash(id);
    let committed = false;
    leader.raft.append([Buffer.from('d')]).then(
      () => (committed = true),
      () => {},
    );
    await cluster.scheduler.runFor(2000);
    expect(committed).toBe(false);
    expect(cluster.nodes.get(4)?.raft.logEndOffset).toBe(leader.raft.logEndOffset);
    cluster.stopAll();
  });

  it('a restarted follower knows the quorum\'s high watermark only once the leader has told it, not from its own log', async () => {
    const cluster = await simCluster({ voters: [1, 2, 3] });
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    const leader = cluster.leader();
    if (!leader) throw new Error('no leader');
    const follower = [1, 2, 3].find((id) => id !== leader.id) as number;
    for (const value of ['a', 'b']) void leader.raft.append([Buffer.from(value)]);
    await cluster.scheduler.runFor(1000);
    expect(leader.raft.knownQuorumHighWatermark).toBe(leader.raft.highWatermark);
    cluster.network.isolate(follower, [1, 2, 3]);
    cluster.nodes.get(follower)?.raft.kill();
    cluster.network.detach(follower);
    for (const value of ['c', 'd']) void leader.raft.append([Buffer.from(value)]);
    await cluster.scheduler.runFor(1000);
    // Reopened while cut off: its own log says committed up to 'b', the quorum is past 'd'.
    const restarted = await cluster.start(follower);
    expect(restarted.raft.knownQuorumHighWatermark).toBeUndefined();
    await cluster.scheduler.runFor(500);
    expect(restarted.raft.knownQuorumHighWatermark).toBeUndefined();
    cluster.network.heal();
    await cluster.scheduler.runFor(5000, () => restarted.raft.knownQuorumHighWatermark !== undefined);
    expect(restarted.raft.knownQuorumHighWatermark).toBe(leader.raft.highWatermark);
    await cluster.scheduler.runFor(1000);
    expect(restarted.listener.values).toEqual(['a', 'b', 'c', 'd']);
    cluster.stopAll();
  });

  it('a listener is handed a commit only once the client knows a quorum high watermark past it, on the leader as on followers', async () => {
    // A restarted node's metadata loader waits for that watermark before it publishes: a leader
    // that learned it only after handing over the commits would leave its loader waiting.
    const cluster = await simCluster({ voters: [1, 2, 3] });
    const seen = new Map<number, Array<{ lastOffset: number; known: number | undefined }>>();
    for (const node of cluster.nodes.values()) {
      const commits: Array<{ lastOffset: number; known: number | undefined }> = [];
      seen.set(node.id, commits);
      node.raft.register({
        handleCommit: (batches) => commits.push(...batches.map((batch) => ({ lastOffset: batch.lastOffset, known: node.raft.knownQuorumHighWatermark }))),
        handleLoadSnapshot: () => {},
        handleLeaderChange: () => {},
      });
    }
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    const leader = cluster.leader();
    if (!leader) throw new Error('no leader');
    for (const value of ['a', 'b']) void leader.raft.append([Buffer.from(value)]);
    await cluster.scheduler.runFor(1000);
    for (const [id, commits] of seen) {
      expect(commits.length, `node ${id}`).toBeGreaterThan(0);
      for (const { lastOffset, known } of commits) expect(known, `node ${id}, commit of offset ${lastOffset}`).toBeGreaterThan(lastOffset);
    }
    cluster.stopAll();
  });

  it('a leader tells its followers no high watermark until it has committed in its epoch: its own may lag the quorum\'s after a restart', async () => {
    // A node reopened without a snapshot starts with high watermark 0. Elected before it has
    // committed anything in its epoch, it would tell its followers 0 as the quorum's, and a
    // restarted follower's metadata loader would publish an image long out of date.
    const cluster = await simCluster({ voters: [1, 2, 3] });
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    const leader = cluster.leader();
    if (!leader) throw new Error('no leader');
    for (const value of ['a', 'b']) void leader.raft.append([Buffer.from(value)]);
    await cluster.scheduler.runFor(1000);
    const committed = leader.raft.highWatermark;
    expect(committed).toBeGreaterThan(2);
    for (const id of [1, 2, 3]) cluster.crash(id);
    const restarted = [];
    for (const id of [1, 2, 3]) restarted.push(await cluster.start(id));
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    await cluster.scheduler.runFor(1000);
    for (const node of restarted) {
      expect(node.listener.quorumHighWatermarks.length, `node ${node.id}`).toBeGreaterThan(0);
      for (const told of node.listener.quorumHighWatermarks) expect(told, `node ${node.id}`).toBeGreaterThanOrEqual(committed);
    }
    cluster.stopAll();
  });

  it('a voter cut off and rejoining does not depose a healthy leader (pre-vote)', async () => {
    const cluster = await simCluster({ voters: [1, 2, 3] });
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    const leader = cluster.leader();
    if (!leader) throw new Error('no leader');
    const epoch = leader.raft.leaderAndEpoch.epoch;
    const loner = [1, 2, 3].find((id) => id !== leader.id) as number;
    cluster.network.isolate(loner, [1, 2, 3]);
    await cluster.scheduler.runFor(20_000);
    // Cut off, it kept asking for pre-votes in its old epoch, never bumping it.
    expect(cluster.nodes.get(loner)?.raft.leaderAndEpoch.epoch).toBe(epoch);
    cluster.network.heal();
    await cluster.scheduler.runFor(5000);
    expect(cluster.leader()?.id).toBe(leader.id);
    expect(leader.raft.leaderAndEpoch.epoch).toBe(epoch);
    expect(cluster.nodes.get(loner)?.raft.leaderAndEpoch).toEqual({ leaderId: leader.id, epoch });
    cluster.stopAll();
  });

  it('a node behind the leader log start fetches the leader snapshot, then the log after it', async () => {
    const { cluster, leader, last } = await leaderWithSnapshot();
    expect(leader.raft.logStartOffset).toBe(last + 1);
    await leader.raft.append([Buffer.from('after')]);
    const observer = await cluster.start(2);
    await cluster.scheduler.runFor(3000);
    expect(observer.listener.snapshots.map((snapshot) => snapshot.values.length)).toEqual([20]);
    expect(observer.listener.values).toEqual(['after']);
    expect(observer.raft.logStartOffset).toBe(last + 1);
    expect(observer.raft.highWatermark).toBe(leader.raft.highWatermark);
    cluster.stopAll();
  });

  it('a node that fetched the leader snapshot, with nothing committed after it, tells its listeners the quorum high watermark', async () => {
    // Its own high watermark does not move (the snapshot's end is already where it stands), so
    // no commit would carry the news: a metadata loader waiting for it would wait for the next
    // record, however long the quorum stays quiet.
    const { cluster, leader, last } = await leaderWithSnapshot();
    const observer = await cluster.start(2);
    await cluster.scheduler.runFor(3000);
    expect(observer.listener.snapshots.map((snapshot) => snapshot.endOffset)).toEqual([last + 1]);
    expect(observer.raft.knownQuorumHighWatermark).toBe(last + 1);
    expect(observer.listener.quorumHighWatermarks).toEqual([last + 1]);
    cluster.stopAll();
  });

  it('a leader closing gracefully hands over before an election timeout would have passed', async () => {
    const cluster = await simCluster({ voters: [1, 2, 3] });
    await cluster.scheduler.runFor(10_000, () => cluster.leader() !== undefined);
    const leader = cluster.leader();
    if (!leader) throw new Error('no leader');
    await cluster.scheduler.runFor(1000);
    const closedAt = cluster.clock.now();
    void leader.raft.close();
    await cluster.scheduler.runFor(5000, () => cluster.leader() !== undefined && cluster.leader() !== leader);
    expect(cluster.leader()).not.toBe(leader);
    expect(cluster.clock.now() - closedAt).toBeLessThan(leader.raft.config.controllerQuorumElectionTimeoutMs);
    cluster.stopAll();
  });
});

/**
 * A sole voter (1) that committed 20 values and wrote a snapshot of them, which moved its log start
 * past them; observer 2 is down with an empty log until the test starts it.
 */
async function leaderWithSnapshot() {
  const config = { metadataLogSegmentBytes: 300, metadataMaxRetentionBytes: 0, controllerQuorumAppendLingerMs: 0 };
  const cluster = await simCluster({ voters: [1], observers: [2], config });
  cluster.crash(2);
  const leader = cluster.nodes.get(1);
  if (!leader) throw new Error('no leader');
  let last = 0;
  for (let i = 0; i < 20; i++) last = await leader.raft.append([Buffer.from(`v${i}`)]);
  const writer = leader.raft.createSnapshot(last, leader.raft.leaderAndEpoch.epoch);
  writer?.append(leader.listener.values.map((value) => Buffer.from(value)));
  writer?.freeze();
  return { cluster, leader, last };
}
