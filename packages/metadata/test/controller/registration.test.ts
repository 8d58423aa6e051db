/**
 * Brokers and the controller: registration (epochs, fencing at start, duplicates, cluster id),
 * heartbeats (catch-up unfencing, stale epochs), session expiry on the fake clock, controlled
 * shutdown, unregistration and producer-id blocks.
 */
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { decodeMetadataRecord, METADATA_VERSION_LEVEL, PRODUCER_ID_BLOCK_SIZE, QuorumController } from '../../src/index.js';
import { CLUSTER_ID, createTopicsRequest, harness, heartbeat, NODE_ID, registration, seededRandom, settle, startBrokers, TestLog, testConfigValidator } from './harness.js';

describe('BrokerRegistration', () => {
  it('gives a new incarnation the offset of its RegisterBrokerRecord as epoch, and starts it fenced', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    const expectedOffset = h.log.nextOffset();
    const response = await h.call(() => h.controller.registerBroker(0, registration(1, { rack: 'r1' })));
    expect(response).toEqual({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, brokerEpoch: expectedOffset });
    const broker = h.controller.committedImage.brokers.get(1);
    expect(broker).toMatchObject({ id: 1, epoch: expectedOffset, fenced: true, rack: 'r1', inControlledShutdown: false });
    expect(broker?.endpoints).toEqual([{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9001, securityProtocol: 0 }]);
  });

  it('writes metadata.version as the first record of a new cluster', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    expect(h.controller.committedImage.features.get('metadata.version')).toBe(METADATA_VERSION_LEVEL);
    expect(h.log.committed).toHaveLength(1);
  });

  it('refuses another incarnation while the registered one has a valid session, and accepts it once the session expired', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1]);
    const duplicate = await h.call(() => h.controller.registerBroker(0, registration(1, { incarnation: 1 })));
    expect(duplicate.errorCode).toBe(ErrorCode.DUPLICATE_BROKER_REGISTRATION);
    // Sending the same incarnation again is an amendment: the epoch stays.
    const again = await h.call(() => h.controller.registerBroker(0, registration(1)));
    expect(again.brokerEpoch).toBe(epochs.get(1));
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(false);
    h.clock.advance(9000);
    await h.commit();
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(true);
    const replaced = await h.call(() => h.controller.registerBroker(0, registration(1, { incarnation: 1 })));
    expect(replaced.errorCode).toBe(ErrorCode.NONE);
    expect(replaced.brokerEpoch).toBeGreaterThan(epochs.get(1) ?? 0);
  });

  it('moves the leaderships of an unfenced old incarnation before registering the new one, whose epoch is its record offset', async () => {
    // A clock whose timers never fire: the session has expired but the expiry check has not run.
    let nowMs = 0;
    const clock = { now: () => nowMs, setTimeout: () => ({}), clearTimeout: () => {} };
    const log = new TestLog();
    const controller = new QuorumController({ config: { nodeId: NODE_ID, clusterId: CLUSTER_ID }, log, clock, random: seededRandom(3), configValidator: testConfigValidator });
    log.controller = controller;
    const call = async <T>(request: () => Promise<T>) => {
      const response = request();
      log.commitAll();
      await settle();
      return response;
    };
    log.startEpoch(1);
    controller.handleLeaderChange({ leaderId: NODE_ID, epoch: 1 });
    const epochs = new Map<number, number>();
    for (const id of [1, 2]) epochs.set(id, (await call(() => controller.registerBroker(0, registration(id)))).brokerEpoch);
    for (const id of [1, 2]) await call(() => controller.brokerHeartbeat(0, heartbeat(id, epochs.get(id) ?? -1, 100)));
    await call(() => controller.createTopics(7, createTopicsRequest([{ name: 't', assignments: [[1, 2], [2, 1]] }])));
    nowMs = 9000;
    await call(() => controller.brokerHeartbeat(0, heartbeat(2, epochs.get(2) ?? -1, 100)));
    const before = log.committed.length;
    const response = await call(() => controller.registerBroker(0, registration(1, { incarnation: 1 })));
    expect(response.errorCode).toBe(ErrorCode.NONE);
    const batch = log.committed.slice(before).flatMap((entry) => entry.records.map((value, index) => ({ offset: entry.baseOffset + index, record: decodeMetadataRecord(value) })));
    expect(batch.map(({ record }) => record.type)).toEqual(['PartitionChange', 'PartitionChange', 'RegisterBroker']);
    expect(response.brokerEpoch).toBe(batch[2].offset);
    expect(controller.committedImage.partition('t', 0)).toMatchObject({ leader: 2, isr: [2] });
    expect(controller.committedImage.partition('t', 1)).toMatchObject({ leader: 2, isr: [2] });
    expect(controller.committedImage.brokers.get(1)).toMatchObject({ fenced: true, epoch: response.brokerEpoch });
  });

  it('answers INCONSISTENT_CLUSTER_ID for another cluster and UNSUPPORTED_VERSION without a metadata.version range', async () => {
    const h = harness();
    h.elect();
    expect((await h.call(() => h.controller.registerBroker(0, registration(1, { clusterId: 'other' })))).errorCode).toBe(ErrorCode.INCONSISTENT_CLUSTER_ID);
    expect((await h.call(() => h.controller.registerBroker(0, registration(1, { features: false })))).errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(h.controller.committedImage.brokers.size).toBe(0);
  });
});

