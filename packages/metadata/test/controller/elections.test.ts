/**
 * Leader elections beyond fencing: ElectLeaders (preferred and unclean), the automatic preferred
 * leader balance on leader.imbalance.check.interval.seconds, and unclean.leader.election.enable.
 */
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { buildPartitionChange, type PartitionRegistration } from '../../src/index.js';
import { createTopicsRequest, harness, heartbeat, registration, startBrokers } from './harness.js';

function registrationOf(replicas: number[], isr: number[], leader: number): PartitionRegistration {
  return { replicas, isr, leader, removingReplicas: [], addingReplicas: [], elr: [], lastKnownElr: [], leaderRecoveryState: 0, leaderEpoch: 4, partitionEpoch: 9 };
}

describe('buildPartitionChange', () => {
  const live = (...ids: number[]) => (id: number) => ids.includes(id);

  it('keeps a valid leader, else takes the first live ISR member in replica order, else none', () => {
    const current = registrationOf([1, 2, 3], [1, 2, 3], 1);
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current, isAcceptableLeader: live(1, 2, 3) })).toBeNull();
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current, isAcceptableLeader: live(2, 3), targetIsr: [3, 2] })).toEqual({
      type: 'PartitionChange', topicId: 't', partitionId: 0, leader: 2, isr: [3, 2],
    });
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current: registrationOf([1, 2], [1], 1), isAcceptableLeader: live(2), targetIsr: [] })).toEqual({
      type: 'PartitionChange', topicId: 't', partitionId: 0, leader: -1,
    });
  });

  it('prefers the first replica in a preferred election, and elects outside the ISR only when unclean', () => {
    const current = registrationOf([1, 2, 3], [1, 2, 3], 2);
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current, isAcceptableLeader: live(1, 2, 3), election: 'preferred' })?.leader).toBe(1);
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current, isAcceptableLeader: live(2, 3), election: 'preferred' })).toBeNull();
    const offline = registrationOf([1, 2, 3], [1], -1);
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current: offline, isAcceptableLeader: live(3), election: 'online' })).toBeNull();
    expect(buildPartitionChange({ topicId: 't', partitionId: 0, current: offline, isAcceptableLeader: live(3), election: 'unclean' })).toEqual({
      type: 'PartitionChange', topicId: 't', partitionId: 0, leader: 3, isr: [3], leaderRecoveryState: 1,
    });
  });
});

