/**
 * The controller as a quorum member: inactive nodes answer NOT_CONTROLLER, answers wait for the
 * commit, speculative records are visible to the next request and dropped on renounce, the
 * committed image follows the log, and a new leader starts broker sessions afresh.
 */
import { FakeClock } from '@gregor/log';
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { decodeMetadataRecord, MetadataDelta, MetadataImage, QuorumController } from '../../src/index.js';
import {
  CLUSTER_ID, createTopicsRequest, harness, heartbeat, NODE_ID, registration, seededRandom, settle, startBrokers, TestLog, testConfigValidator,
} from './harness.js';

describe('leadership', () => {
  it('answers NOT_CONTROLLER while another node leads, for every API shape', async () => {
    const h = harness();
    h.controller.handleLeaderChange({ leaderId: NODE_ID + 1, epoch: 1 });
    expect(h.controller.isActive).toBe(false);
    expect((await h.controller.registerBroker(0, registration(1))).errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    expect((await h.controller.brokerHeartbeat(0, heartbeat(1, 1, 1))).errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    const topics = await h.controller.createTopics(7, createTopicsRequest([{ name: 'a' }, { name: 'b' }]));
    expect(topics.topics.map((topic) => topic.errorCode)).toEqual([ErrorCode.NOT_CONTROLLER, ErrorCode.NOT_CONTROLLER]);
    const elect = await h.controller.electLeaders(0, { electionType: 0, topicPartitions: [{ topic: 'a', partitions: [0, 1] }], timeoutMs: 1 });
    expect(elect.replicaElectionResults[0].partitionResult.map((result) => result.errorCode)).toEqual([ErrorCode.NOT_CONTROLLER, ErrorCode.NOT_CONTROLLER]);
    expect(h.log.pending).toHaveLength(0);
  });

  it('answers only once the batch is committed, and lets the next request see uncommitted records', async () => {
    const h = harness();
    h.elect();
    await startBrokers(h, [1]);
    let answered = false;
    const first = h.controller.createTopics(7, createTopicsRequest([{ name: 'a' }])).then((response) => {
      answered = true;
      return response;
    });
    const second = h.controller.createTopics(7, createTopicsRequest([{ name: 'a' }]));
    await settle();
    expect(answered).toBe(false);
    expect(h.controller.committedImage.topic('a')).toBeUndefined();
    expect(h.controller.image.topic('a')).toBeDefined();
    expect(h.log.pending).toHaveLength(1);
    h.log.commitAll();
    expect((await first).topics[0].errorCode).toBe(0);
    // The second was decided from the speculative image, and answered after the first committed.
    expect((await second).topics[0].errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
  });

  it('drops the uncommitted records on renounce, answers their requests NOT_CONTROLLER, and keeps what committed', async () => {
    const h = harness();
    const epoch = h.elect();
    await startBrokers(h, [1]);
    const kept = h.controller.createTopics(7, createTopicsRequest([{ name: 'kept' }]));
    const lost = h.controller.createTopics(7, createTopicsRequest([{ name: 'lost' }]));
    const readOnly = h.controller.createTopics(7, createTopicsRequest([{ name: 'kept' }], true));
    expect(h.log.pending).toHaveLength(2);
    h.log.depose(epoch + 1, 1);
    expect(h.controller.isActive).toBe(false);
    expect(h.controller.image).toBe(h.controller.committedImage);
    expect((await kept).topics[0].errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    expect((await lost).topics[0].errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    expect((await readOnly).topics[0].errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    expect(h.controller.committedImage.topic('kept')).toBeDefined();
    expect(h.controller.committedImage.topic('lost')).toBeUndefined();
    // Leading again, the lost topic can be created; the kept one exists.
    h.elect();
    const again = await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'lost' }, { name: 'kept' }])));
    expect(again.topics.map((topic) => topic.errorCode)).toEqual([0, ErrorCode.TOPIC_ALREADY_EXISTS]);
  });

  it('renounces when an append fails, answering NOT_CONTROLLER', async () => {
    const h = harness();
    h.elect();
    await startBrokers(h, [1]);
    h.log.leaderEpoch = 99;
    const response = await h.controller.createTopics(7, createTopicsRequest([{ name: 'x' }]));
    expect(response.topics[0].errorCode).toBe(ErrorCode.NOT_CONTROLLER);
    expect(h.controller.isActive).toBe(false);
  });

  it('builds the same committed image as a replay of the committed log, on every node', async () => {
    const h = harness();
    h.elect();
    const epochs = await startBrokers(h, [1, 2, 3]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 'r', numPartitions: 4, replicationFactor: 3, configs: { 'cleanup.policy': 'compact' } }])));
    await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(2, epochs.get(2) ?? -1, 5, { wantFence: true })));
    const delta = new MetadataDelta(MetadataImage.EMPTY);
    for (const batch of h.log.committed) {
      batch.records.forEach((value, index) => {
        delta.replay(decodeMetadataRecord(value), batch.baseOffset + index, batch.epoch);
      });
    }
    expect(delta.apply().toRecords()).toEqual(h.controller.committedImage.toRecords());
    // A standby fed the same batches has the same image.
    const standby = harness();
    for (const batch of h.log.committed) standby.controller.handleCommit(batch);
    expect(standby.controller.committedImage.toRecords()).toEqual(h.controller.committedImage.toRecords());
  });

  it('starts every broker session afresh when it becomes active, and does not write the bootstrap twice', async () => {
    const h = harness({ brokerSessionTimeoutMs: 9000 });
    const epoch = h.elect();
    await startBrokers(h, [1]);
    h.log.depose(epoch + 1, 0);
    h.clock.advance(60_000);
    h.elect();
    await h.commit();
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(false);
    h.clock.advance(8999);
    await h.commit();
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(false);
    h.clock.advance(1);
    await h.commit();
    expect(h.controller.committedImage.brokers.get(1)?.fenced).toBe(true);
    const featureRecords = h.log.committed.flatMap((batch) => batch.records.map((value) => decodeMetadataRecord(value))).filter((record) => record.type === 'FeatureLevel');
    expect(featureRecords.map((record) => record.type === 'FeatureLevel' && record.name)).toEqual(['metadata.version', 'eligible.leader.replicas.version']);
  });

  it('loads a snapshot while standing by and decides from it once active', async () => {
    const h = harness();
    const epoch = h.elect();
    await startBrokers(h, [1]);
    await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 's' }])));
    const snapshot = h.controller.committedImage;
    const other = harness();
    other.controller.handleLoadSnapshot(snapshot);
    other.log.startAfter(snapshot.offset);
    other.log.leaderEpoch = epoch;
    other.elect();
    const response = await other.call(() => other.controller.createTopics(7, createTopicsRequest([{ name: 's' }])));
    expect(response.topics[0].errorCode).toBe(ErrorCode.TOPIC_ALREADY_EXISTS);
  });

  it('works with a log that commits inside append, as a quorum of one voter may', async () => {
    // The commit arrives while the controller is still handling the request that appended: it
    // must be queued behind it, and the answer still comes after the commit.
    const log = new TestLog();
    const append = log.append.bind(log);
    log.append = (epoch, records) => {
      const appended = append(epoch, records);
      log.commitNext();
      return appended;
    };
    const controller = new QuorumController({ config: { nodeId: NODE_ID, clusterId: CLUSTER_ID }, log, clock: new FakeClock(0), random: seededRandom(5), configValidator: testConfigValidator });
    log.controller = controller;
    log.startEpoch(1);
    controller.handleLeaderChange({ leaderId: NODE_ID, epoch: 1 });
    const { brokerEpoch } = await controller.registerBroker(0, registration(1));
    expect((await controller.brokerHeartbeat(0, heartbeat(1, brokerEpoch, brokerEpoch))).isFenced).toBe(false);
    const created = await controller.createTopics(7, createTopicsRequest([{ name: 'one', numPartitions: 2 }]));
    expect(created.topics[0].errorCode).toBe(0);
    expect(controller.committedImage.topic('one')?.partitions.size).toBe(2);
    expect(controller.image.toRecords()).toEqual(controller.committedImage.toRecords());
  });
});