describe('BrokerHeartbeat', () => {
  it('keeps a broker fenced until its metadata offset reaches its registration, then unfences it', async () => {
    const h = harness();
    h.elect();
    const { brokerEpoch } = await h.call(() => h.controller.registerBroker(0, registration(1)));
    const behind = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, brokerEpoch, brokerEpoch - 1)));
    expect(behind).toEqual({ throttleTimeMs: 0, errorCode: 0, isCaughtUp: false, isFenced: true, shouldShutDown: false });
    const caughtUp = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, brokerEpoch, brokerEpoch)));
    expect(caughtUp).toEqual({ throttleTimeMs: 0, errorCode: 0, isCaughtUp: true, isFenced: false, shouldShutDown: false });
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(false);
  });

  it('answers STALE_BROKER_EPOCH for an old epoch or an unknown broker', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1]);
    const stale = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, (epochs.get(1) ?? 0) - 1, 100)));
    expect(stale.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
    expect((await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(7, 1, 100)))).errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });

  it('fences a broker wanting to be fenced, removing it from the ISRs it shares and moving its leaderships', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', numPartitions: 6, replicationFactor: 3 }])));
    const response = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(2, epochs.get(2) ?? -1, 100, { wantFence: true })));
    expect(response.isFenced).toBe(true);
    for (const partition of h.controller.committedImage.topic('t')?.partitions.values() ?? []) {
      expect(partition.isr).not.toContain(2);
      expect(partition.leader).not.toBe(2);
      expect(partition.isr).toContain(partition.leader);
    }
  });
});

describe('broker session expiry', () => {
  it('fences a broker that stopped heartbeating for broker.session.timeout.ms; leadership moves within the ISR and the epoch grows', async () => {
    const h = harness({ brokerSessionTimeoutMs: 9000 });
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', numPartitions: 3, replicationFactor: 3 }])));
    const before = new Map(h.controller.committedImage.topic('t')?.partitions);
    // Brokers 2 and 3 keep heartbeating; broker 1 goes silent.
    for (let second = 1; second <= 12; second++) {
      h.clock.advance(1000);
      for (const id of [2, 3]) await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(id, epochs.get(id) ?? -1, 1000)));
      expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(second >= 9);
    }
    for (const [index, partition] of h.controller.committedImage.topic('t')?.partitions ?? []) {
      const previous = before.get(index);
      expect(partition.isr).toEqual(previous?.isr.filter((id) => id !== 1));
      if (previous?.leader === 1) {
        expect(partition.leader).toBe(previous.replicas.find((id) => id !== 1));
        expect(partition.leaderEpoch).toBe(previous.leaderEpoch + 1);
      } else {
        expect(partition.leader).toBe(previous?.leader);
        expect(partition.leaderEpoch).toBe(previous?.leaderEpoch);
      }
      expect(partition.partitionEpoch).toBe((previous?.partitionEpoch ?? 0) + 1);
    }
  });

  it('leaves a partition without leader, keeping the last ISR member, and elects it again when it returns (no eligible leader replicas)', async () => {
    const h = harness({ eligibleLeaderReplicasEnable: false });
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'solo', assignments: [[1]] }])));
    h.clock.advance(9000);
    await h.commit();
    const offline = h.controller.committedImage.partition('solo', 0);
    expect(offline).toMatchObject({ leader: -1, isr: [1], leaderEpoch: 1, partitionEpoch: 1 });
    // A new incarnation of broker 1 registers, catches up and is unfenced: it leads again.
    const { brokerEpoch } = await h.call(() => h.controller.registerBroker(0, registration(1, { incarnation: 2 })));
    expect(brokerEpoch).toBeGreaterThan(epochs.get(1) ?? 0);
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, brokerEpoch, brokerEpoch)));
    expect(h.controller.committedImage.partition('solo', 0)).toMatchObject({ leader: 1, isr: [1], leaderEpoch: 2, partitionEpoch: 2 });
  });
});