describe('ElectLeaders', () => {
  it('brings leadership back to the preferred replica; ELECTION_NOT_NEEDED and PREFERRED_LEADER_NOT_AVAILABLE otherwise', async () => {
    const h = harness({ autoLeaderRebalanceEnable: false });
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'p', assignments: [[1, 2], [2, 1]] }])));
    // Broker 1 restarts: partition 0 moves to 2, and 1 is not in its ISR any more when it returns.
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantFence: true })));
    const { brokerEpoch } = await h.call(() => h.controller.registerBroker(0, registration(1, { incarnation: 1 })));
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, brokerEpoch, brokerEpoch)));
    expect(h.controller.committedImage.partition('p', 0)).toMatchObject({ leader: 2, isr: [2] });
    const request = { electionType: 0, topicPartitions: [{ topic: 'p', partitions: [0, 1, 7] }, { topic: 'nope', partitions: [0] }], timeoutMs: 1000 };
    const unavailable = await h.call(() => h.controller.electLeaders(2, request));
    expect(unavailable.replicaElectionResults.map((topic) => topic.partitionResult.map((result) => result.errorCode))).toEqual([
      [ErrorCode.PREFERRED_LEADER_NOT_AVAILABLE, ErrorCode.ELECTION_NOT_NEEDED, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
      [ErrorCode.UNKNOWN_TOPIC_OR_PARTITION],
    ]);
    // The leader takes 1 back into the ISR; now the preferred election moves leadership to 1.
    const partition = h.controller.committedImage.partition('p', 0);
    const topicId = h.controller.committedImage.topic('p')?.id ?? '';
    await h.call(() => h.controller.alterPartition(3, {
      brokerId: 2, brokerEpoch: epochs.get(2) ?? -1,
      topics: [{ topicName: '', topicId, partitions: [{ partitionIndex: 0, leaderEpoch: partition?.leaderEpoch ?? 0, partitionEpoch: partition?.partitionEpoch ?? 0, newIsr: [], newIsrWithEpochs: [{ brokerId: 2, brokerEpoch: -1 }, { brokerId: 1, brokerEpoch: -1 }], leaderRecoveryState: 0 }] }],
    }));
    const elected = await h.call(() => h.controller.electLeaders(2, { electionType: 0, topicPartitions: [{ topic: 'p', partitions: [0] }], timeoutMs: 1000 }));
    expect(elected.replicaElectionResults[0].partitionResult[0]).toEqual({ partitionId: 0, errorCode: 0, errorMessage: null });
    expect(h.controller.committedImage.partition('p', 0)).toMatchObject({ leader: 1, leaderEpoch: (partition?.leaderEpoch ?? 0) + 1 });
    // Electing everywhere lists only partitions where something was to be done.
    const all = await h.call(() => h.controller.electLeaders(2, { electionType: 0, topicPartitions: null, timeoutMs: 1000 }));
    expect(all.replicaElectionResults).toEqual([{ topic: 'p', partitionResult: [] }]);
    expect((await h.call(() => h.controller.electLeaders(2, { electionType: 5, topicPartitions: null, timeoutMs: 1000 }))).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('elects an unclean leader only when asked or enabled, and only for partitions without a leader', async () => {
    const h = harness({ brokerSessionTimeoutMs: 3_600_000 });
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'u', assignments: [[1, 2]] }])));
    await h.call(() => h.controller.alterPartition(3, {
      brokerId: 1, brokerEpoch: epochs.get(1) ?? -1,
      topics: [{ topicName: '', topicId: created.topics[0].topicId, partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [], newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: -1 }], leaderRecoveryState: 0 }] }],
    }));
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantFence: true })));
    // unclean.leader.election.enable is false: the partition stays offline, its last ISR member eligible.
    expect(h.controller.committedImage.partition('u', 0)).toMatchObject({ leader: -1, isr: [], elr: [1] });
    h.clock.advance(300_000);
    await h.commit();
    expect(h.controller.committedImage.partition('u', 0)).toMatchObject({ leader: -1, isr: [], elr: [1] });
    const unclean = await h.call(() => h.controller.electLeaders(2, { electionType: 1, topicPartitions: [{ topic: 'u', partitions: [0] }], timeoutMs: 1000 }));
    expect(unclean.replicaElectionResults[0].partitionResult[0].errorCode).toBe(0);
    expect(h.controller.committedImage.partition('u', 0)).toMatchObject({ leader: 2, isr: [2], elr: [], leaderRecoveryState: 1 });
    const again = await h.call(() => h.controller.electLeaders(2, { electionType: 1, topicPartitions: [{ topic: 'u', partitions: [0] }], timeoutMs: 1000 }));
    expect(again.replicaElectionResults[0].partitionResult[0].errorCode).toBe(ErrorCode.ELECTION_NOT_NEEDED);
  });

  it('runs the unclean pass every unclean.leader.election.interval.ms for topics that enable it', async () => {
    const h = harness({ uncleanLeaderElectionIntervalMs: 60_000 });
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    const created = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'u', assignments: [[1, 2]] }])));
    await h.call(() => h.controller.alterPartition(3, {
      brokerId: 1, brokerEpoch: epochs.get(1) ?? -1,
      topics: [{ topicName: '', topicId: created.topics[0].topicId, partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [], newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: -1 }], leaderRecoveryState: 0 }] }],
    }));
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantFence: true })));
    await h.call(() => h.controller.incrementalAlterConfigs(1, {
      resources: [{ resourceType: 2, resourceName: 'u', configs: [{ name: 'unclean.leader.election.enable', configOperation: 0, value: 'true' }] }],
      validateOnly: false,
    }));
    expect(h.controller.committedImage.partition('u', 0)?.leader).toBe(-1);
    for (let second = 0; second < 60; second++) {
      h.clock.advance(1000);
      await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(2, epochs.get(2) ?? -1, 100)));
    }
    expect(h.controller.committedImage.partition('u', 0)).toMatchObject({ leader: 2, isr: [2], elr: [], leaderRecoveryState: 1 });
  });
});

