import { describe, expect, it } from 'vitest';
import { QuorumChecker, runRaftSimulation } from '../../src/index.js';

describe('QuorumChecker', () => {
  it('reports two leaders in one epoch, a committed record changed, a high watermark going back, a lost acknowledged append', () => {
    const checker = new QuorumChecker(() => 0);
    checker.observeLeader(3, 1, 'role');
    checker.observeLeader(3, 1, 'LeaderChange record');
    expect(checker.ok).toBe(true);
    checker.observeLeader(3, 2, 'role');
    checker.observeCommit(1, 10, { value: 'a', epoch: 3 });
    checker.observeCommit(2, 10, { value: 'a', epoch: 3 });
    checker.observeCommit(2, 10, { value: 'b', epoch: 3 });
    checker.observeCommit(3, 10, { value: 'a', epoch: 4 });
    checker.observeHighWatermark('node 1 lifetime 1', 5);
    checker.observeHighWatermark('node 1 lifetime 2', 2);
    checker.observeHighWatermark('node 1 lifetime 1', 4);
    checker.observeAcknowledged(12, ['x', 'y']);
    checker.checkAcknowledged();
    expect(checker.violations.map((violation) => violation.replace(/^at 0 ms: /, ''))).toEqual([
      'two leaders in epoch 3: 1 and 2 (role)',
      'node 2 committed b@3 at offset 10, where a@3 was committed',
      'node 3 committed a@4 at offset 10, where a@3 was committed',
      'high watermark of node 1 lifetime 1 went back from 5 to 4',
      'acknowledged append x at offset 11 is not committed on any node',
      'acknowledged append y at offset 12 is not committed on any node',
    ]);
  });

  it('catches what Raft cannot survive: with disks wiped on crash, runs break safety and say how', async () => {
    const violations: string[] = [];
    for (let seed = 1; seed <= 20 && violations.length === 0; seed++) {
      violations.push(...(await runRaftSimulation({ seed, voters: 3, wipeDiskOnCrash: true })).violations);
    }
    expect(violations.length).toBeGreaterThan(0);
    expect(violations[0]).toMatch(/two leaders in epoch|committed .* where .* was committed|never truncate below|not committed on any node/);
  });
});
