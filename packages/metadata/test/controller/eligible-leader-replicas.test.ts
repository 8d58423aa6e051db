/**
 * Eligible leader replicas (KIP-966) in the controller: who enters and leaves the ELR, who may be
 * elected from it, what a registration without proof of a clean shutdown takes away, and the last
 * known leader as the last resort. The first test is the story of simulation seed 125775.
 */
import { describe, expect, it } from 'vitest';
import { alterPartitionRequest, createTopicsRequest, harness, type Harness, heartbeat, registration, startBrokers } from './harness.js';

async function createTopic(h: Harness, name: string, assignment: number[], minIsr: number): Promise<string> {
  const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name, assignments: [assignment], configs: { 'min.insync.replicas': String(minIsr) } }])));
  return created.topics[0].topicId;
}

async function fence(h: Harness, brokerId: number, epoch: number): Promise<void> {
  await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(brokerId, epoch, h.controller.committedImage.offset, { wantFence: true })));
}

/** Registers a new incarnation, with the epoch of the last one when its shutdown was clean, then unfences it. */
async function restart(h: Harness, brokerId: number, incarnation: number, previousBrokerEpoch: number): Promise<number> {
  const { brokerEpoch } = await h.call(() => h.controller.registerBroker(3, registration(brokerId, { incarnation, previousBrokerEpoch })));
  return brokerEpoch;
}

async function unfence(h: Harness, brokerId: number, epoch: number): Promise<void> {
  await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(brokerId, epoch, h.controller.committedImage.offset)));
}

/** Topic `t` on brokers 1 and 2 with min ISR 2, both fenced, 2 first: ISR empty, both eligible, 1 the last leader. */
async function bothReplicasFenced(): Promise<{ h: Harness; epochs: Map<number, number> }> {
  const h = harness();
  h.elect();
  const epochs = await startBrokers(h, [1, 2]);
  await createTopic(h, 't', [1, 2], 2);
  await fence(h, 2, epochs.get(2) ?? -1);
  await fence(h, 1, epochs.get(1) ?? -1);
  return { h, epochs };
}

describe('eligible leader replicas', () => {
  it('elects the replica that left the ISR under min ISR, not the last ISR member back from an unclean shutdown', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    const topicId = await createTopic(h, 'sim', [3, 1, 2], 2);
    // Node 2 lags: the leader shrinks the ISR to [3, 1], still at min ISR.
    await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(3, epochs.get(3) ?? -1, topicId, { partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [3, 1] })));
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: 3, isr: [3, 1], elr: [] });
    // Node 1 is cut off and fenced: the ISR falls under min ISR, so node 1 stays eligible.
    await fence(h, 1, epochs.get(1) ?? -1);
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: 3, isr: [3], elr: [1] });
    // Node 3 loses power; its session expires, and it is fenced in turn: the ISR is empty.
    await fence(h, 3, epochs.get(3) ?? -1);
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: -1, isr: [], elr: [3, 1], lastKnownElr: [3] });
    // It registers again without proof of a clean shutdown: it may have lost its unflushed tail,
    // so it is no longer eligible, and nobody can lead yet (node 1 is fenced).
    const epoch3 = await restart(h, 3, 1, -1);
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: -1, isr: [], elr: [1], lastKnownElr: [3] });
    await unfence(h, 3, epoch3);
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: -1, isr: [], elr: [1] });
    // Node 1 comes back: it holds every committed record, and leads.
    await unfence(h, 1, epochs.get(1) ?? -1);
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: 1, isr: [1], elr: [], lastKnownElr: [], leaderRecoveryState: 0 });
  });

  it('without eligible leader replicas, elects the last ISR member back from a power loss (the hole KIP-966 closes)', async () => {
    const h = harness({ eligibleLeaderReplicasEnable: false });
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    const topicId = await createTopic(h, 'sim', [3, 1, 2], 2);
    await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(3, epochs.get(3) ?? -1, topicId, { partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [3, 1] })));
    await fence(h, 1, epochs.get(1) ?? -1);
    await fence(h, 3, epochs.get(3) ?? -1);
    await unfence(h, 3, await restart(h, 3, 1, -1));
    await unfence(h, 1, epochs.get(1) ?? -1);
    expect(h.controller.committedImage.partition('sim', 0)).toMatchObject({ leader: 3, isr: [3], elr: [] });
  });

  it('keeps the ELR empty while the ISR is at min ISR, and empties it when the ISR grows back', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    const topicId = await createTopic(h, 't', [1, 2, 3], 2);
    await fence(h, 3, epochs.get(3) ?? -1);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 1, isr: [1, 2], elr: [] });
    await fence(h, 2, epochs.get(2) ?? -1);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 1, isr: [1], elr: [2] });
    await unfence(h, 2, epochs.get(2) ?? -1);
    const partition = h.controller.committedImage.partition('t', 0);
    await h.call(() => h.controller.alterPartition(3, alterPartitionRequest(1, epochs.get(1) ?? -1, topicId, {
      partitionIndex: 0, leaderEpoch: partition?.leaderEpoch ?? -1, partitionEpoch: partition?.partitionEpoch ?? -1, newIsr: [1, 2],
    })));
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 1, isr: [1, 2], elr: [] });
  });

  it('elects an ELR member back from a clean shutdown once the ISR is empty', async () => {
    const { h, epochs } = await bothReplicasFenced();
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: -1, isr: [], elr: [1, 2], lastKnownElr: [1] });
    // Broker 2 restarts cleanly: it proves it with its last epoch, and stays eligible.
    await unfence(h, 2, await restart(h, 2, 1, epochs.get(2) ?? -1));
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 2, isr: [2], elr: [1], lastKnownElr: [], leaderRecoveryState: 0 });
    // Broker 1 comes back from an unclean shutdown: no longer eligible.
    await restart(h, 1, 1, -1);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 2, isr: [2], elr: [] });
  });

  it('falls back to the last known leader, uncleanly, when every eligible replica came back from an unclean shutdown', async () => {
    const { h, epochs } = await bothReplicasFenced();
    const epoch2 = await restart(h, 2, 1, -1);
    const epoch1 = await restart(h, 1, 1, -1);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: -1, isr: [], elr: [], lastKnownElr: [1] });
    // Broker 2 is back first, but only the last leader may be elected without an eligible replica.
    await unfence(h, 2, epoch2);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: -1, isr: [] });
    await unfence(h, 1, epoch1);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 1, isr: [1], elr: [], lastKnownElr: [], leaderRecoveryState: 1 });
  });
});