describe('auto leader rebalance', () => {
  it('moves leadership back to preferred replicas once more than leader.imbalance.per.broker.percentage are led by others', async () => {
    const h = harness({ leaderImbalanceCheckIntervalSeconds: 30, leaderImbalancePerBrokerPercentage: 10, brokerSessionTimeoutMs: 600_000 });
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'b', numPartitions: 9, replicationFactor: 3 }])));
    const preferredOf1 = [...(h.controller.committedImage.topic('b')?.partitions.values() ?? [])].filter((partition) => partition.replicas[0] === 1).length;
    expect(preferredOf1).toBe(3);
    // Broker 1 takes a controlled leave and comes back: its partitions are led by others.
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantFence: true })));
    const { brokerEpoch } = await h.call(() => h.controller.registerBroker(0, registration(1, { incarnation: 1 })));
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, brokerEpoch, brokerEpoch)));
    const topicId = h.controller.committedImage.topic('b')?.id ?? '';
    for (const [partitionIndex, partition] of h.controller.committedImage.topic('b')?.partitions ?? []) {
      const leaderEpoch = h.controller.committedImage.partition('b', partitionIndex)?.leaderEpoch ?? 0;
      await h.call(() => h.controller.alterPartition(3, {
        brokerId: partition.leader, brokerEpoch: epochs.get(partition.leader) ?? -1,
        topics: [{ topicName: '', topicId, partitions: [{ partitionIndex, leaderEpoch, partitionEpoch: partition.partitionEpoch, newIsr: [], newIsrWithEpochs: partition.replicas.map((brokerId) => ({ brokerId, brokerEpoch: -1 })), leaderRecoveryState: 0 }] }],
      }));
    }
    const ledBy1 = () => [...(h.controller.committedImage.topic('b')?.partitions.values() ?? [])].filter((partition) => partition.leader === 1).length;
    expect(ledBy1()).toBe(0);
    h.clock.advance(29_000);
    await h.commit();
    expect(ledBy1()).toBe(0);
    h.clock.advance(1000);
    await h.commit();
    expect(ledBy1()).toBe(3);
    for (const partition of h.controller.committedImage.topic('b')?.partitions.values() ?? []) expect(partition.leader).toBe(partition.replicas[0]);
  });

  it('leaves leadership where it is while the imbalance is within the percentage, or when disabled', async () => {
    for (const config of [{ leaderImbalancePerBrokerPercentage: 50 }, { autoLeaderRebalanceEnable: false }]) {
      const h = harness({ leaderImbalanceCheckIntervalSeconds: 30, brokerSessionTimeoutMs: 600_000, ...config });
      h.elect();
      const epochs = await startBrokers(h, [1, 2]);
      await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'x', assignments: [[1, 2], [1, 2], [1, 2], [2, 1]] }])));
      // One of broker 1's three partitions moves to 2 (33%, within 50%).
      const topicId = h.controller.committedImage.topic('x')?.id ?? '';
      await h.call(() => h.controller.alterPartition(3, {
        brokerId: 1, brokerEpoch: epochs.get(1) ?? -1,
        topics: [{ topicName: '', topicId, partitions: [{ partitionIndex: 0, leaderEpoch: 0, partitionEpoch: 0, newIsr: [], newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: -1 }], leaderRecoveryState: 0 }] }],
      }));
      await h.call(() => h.controller.electLeaders(2, { electionType: 0, topicPartitions: [{ topic: 'x', partitions: [0] }], timeoutMs: 1000 }));
      const before = h.controller.committedImage.topic('x')?.partitions;
      h.clock.advance(31_000);
      await h.commit();
      expect(h.controller.committedImage.topic('x')?.partitions).toBe(before);
    }
  });
});