describe('bootstrap records', () => {
  const topicId = 'a2f1bd2e-6c47-4d7e-9f3a-5b4e0c1d2e3f';
  const bootstrapRecords = [
    { type: 'Topic' as const, name: 'adopted', topicId },
    { type: 'Partition' as const, partitionId: 0, topicId, replicas: [1], isr: [1], removingReplicas: [], addingReplicas: [], leader: 1, leaderEpoch: 4, partitionEpoch: 0 },
  ];

  function controllerWith(log: TestLog): QuorumController {
    const controller = new QuorumController({
      config: { nodeId: NODE_ID, clusterId: CLUSTER_ID }, log, clock: new FakeClock(0), random: seededRandom(3), configValidator: testConfigValidator, bootstrapRecords,
    });
    log.controller = controller;
    return controller;
  }

  it('writes them after metadata.version in the first active controller\'s first batch', () => {
    const log = new TestLog();
    const controller = controllerWith(log);
    log.startEpoch(1);
    controller.handleLeaderChange({ leaderId: NODE_ID, epoch: 1 });
    expect(log.pending).toHaveLength(1);
    expect(log.pending[0].records.map((value) => decodeMetadataRecord(value).type)).toEqual(['FeatureLevel', 'FeatureLevel', 'Topic', 'Partition']);
    log.commitAll();
    expect(controller.committedImage.partition('adopted', 0)).toMatchObject({ leader: 1, leaderEpoch: 4, isr: [1] });
  });

  it('never writes them into a log that already has a metadata.version', () => {
    const log = new TestLog();
    const first = controllerWith(log);
    log.startEpoch(1);
    first.handleLeaderChange({ leaderId: NODE_ID, epoch: 1 });
    log.commitAll();
    // A restart: a new controller replays the committed log, then leads a new epoch.
    const restarted = controllerWith(log);
    for (const batch of log.committed) restarted.handleCommit(batch);
    log.startEpoch(2);
    restarted.handleLeaderChange({ leaderId: NODE_ID, epoch: 2 });
    expect(log.pending).toHaveLength(0);
    expect(restarted.committedImage.topic('adopted')?.partitions.size).toBe(1);
  });
});
