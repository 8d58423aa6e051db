/**
 * The whole-cluster simulation (src/sim/): determinism, the seeds that found bugs, the checker
 * catching each kind of violation it reports (from fabricated observations, and from whole runs
 * with a bug injected into the group coordinator or the assignor). The window of seeds `pnpm test`
 * runs is in seeds-*.test.ts (seed-window.ts); `pnpm sim cluster --seeds N` runs any number.
 * Seeds 4 and 9 of the default window failed before a restarted broker waited to be unfenced before
 * serving (the other bug the simulation found, a new leader's lagging HW shown to consumers, has
 * its regression test in packages/broker/test/replication.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { MetadataImage } from '@gregor/metadata';
import { ErrorCode } from '@gregor/protocol';
import { ClusterChecker, type ClusterSimOptions, clusterReplayCommand, GroupChecker, rangeAssignor, runClusterSimulation, runSimCli } from '../../src/sim/index.js';
import { acceptStaleGenerations, everythingToEveryone, shiftFetchedOffsets } from './injected-bugs.js';

describe('the whole-cluster simulation', () => {
  it('replays a seed exactly: two runs of one seed have the same trace, another seed another', async () => {
    const first = await runClusterSimulation({ seed: 3, chaosMs: 6000 });
    const again = await runClusterSimulation({ seed: 3, chaosMs: 6000 });
    const other = await runClusterSimulation({ seed: 5, chaosMs: 6000 });
    expect(first.violations, first.replay).toEqual([]);
    expect(first.traceHash).toBe(again.traceHash);
    expect(first.stats).toEqual(again.stats);
    expect(other.traceHash).not.toBe(first.traceHash);
    expect(first.stats.acknowledgedRecords).toBeGreaterThan(100);
    expect(first.stats.group.syncs).toBeGreaterThan(2);
    expect(first.stats.group.commitsAcknowledged).toBeGreaterThan(10);
    expect(first.replay).toBe('pnpm sim cluster --seed 3 --chaos-ms 6000');
  }, 120_000);

  it('seed 2104, which found a restarted broker acting on its stale metadata image', async () => {
    const result = await runClusterSimulation({ seed: 2104 });
    expect(result.violations, `replay: ${result.replay}`).toEqual([]);
  }, 120_000);

  it('seed 26, which found a restarted coordinator writing group metadata before it was unfenced', async () => {
    // Its broker restarted (power loss, torn tail) before the controller fenced its old
    // incarnation, led `__consumer_offsets-1` in its old image, expired the loaded members and
    // appended GroupMetadata at an offset the other replicas held an offset commit at.
    const result = await runClusterSimulation({ seed: 26 });
    expect(result.violations, `replay: ${result.replay}`).toEqual([]);
    expect(result.stats.faults.powerLosses).toBeGreaterThan(0);
  }, 120_000);

  // Seeds that once failed, and what each found; each passes now (docs/testing.md tells more).
  const regressions: { seeds: number[]; found: string }[] = [
    { seeds: [175], found: 'a power loss drawn while a node was cut off (two failures at once)' },
    // Its follower's OffsetForLeaderEpoch waited forever, and the follower never fetched again.
    { seeds: [277], found: 'a request held by a paused node that crashed never settling for its sender' },
    // 301: commits every 300 ms after healing kept `__consumer_offsets` from ever looking converged
    // (and two images with the same records under different offsets were taken for different);
    // 307: the final check read the logs with the members' last commit still in flight.
    { seeds: [301, 307], found: 'the end of a run checking the group\'s offsets while they still moved' },
    // Its first answer was lost; the coordinator answered the retry without the members' metadata,
    // so the leader assigned nothing to anyone and the group stopped reading.
    { seeds: [21000], found: 'a group leader asking JoinGroup again answered without the members' },
    // Its raft client learned the quorum's high watermark only after handing the loader the
    // commits that moved it; the loader, waiting for that watermark, never published, and the
    // node's broker never finished starting (the replicas did not converge after healing).
    { seeds: [43390, 52186, 53040], found: 'a node restarted from its snapshot and elected quorum leader at once never publishing an image' },
    // Restarted empty, it fetched the quorum leader's snapshot, which ended at the quorum's high
    // watermark, and nothing more was committed: the leader's Fetch answers told it that high
    // watermark, but its own did not move, so no commit carried the news to its metadata loader.
    { seeds: [63543, 73149, 74592], found: 'a node that fetched the leader snapshot never publishing an image' },
    // Two nodes restarted at once; one was elected quorum leader and, before it had committed in
    // its epoch, answered its own high watermark (its snapshot's end, far below the quorum's). The
    // other took it for the quorum's, published an image where a deposed broker still led
    // __consumer_offsets-1, followed it and cut two committed offset commits from its log.
    { seeds: [71970], found: 'a follower truncating committed group offsets after a restarted quorum leader told it a stale high watermark' },
    // Generation 8 was written by a coordinator that crashed before it was replicated; the next
    // leader of __consumer_offsets-1 loaded it from its log's tail and answered SyncGroup with it;
    // then a replica without that tail was elected, cut it, and the group started again from
    // generation 5, so a commit of the new generation 6 looked like a zombie's. A coordinator now
    // serves a partition's groups only once its high watermark passed what it loaded.
    { seeds: [93782], found: 'a new coordinator handing out a generation from the unreplicated tail of its log' },
    // A paused coordinator resumed holding an OffsetCommit and its client's retry of the same
    // offset; it wrote both in the same millisecond, so the two records are the same bytes. Kafka
    // does the same: only a producer's records must be in a partition once.
    { seeds: [91544, 92175], found: 'the checker counting two identical offset commits as a duplicated record' },
    // Node 3 led sim-1 with ISR [3, 1]; node 1 was fenced, leaving [3]; node 3 lost power with
    // nothing flushed past 77 and, still the whole ISR, was elected again: committed records to
    // 151 were gone from every replica. Now node 1 stays an eligible leader replica (the ISR was
    // under min ISR), node 3 leaves the ISR when it registers without a clean-shutdown epoch, and
    // node 1 leads (KIP-966).
    { seeds: [125775], found: 'the last in-sync replica elected again after it lost its unflushed tail in a power loss' },
    // The two nodes that knew the coordinator had moved were closing; the checker looked for the
    // newest metadata among the nodes up only, found the third node's stale image naming itself,
    // and so compared its stale OffsetFetch answer with the acknowledged commits. The checker now
    // keeps the newest committed metadata any node applied.
    { seeds: [151033], found: 'the checker taking a catching-up node\'s stale answer for the current coordinator\'s' },
  ];
  for (const { seeds, found } of regressions) {
    it(`${seeds.length === 1 ? 'seed' : 'seeds'} ${seeds.join(', ')}, which found ${found}`, async () => {
      for (const seed of seeds) {
        const result = await runClusterSimulation({ seed });
        expect(result.violations, `replay: ${result.replay}`).toEqual([]);
      }
    }, 120_000);
  }

  it('prints the command that replays a failing seed', async () => {
    expect(clusterReplayCommand(123)).toBe('pnpm sim cluster --seed 123');
    const lines: string[] = [];
    expect(await runSimCli(['nonsense'], (line) => lines.push(line))).toBe(2);
    expect(lines[0]).toMatch(/^usage: pnpm sim \[cluster\]/);
  });
});

describe('the cluster checker', () => {
  const checker = () => new ClusterChecker(() => 0);

  it('reports an acknowledged record that is lost, replaced, duplicated or out of sequence', () => {
    const lost = checker();
    lost.observeAcknowledged('sim-0', 0, 'p1:0:0');
    lost.observeAcknowledged('sim-0', 1, 'p1:0:1');
    const replica = (records: [number, string][], highWatermark = records.length) => ({ records: new Map(records), highWatermark, logEndOffset: records.length });
    const consumed = new Map([['sim-0', new Set(['p1:0:0', 'p1:0:1'])]]);
    lost.checkFinal({ logs: new Map([['sim-0', new Map([[1, replica([[0, 'p1:0:0']])]])]]), consumed, images: new Map() });
    expect(lost.violations.join('\n')).toMatch(/acknowledged p1:0:1 at sim-0 offset 1 is lost/);

    const replaced = checker();
    replaced.observeAcknowledged('sim-0', 0, 'p1:0:0');
    replaced.observeCommitted('node 2', 'sim-0', 0, 'p2:0:0');
    expect(replaced.violations[0]).toMatch(/node 2 has p2:0:0 at sim-0 offset 0, where p1:0:0 was acknowledged/);

    const twice = checker();
    twice.checkFinal({ logs: new Map([['sim-0', new Map([[1, replica([[0, 'p1:0:0'], [1, 'p1:0:0']])]])]]), consumed: new Map(), images: new Map() });
    expect(twice.violations[0]).toMatch(/p1:0:0 is twice in sim-0/);
    // Two OffsetCommits of one offset in one millisecond write the same record twice: allowed.
    const sameCommit = checker();
    sameCommit.checkFinal({ logs: new Map([['__consumer_offsets-1', new Map([[1, replica([[0, 'a2V5/dmFsdWU='], [1, 'a2V5/dmFsdWU=']])]])]]), consumed: new Map(), images: new Map() });
    expect(sameCommit.violations).toEqual([]);

    const gap = checker();
    gap.checkFinal({ logs: new Map([['sim-0', new Map([[1, replica([[0, 'p1:0:0'], [1, 'p1:0:2']])]])]]), consumed: new Map(), images: new Map() });
    expect(gap.violations[0]).toMatch(/offset 1 holds p1:0:2 where p1's sequence 1 was next/);
  });

  it('reports replicas that differ after healing, and a record the group never read', () => {
    const differ = checker();
    differ.observeAcknowledged('sim-0', 0, 'p1:0:0');
    const one = { records: new Map([[0, 'p1:0:0']]), highWatermark: 1, logEndOffset: 1 };
    const other = { records: new Map([[0, 'p2:0:0']]), highWatermark: 1, logEndOffset: 1 };
    differ.checkFinal({ logs: new Map([['sim-0', new Map([[1, one], [2, other]])]]), consumed: new Map(), images: new Map([[1, 'a'], [2, 'b']]) });
    const text = differ.violations.join('\n');
    expect(text).toMatch(/metadata images differ/);
    expect(text).toMatch(/sim-0 offset 0 is p2:0:0 on node 2 but p1:0:0 on node 1/);
    expect(text).toMatch(/the group never read acknowledged p1:0:0 of sim-0/);
  });

  it('reports a high watermark (per consumer) or a committed offset that goes back, and two leaders in an epoch', () => {
    const hw = checker();
    hw.observeConsumerHighWatermark('member 1', 'sim-1', 52);
    hw.observeConsumerHighWatermark('member 2', 'sim-1', 50);
    expect(hw.violations).toEqual([]);
    hw.observeConsumerHighWatermark('member 1', 'sim-1', 49);
    expect(hw.violations[0]).toMatch(/member 1 saw sim-1's high watermark go back from 52 to 49/);

    const offsets = new ClusterChecker(() => 7, () => 'seed 9 step 40');
    offsets.group.consumedRecord('sim-2', 9, 'p1:2:9');
    offsets.group.commitAnswered(offsets.group.commitSent('member 1', 2, 'sim-2', 10), 'sim-2', 0);
    offsets.group.offsetFetched('member 1', 3, 'sim-2', 7, offsets.group.mark(), true);
    expect(offsets.violations[0]).toMatch(/^at 7 ms: seed 9 step 40: member 1 generation 3: OffsetFetch answered 7 for sim-2, after member 1's commit of 10/);

    const leaders = checker();
    leaders.quorum.observeLeader(3, 1, 'node 1 is leader');
    leaders.quorum.observeLeader(3, 2, 'node 2 is leader');
    expect(leaders.violations[0]).toMatch(/two leaders in epoch 3/);
  });

  it('reports an image whose leader is outside the ISR, or whose leader epoch went back', () => {
    const image = (leader: number, leaderEpoch: number, offset: number) => {
      const topicId = 'AAAAAAAAAAAAAAAAAAAAAg';
      const partitions = new Map([[0, { replicas: [1, 2, 3], isr: [2, 3], leader, leaderEpoch, partitionEpoch: leaderEpoch, removingReplicas: [], addingReplicas: [] }]]);
      return { offset, topicsById: new Map([[topicId, { name: 'sim', id: topicId, partitions }]]) } as unknown as MetadataImage;
    };
    const outside = checker();
    outside.observeImage('node 1 lifetime 1', image(1, 2, 10));
    expect(outside.violations[0]).toMatch(/has leader 1 outside its ISR \[2,3\]/);

    const back = checker();
    back.observeImage('node 1 lifetime 1', image(2, 4, 10));
    back.observeImage('node 1 lifetime 1', image(3, 3, 11));
    expect(back.violations[0]).toMatch(/went back from leader epoch 4/);
  });
});

describe('the group checker', () => {
  const checker = () => {
    const violations: string[] = [];
    return { group: new GroupChecker((message) => violations.push(message)), violations };
  };

  it('reports an OffsetFetch of the current coordinator below the last acknowledged commit', () => {
    const { group, violations } = checker();
    group.commitAnswered(group.commitSent('member 1', 3, 'sim-0', 10), 'sim-0', ErrorCode.NONE);
    group.consumedRecord('sim-0', 9, 'p1:0:9');
    const sent = group.mark();
    group.offsetFetched('member 2', 4, 'sim-0', 7, sent, true);
    expect(violations).toEqual(["member 2 generation 4: OffsetFetch answered 7 for sim-0, after member 1's commit of 10 (generation 3) was acknowledged: committed offsets went back"]);
  });

  it('accepts a lower answer from a deposed coordinator, or one a later commit of that offset explains', () => {
    const { group, violations } = checker();
    group.consumedRecord('sim-0', 20, 'p1:0:20');
    const old = group.commitSent('member 1', 3, 'sim-0', 12);
    const newer = group.commitSent('member 2', 4, 'sim-0', 15);
    group.commitAnswered(newer, 'sim-0', ErrorCode.NONE);
    // member 1's older commit lands after member 2's: both acknowledged, the older one applied last.
    group.commitAnswered(old, 'sim-0', ErrorCode.NONE);
    group.offsetFetched('member 3', 5, 'sim-0', 12, group.mark(), true);
    group.offsetFetched('member 3', 5, 'sim-0', 3, group.mark(), false);
    expect(violations).toEqual([]);
    // A commit of the answered offset that was refused for its generation explains nothing.
    const { group: strict, violations: found } = checker();
    strict.consumedRecord('sim-0', 20, 'p1:0:20');
    strict.commitAnswered(strict.commitSent('member 1', 4, 'sim-0', 15), 'sim-0', ErrorCode.NONE);
    strict.commitAnswered(strict.commitSent('member 2', 3, 'sim-0', 12), 'sim-0', ErrorCode.ILLEGAL_GENERATION);
    strict.offsetFetched('member 3', 5, 'sim-0', 12, strict.mark(), true);
    expect(found[0]).toMatch(/OffsetFetch answered 12 for sim-0, after member 1's commit of 15/);
  });

  it('reports a commit acknowledged for a generation older than one already handed out', () => {
    const { group, violations } = checker();
    group.synced('member 1', 'm1', 5, ['sim-0']);
    group.commitAnswered(group.commitSent('member 2', 4, 'sim-1', 8), 'sim-1', ErrorCode.NONE);
    group.commitAnswered(group.commitSent('member 3', 4, 'sim-2', 8), 'sim-2', ErrorCode.ILLEGAL_GENERATION);
    expect(violations).toEqual(["member 2 generation 4: OffsetCommit of sim-1 offset 8 was acknowledged, but generation 5 had already been handed out (to member 1) before it was sent: a fenced generation's commit must be refused"]);
    // Sent before generation 5 was handed out: the coordinator may have taken it in generation 4.
    const { group: early, violations: none } = checker();
    const commit = early.commitSent('member 2', 4, 'sim-1', 8);
    early.synced('member 1', 'm1', 5, ['sim-0']);
    early.commitAnswered(commit, 'sim-1', ErrorCode.NONE);
    expect(none).toEqual([]);
  });

  it('reports a partition assigned to two members in one generation, and an offset past what the group read', () => {
    const { group, violations } = checker();
    group.synced('member 1', 'm1', 2, ['sim-0', 'sim-1']);
    group.synced('member 2', 'm2', 2, ['sim-2']);
    group.synced('member 2', 'm2', 3, ['sim-0']);
    expect(violations).toEqual([]);
    group.synced('member 3', 'm3', 2, ['sim-1']);
    expect(violations).toEqual(['generation 2: sim-1 is assigned to member 3 (m3) and to member 1 (m1)']);
    group.consumedRecord('sim-2', 4, 'p1:2:4');
    group.offsetFetched('member 2', 3, 'sim-2', 5, group.mark(), false);
    group.offsetFetched('member 2', 3, 'sim-2', 8, group.mark(), false);
    expect(violations[1]).toBe('member 2 generation 3: OffsetFetch answered 8 for sim-2, but the group has consumed it only up to 5: offsets 5..7 would be skipped');
  });

  it('assigns ranges as Kafka\'s RangeAssignor: members by id, the first ones one more', () => {
    expect([...rangeAssignor(['b', 'a'], 3)]).toEqual([['a', [0, 1]], ['b', [2]]]);
    expect([...rangeAssignor(['c', 'a', 'b'], 3)]).toEqual([['a', [0]], ['b', [1]], ['c', [2]]]);
    expect([...rangeAssignor(['a', 'b', 'c', 'd'], 3)]).toEqual([['a', [0]], ['b', [1]], ['c', [2]], ['d', []]]);
  });
});

describe('the simulation catches a bug injected into the group', () => {
  const run = async (seed: number, inject: ClusterSimOptions['inject']) => (await runClusterSimulation({ seed, inject })).violations.join('\n');

  it('a coordinator that accepts commits of a fenced generation', async () => {
    // A member paused past its session timeout (a zombie) commits with its old generation.
    // Which seeds draw a zombie's commit depends on the whole run; seed 10 did until the quorum's
    // leaders stopped telling a high watermark before their first commit (f0a6f3b), 11 does now.
    expect(await run(11, {})).toBe('');
    expect(await run(11, { broker: acceptStaleGenerations })).toMatch(/seed 11 step \d+: member \d generation \d+: OffsetCommit of sim-\d offset \d+ was acknowledged, but generation \d+ had already been handed out \(to member \d\) before it was sent/);
  }, 120_000);

  it('a coordinator whose OffsetFetch answers less than was committed', async () => {
    expect(await run(2, { broker: shiftFetchedOffsets(-1) })).toMatch(/seed 2 step \d+: member \d generation \d+: OffsetFetch answered \d+ for sim-\d, after member \d's commit of \d+ \(generation \d+\) was acknowledged: committed offsets went back/);
  }, 120_000);

  it('a coordinator whose OffsetFetch answers more than was committed (records skipped)', async () => {
    expect(await run(2, { broker: shiftFetchedOffsets(3) })).toMatch(/seed 2 step \d+: member \d generation \d+: OffsetFetch answered \d+ for sim-\d, but the group has consumed it only up to \d+: offsets \d+\.\.\d+ would be skipped/);
  }, 120_000);

  it('an assignor that gives a partition to two members', async () => {
    expect(await run(3, { assignor: everythingToEveryone })).toMatch(/seed 3 step \d+: generation \d+: sim-0 is assigned to member \d \(\S+\) and to member \d/);
  }, 120_000);
});
