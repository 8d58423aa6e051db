import { describe, expect, it } from 'vitest';
import { runRaftSimulation } from '../../src/index.js';

/**
 * Seeds run by `pnpm test`: as many as take about a minute on the development machine (measured,
 * see the package README). `pnpm sim raft --seeds N` runs any number.
 */
const SEEDS = Number(process.env.GREGOR_SIM_SEEDS ?? 80);
const FIRST_SEED = Number(process.env.GREGOR_SIM_FIRST_SEED ?? 1);

describe('the quorum simulation', () => {
  it('replays a seed exactly: two runs of one seed have the same trace, another seed another', async () => {
    const first = await runRaftSimulation({ seed: 42, chaosMs: 8000 });
    const again = await runRaftSimulation({ seed: 42, chaosMs: 8000 });
    const other = await runRaftSimulation({ seed: 43, chaosMs: 8000 });
    expect(first.traceHash).toBe(again.traceHash);
    expect(first.stats).toEqual(again.stats);
    expect(other.traceHash).not.toBe(first.traceHash);
    expect(first.replay).toBe('pnpm sim raft --seed 42 --chaos-ms 8000');
  });

  it('runs 1, 3 and 5 voters with observers through crashes, torn writes, partitions and drops', async () => {
    let crashes = 0;
    for (const [voters, observers] of [
      [1, 2],
      [3, 1],
      [5, 2],
    ]) {
      const result = await runRaftSimulation({ seed: 7, voters, observers, chaosMs: 10_000 });
      expect(result.violations, result.replay).toEqual([]);
      expect(result.stats.acknowledgedAppends).toBeGreaterThan(50);
      crashes += result.stats.crashes;
    }
    expect(crashes).toBeGreaterThan(0);
  });

  describe(`seeds ${FIRST_SEED}..${FIRST_SEED + SEEDS - 1} hold every property`, () => {
    for (let seed = FIRST_SEED; seed < FIRST_SEED + SEEDS; seed++) {
      it(`seed ${seed}`, async () => {
        const result = await runRaftSimulation({ seed });
        expect(result.violations, `replay with: ${result.replay}`).toEqual([]);
      });
    }
  });
});
