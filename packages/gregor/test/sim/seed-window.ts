/**
 * The window of seeds `pnpm test` runs through the whole-cluster simulation, split in parts so
 * vitest's workers run them side by side where there are two (seeds-1.test.ts, seeds-2.test.ts).
 * The default, 450 seeds from 1, is about three minutes of one core (0.3-0.4 s a seed on the
 * shared development machine, docs/testing.md);
 * GREGOR_CLUSTER_SIM_SEEDS and GREGOR_CLUSTER_SIM_FIRST_SEED move it.
 */
import { describe, expect, it } from 'vitest';
import { runClusterSimulation } from '../../src/sim/index.js';

export const SEEDS = Number(process.env.GREGOR_CLUSTER_SIM_SEEDS ?? 450);
export const FIRST_SEED = Number(process.env.GREGOR_CLUSTER_SIM_FIRST_SEED ?? 1);

/** Registers the tests of part `part` (1-based) of `parts` of the window. */
export function describeSeedWindow(part: number, parts: number): void {
  const size = Math.ceil(SEEDS / parts);
  const first = FIRST_SEED + (part - 1) * size;
  const end = Math.min(FIRST_SEED + SEEDS, first + size);
  describe(`the whole-cluster simulation: seeds ${first}..${end - 1} hold every property`, () => {
    for (let seed = first; seed < end; seed++) {
      it(`seed ${seed}`, async () => {
        const result = await runClusterSimulation({ seed });
        expect(result.violations, `replay: ${result.replay}`).toEqual([]);
        expect(result.stats.acknowledgedRecords).toBeGreaterThan(0);
        expect(result.stats.consumedRecords).toBeGreaterThanOrEqual(result.stats.acknowledgedRecords);
      }, 120_000);
    }
  });
}
