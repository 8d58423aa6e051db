/**
 * The controller quorum across processes: three `gregor serve --config` processes with
 * process.roles=controller elect one active controller; SIGKILL of it makes the other two elect a
 * new one in a higher epoch, and the killed one, started again on the same data dir, rejoins as a
 * follower that catches up. What `gregor cluster status --bootstrap-controller` shows is checked
 * once through the CLI.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { statusFromControllers } from '../../src/cli/cluster/status.js';
import { bin, ensureBuilt, root } from '../support/cli.js';
import { NodeProcesses } from '../support/node-processes.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const run = promisify(execFile);
let cluster: NodeProcesses | undefined;

afterEach(async () => {
  await cluster?.stopAll();
  cluster = undefined;
});

/** The quorum as the controllers at `addresses` describe it, once its leader answers and `accept` takes its leader and epoch. */
async function quorumOf(addresses: string, accept: (leaderId: number, epoch: number) => boolean, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const status = await statusFromControllers(addresses, 'test');
      if (status.quorum !== null && accept(status.quorum.leaderId, status.quorum.leaderEpoch)) return status.quorum;
      last = JSON.stringify(status.quorum);
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the quorum did not get there in ${timeoutMs} ms: ${last}`);
}

describe('a controller quorum of three processes', () => {
  it('elects a new active controller in a higher epoch after SIGKILL of the active one; the restarted one rejoins as a follower', async () => {
    ensureBuilt();
    cluster = await NodeProcesses.create(
      [1, 2, 3].map((nodeId) => ({ nodeId, roles: ['controller'] })),
      { 'controller.quorum.election.timeout.ms': '500', 'controller.quorum.fetch.timeout.ms': '1000' },
    );
    await cluster.startAll();
    const all = cluster.nodes.map((node) => node.controllerAddress).join(',');
    const first = await quorumOf(all, (leaderId) => leaderId > 0);

    const printed = await run(process.execPath, [bin, 'cluster', 'status', '--bootstrap-controller', all], { cwd: root });
    expect(printed.stdout).toContain(`Controller quorum: leader node ${first.leaderId} (the active controller), epoch ${first.leaderEpoch}`);
    for (const nodeId of [1, 2, 3]) expect(printed.stdout).toMatch(new RegExp(`voter ${nodeId} `));

    await cluster.kill(first.leaderId, 'SIGKILL');
    const survivors = cluster.nodes.filter((node) => node.nodeId !== first.leaderId).map((node) => node.controllerAddress).join(',');
    const second = await quorumOf(survivors, (leaderId, epoch) => leaderId > 0 && leaderId !== first.leaderId && epoch > first.leaderEpoch);
    expect(second.voters.map((voter) => voter.replicaId)).toEqual([1, 2, 3]);

    cluster.spawn(first.leaderId);
    await cluster.ready(first.leaderId);
    // Rejoined: the new leader sees the restarted voter fetching and caught up, and it did not take the leadership back.
    const healed = await quorumOf(all, (leaderId, epoch) => leaderId === second.leaderId && epoch === second.leaderEpoch);
    await expect
      .poll(async () => (await quorumOf(all, () => true)).voters.find((voter) => voter.replicaId === first.leaderId)?.lag, { timeout: 20_000, interval: 100 })
      .toBe(0);
    expect(healed.leaderId).toBe(second.leaderId);
  });
});