describe('controlled shutdown', () => {
  it('moves leaderships to other ISR members, then answers shouldShutDown once the others have seen it', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', numPartitions: 6, replicationFactor: 2 }])));
    const led = [...(h.controller.committedImage.topic('t')?.partitions.values() ?? [])].filter((partition) => partition.leader === 1);
    expect(led.length).toBeGreaterThan(0);
    const first = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantShutDown: true })));
    expect(first).toMatchObject({ isFenced: false, shouldShutDown: false });
    const image = h.controller.committedImage;
    expect(image.brokers.get(1)?.inControlledShutdown).toBe(true);
    for (const partition of image.topic('t')?.partitions.values() ?? []) {
      expect(partition.leader).not.toBe(1);
      expect(partition.isr).not.toContain(1);
    }
    // The others have not reported the offset of that change yet.
    const waiting = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, 100, { wantShutDown: true })));
    expect(waiting.shouldShutDown).toBe(false);
    const offset = h.controller.committedImage.offset;
    for (const id of [2, 3]) await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(id, epochs.get(id) ?? -1, offset)));
    const done = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(1, epochs.get(1) ?? -1, offset, { wantShutDown: true })));
    expect(done).toMatchObject({ isFenced: true, shouldShutDown: true });
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(true);
  });

  it('lets a broker that leads nothing shut down at once', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    const response = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(2, epochs.get(2) ?? -1, 100, { wantShutDown: true })));
    expect(response).toMatchObject({ isFenced: true, shouldShutDown: true });
  });
});

describe('UnregisterBroker and AllocateProducerIds', () => {
  it('removes a registration after taking the broker out of its ISRs, and refuses an unknown id', async () => {
    const h = harness();
    h.elect();
    await startBrokers(h, [1, 2]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't', assignments: [[1, 2]] }])));
    expect(await h.call(() => h.controller.unregisterBroker(0, { brokerId: 1 }))).toEqual({ throttleTimeMs: 0, errorCode: 0, errorMessage: null });
    expect(h.controller.committedImage.brokers.has(1)).toBe(false);
    expect(h.controller.committedImage.partition('t', 0)).toMatchObject({ leader: 2, isr: [2] });
    expect((await h.call(() => h.controller.unregisterBroker(0, { brokerId: 1 }))).errorCode).toBe(ErrorCode.BROKER_ID_NOT_REGISTERED);
  });

  it('hands out consecutive blocks of 1000 producer ids to brokers with their current epoch', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2]);
    const first = await h.call(() => h.controller.allocateProducerIds(0, { brokerId: 1, brokerEpoch: epochs.get(1) ?? -1 }));
    const second = await h.call(() => h.controller.allocateProducerIds(0, { brokerId: 2, brokerEpoch: epochs.get(2) ?? -1 }));
    expect(first).toEqual({ throttleTimeMs: 0, errorCode: 0, producerIdStart: 0, producerIdLen: PRODUCER_ID_BLOCK_SIZE });
    expect(second.producerIdStart).toBe(PRODUCER_ID_BLOCK_SIZE);
    expect(h.controller.committedImage.nextProducerId).toBe(2 * PRODUCER_ID_BLOCK_SIZE);
    const stale = await h.call(() => h.controller.allocateProducerIds(0, { brokerId: 1, brokerEpoch: 0 }));
    expect(stale.errorCode).toBe(ErrorCode.STALE_BROKER_EPOCH);
  });
});
