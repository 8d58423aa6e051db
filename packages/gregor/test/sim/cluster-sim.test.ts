/**
 * The whole-cluster simulation (src/sim/): determinism, a window of seeds holding every property
 * of issues 7 and 8, and the checker catching each kind of violation it reports. Seeds run by
 * `pnpm test`: GREGOR_CLUSTER_SIM_SEEDS (default 10, about 20 s on the shared development machine)
 * from GREGOR_CLUSTER_SIM_FIRST_SEED (default 1); `pnpm sim cluster --seeds N` runs any number.
 * Seeds 4 and 9 of the default window failed before a restarted broker waited to be unfenced before
 * serving (the other bug the simulation found, a new leader's lagging HW shown to consumers, has
 * its regression test in packages/broker/test/replication.test.ts).
 */
import { describe, expect, it } from 'vitest';
import type { MetadataImage } from '@gregor/metadata';
import { ClusterChecker, clusterReplayCommand, runClusterSimulation, runSimCli } from '../../src/sim/index.js';

const SEEDS = Number(process.env.GREGOR_CLUSTER_SIM_SEEDS ?? 10);
const FIRST_SEED = Number(process.env.GREGOR_CLUSTER_SIM_FIRST_SEED ?? 1);

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
    expect(first.replay).toBe('pnpm sim cluster --seed 3 --chaos-ms 6000');
  }, 120_000);

  describe(`seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1} hold every property`, () => {
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      it(`seed ${seed}`, async () => {
        const result = await runClusterSimulation({ seed });
        expect(result.violations, `replay: ${result.replay}`).toEqual([]);
        expect(result.stats.acknowledgedRecords).toBeGreaterThan(0);
        expect(result.stats.consumedRecords).toBeGreaterThanOrEqual(result.stats.acknowledgedRecords);
      }, 120_000);
    }
  });

  it('seed 2104, which found a restarted broker acting on its stale metadata image', async () => {
    const result = await runClusterSimulation({ seed: 2104 });
    expect(result.violations, `replay: ${result.replay}`).toEqual([]);
  }, 120_000);

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

    const gap = checker();
    gap.checkFinal({ logs: new Map([['sim-0', new Map([[1, replica([[0, 'p1:0:0'], [1, 'p1:0:2']])]])]]), consumed: new Map(), images: new Map() });
    expect(gap.violations[0]).toMatch(/offset 1 holds p1:0:2 where p1's sequence 1 was next/);
  });

  it('reports replicas that differ after healing, and a record the consumer never read', () => {
    const differ = checker();
    differ.observeAcknowledged('sim-0', 0, 'p1:0:0');
    const one = { records: new Map([[0, 'p1:0:0']]), highWatermark: 1, logEndOffset: 1 };
    const other = { records: new Map([[0, 'p2:0:0']]), highWatermark: 1, logEndOffset: 1 };
    differ.checkFinal({ logs: new Map([['sim-0', new Map([[1, one], [2, other]])]]), consumed: new Map(), images: new Map([[1, 'a'], [2, 'b']]) });
    const text = differ.violations.join('\n');
    expect(text).toMatch(/metadata images differ/);
    expect(text).toMatch(/sim-0 offset 0 is p2:0:0 on node 2 but p1:0:0 on node 1/);
    expect(text).toMatch(/the consumer never read acknowledged p1:0:0 of sim-0/);
  });

  it('reports a high watermark or a committed offset that goes back, and two leaders in an epoch', () => {
    const hw = checker();
    hw.observeConsumerHighWatermark('sim-1', 52);
    hw.observeConsumerHighWatermark('sim-1', 49);
    expect(hw.violations[0]).toMatch(/high watermark go back from 52 to 49/);

    const offsets = checker();
    offsets.observeOffsetCommitAcknowledged('sim-2', 10);
    offsets.observeOffsetFetched('sim-2', 7);
    expect(offsets.violations[0]).toMatch(/OffsetFetch answered 7 for sim-2, after a commit of 10 was acknowledged/);

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
