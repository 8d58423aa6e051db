/**
 * Replication between real brokers (cluster-harness.ts): followers fetch the leader's batches as
 * they are, acks=all waits for the ISR, a leader failover loses no acknowledged record, a follower
 * that comes back truncates the tail the new leader never had (KIP-101), a stalled follower leaves
 * the ISR and returns once caught up, min.insync.replicas refuses writes, requests to the wrong
 * broker are told so, and a new leader deduplicates an idempotent producer's retry.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { decodeBatch, forEachBatch } from '@gregor/records';
import type { Body, Broker } from '@gregor/broker';
import { batch } from './helpers.js';
import type { AlterPartitionManager } from '../src/alter-partition-manager.js';
import { TestCluster } from './cluster-harness.js';

let cluster: TestCluster;
afterEach(async () => {
  await cluster?.close();
});

function produceBody(topic: string, partition: number, records: Buffer, acks = -1, timeoutMs = 5000): Body {
  return { transactionalId: null, acks, timeoutMs, topicData: [{ name: topic, partitionData: [{ index: partition, records }] }] };
}

async function produce(broker: Broker, topic: string, values: string[], options: { acks?: number; records?: Buffer; timeoutMs?: number } = {}): Promise<Body> {
  const response = (await cluster.settleUntil(broker.handle(ApiKey.Produce, 9, produceBody(topic, 0, options.records ?? batch(values), options.acks ?? -1, options.timeoutMs)))) as Body;
  return response.responses[0].partitionResponses[0];
}

/** Every value in the partition's log on `broker`, in offset order, with the offsets. */
function values(broker: Broker, topic: string): { offset: number; value: string; epoch: number }[] {
  const partition = broker.partition(topic, 0);
  if (partition === undefined) return [];
  const result: { offset: number; value: string; epoch: number }[] = [];
  const { records } = partition.log.read(partition.logStartOffset, { maxBytes: 64 << 20, minOneBatch: true });
  forEachBatch(records, (position) => {
    const decoded = decodeBatch(records, position);
    for (const record of decoded.records()) result.push({ offset: record.offset, value: record.value?.toString() ?? '', epoch: decoded.partitionLeaderEpoch });
  });
  return result;
}

describe('replication between brokers', () => {
  it('copies the leader\'s batches to the followers with the same offsets and epochs, and answers acks=all once the ISR has them', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    const answer = await produce(cluster.broker(0), 't', ['a', 'b', 'c']);
    expect(answer).toMatchObject({ errorCode: 0, baseOffset: 0 });
    // Answered: the HW passed the batch, so both followers held it then.
    for (const id of [1, 2]) expect(cluster.broker(id).partition('t', 0)?.logEndOffset).toBeGreaterThanOrEqual(3);
    await cluster.settle(600);
    const expected = values(cluster.broker(0), 't');
    expect(expected.map((entry) => entry.value)).toEqual(['a', 'b', 'c']);
    for (const id of [1, 2]) {
      expect(values(cluster.broker(id), 't')).toEqual(expected);
      expect(cluster.broker(id).partition('t', 0)?.highWatermark).toBe(3);
      expect(cluster.broker(id).partition('t', 0)?.log.leaderEpochs.entries()).toEqual([{ epoch: 0, startOffset: 0 }]);
    }
  });

  it('tells the connection its acks=all Produce is written once appended, before the answer waits for the followers', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    cluster.network.cutLink(0, 1);
    const leader = cluster.broker(0);
    let writtenAt: number | null = null;
    let answered = false;
    const answer = leader.handle(ApiKey.Produce, 9, produceBody('t', 0, batch(['a'])), {
      writeDone: () => {
        writtenAt = leader.partition('t', 0)?.logEndOffset ?? -1;
      },
    });
    void answer.then(() => {
      answered = true;
    });
    await cluster.flush();
    // Appended (the LEO is past the batch) and said so, while the answer still waits for follower 1.
    expect(writtenAt).toBe(1);
    expect(answered).toBe(false);
    cluster.network.healLink(0, 1);
    expect(((await cluster.settleUntil(answer)) as Body).responses[0].partitionResponses[0]).toMatchObject({ errorCode: 0, baseOffset: 0 });
  });

  it('never appends a batch damaged on the leader\'s disk: followers check what the leader sends them unchecked', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    cluster.network.cutLink(0, 1);
    expect(await produce(cluster.broker(0), 't', ['first'], { acks: 1 })).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(await produce(cluster.broker(0), 't', ['second'], { acks: 1 })).toMatchObject({ errorCode: 0, baseOffset: 1 });
    const leaderPartition = cluster.broker(0).partition('t', 0)!;
    // A bit of the second batch's last record flips on the leader's disk, before follower 1 has it.
    const segment = `${leaderPartition.log.dir}/00000000000000000000.log`;
    const fs = cluster.fileSystems.get(0)!;
    fs.flipBit(segment, fs.readFile(segment).length - 2, 0);
    cluster.network.healLink(0, 1);
    await cluster.settle(1000);
    // Follower 1 refuses the fetched set that holds the damaged batch (nothing of it is appended)
    // and asks again after its backoff; follower 2 had both batches before the damage.
    expect(cluster.broker(1).partition('t', 0)!.logEndOffset).toBeLessThan(2);
    expect(values(cluster.broker(1), 't').map((entry) => entry.value)).not.toContain('second');
    expect(values(cluster.broker(2), 't').map((entry) => entry.value)).toEqual(['first', 'second']);
  });

  it('loses no acknowledged record when the leader dies and a follower from the ISR takes over', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    const acknowledged: string[] = [];
    for (let round = 0; round < 5; round++) {
      const value = `before-${round}`;
      if ((await produce(cluster.broker(0), 't', [value])).errorCode === 0) acknowledged.push(value);
    }
    cluster.kill(0, { powerLoss: true });
    const registration = cluster.controller.partition('t', 0);
    expect(registration.leader).toBe(1);
    expect(registration.leaderEpoch).toBe(1);
    await cluster.settle(100);
    const newLeader = cluster.broker(registration.leader);
    for (let round = 0; round < 3; round++) {
      const value = `after-${round}`;
      if ((await produce(newLeader, 't', [value])).errorCode === 0) acknowledged.push(value);
    }
    expect(values(newLeader, 't').map((entry) => entry.value)).toEqual(acknowledged);
    await cluster.startBroker(0);
    await cluster.settle(1000);
    expect(values(cluster.broker(0), 't')).toEqual(values(newLeader, 't'));
  });

  it('truncates the divergent tail of a leader that was cut off, before fetching from the new leader (KIP-101)', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    expect((await produce(cluster.broker(0), 't', ['committed'])).errorCode).toBe(0);
    // The leader loses its followers; what it appends with acks=1 now exists on it alone.
    cluster.network.cutLink(0, 1);
    cluster.network.cutLink(0, 2);
    expect((await produce(cluster.broker(0), 't', ['lost-1', 'lost-2'], { acks: 1 })).errorCode).toBe(0);
    expect(cluster.broker(0).partition('t', 0)?.logEndOffset).toBe(3);
    // The controller moves leadership to broker 1 (epoch 1), which takes writes of its own.
    cluster.controller.setReachable(0, false);
    cluster.controller.fence(0);
    expect(cluster.controller.partition('t', 0)).toMatchObject({ leader: 1, leaderEpoch: 1 });
    await cluster.settle(50);
    expect((await produce(cluster.broker(1), 't', ['new-1'], { acks: 1 })).errorCode).toBe(0);
    // Broker 0 comes back, learns it is a follower at epoch 1, and must drop 'lost-1' and 'lost-2'.
    cluster.broker(0).kill();
    cluster.network.healLink(0, 1);
    cluster.network.healLink(0, 2);
    cluster.controller.setReachable(0, true);
    await cluster.startBroker(0);
    await cluster.settle(1500);
    const leaderLog = values(cluster.broker(1), 't');
    expect(leaderLog.map((entry) => entry.value)).toEqual(['committed', 'new-1']);
    expect(leaderLog.map((entry) => entry.epoch)).toEqual([0, 1]);
    expect(values(cluster.broker(0), 't')).toEqual(leaderLog);
    expect(cluster.broker(0).partition('t', 0)?.log.leaderEpochs.entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 1, startOffset: 1 }]);
  });

  it('catches up a follower whose latest epoch holds no record and that never saw the leader\'s epoch (no OffsetForLeaderEpoch loop)', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    expect((await produce(cluster.broker(0), 't', ['a'])).errorCode).toBe(0);
    await cluster.settle(600);
    // Broker 2 is cut off while broker 1 leads epoch 1 and writes 'b', then leads epoch 2 itself without writing.
    cluster.network.cutLink(2, 0);
    cluster.network.cutLink(2, 1);
    cluster.controller.electLeader('t', 0, 1);
    await cluster.settle(50);
    expect((await produce(cluster.broker(1), 't', ['b'], { acks: 1 })).errorCode).toBe(0);
    cluster.controller.electLeader('t', 0, 2);
    await cluster.settle(50);
    expect(cluster.broker(2).partition('t', 0)?.log.leaderEpochs.entries()).toEqual([{ epoch: 0, startOffset: 0 }, { epoch: 2, startOffset: 1 }]);
    cluster.controller.electLeader('t', 0, 1);
    cluster.network.healLink(2, 0);
    cluster.network.healLink(2, 1);
    // Broker 2 asks with epoch 2, hears epoch 1 (which it never saw), drops its empty epoch 2 and asks again.
    await cluster.settle(2000);
    expect(values(cluster.broker(2), 't').map((entry) => entry.value)).toEqual(['a', 'b']);
    expect(values(cluster.broker(2), 't')).toEqual(values(cluster.broker(1), 't'));
  });

  it('drops a stalled follower from the ISR after replica.lag.time.max.ms and takes it back once it has caught up', async () => {
    cluster = await TestCluster.start(3, { replicaLagTimeMaxMs: 2000 });
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    cluster.network.cutLink(0, 2);
    for (let round = 0; round < 3; round++) await produce(cluster.broker(0), 't', [`v${round}`], { acks: 1 });
    await cluster.settle(3500);
    expect(cluster.controller.partition('t', 0).isr).toEqual([0, 1]);
    expect(cluster.broker(0).partition('t', 0)?.highWatermark).toBe(3);
    cluster.network.healLink(0, 2);
    await cluster.settle(1500);
    expect(cluster.controller.partition('t', 0).isr).toEqual([0, 1, 2]);
    expect(values(cluster.broker(2), 't')).toEqual(values(cluster.broker(0), 't'));
    // Both changes carried every member's registered broker epoch (Kafka's newIsrWithEpochs), none unknown.
    const registered = (id: number) => cluster.controller.image.brokers.get(id)?.epoch;
    const changes = cluster.controller.alterPartitionRequests.map((request) => request.topics[0].partitions[0].newIsrWithEpochs);
    expect(changes).toEqual([
      [{ brokerId: 0, brokerEpoch: registered(0) }, { brokerId: 1, brokerEpoch: registered(1) }],
      [{ brokerId: 0, brokerEpoch: registered(0) }, { brokerId: 1, brokerEpoch: registered(1) }, { brokerId: 2, brokerEpoch: registered(2) }],
    ]);
    expect(changes.flat().every((state: { brokerEpoch: number }) => state.brokerEpoch >= 0)).toBe(true);
  });

  it('proves a clean shutdown at its next registration with the epoch it had, and a crash with -1 (KIP-966\'s previousBrokerEpoch)', async () => {
    cluster = await TestCluster.start(2);
    const registrations = cluster.controller.registrationRequests;
    const firstEpoch = cluster.controller.image.brokers.get(1)?.epoch;
    expect(firstEpoch).toBeGreaterThanOrEqual(0);
    expect(registrations.filter((body) => body.brokerId === 1).map((body) => body.previousBrokerEpoch)).toEqual([-1]);
    await cluster.settleUntil(cluster.broker(1).close({ controlledShutdownTimeoutMs: 1000 }));
    await cluster.startBroker(1);
    expect(registrations.filter((body) => body.brokerId === 1).map((body) => body.previousBrokerEpoch)).toEqual([-1, firstEpoch]);
    cluster.kill(1);
    await cluster.startBroker(1);
    expect(registrations.filter((body) => body.brokerId === 1).map((body) => body.previousBrokerEpoch)).toEqual([-1, firstEpoch, -1]);
  });

  it('does not take a follower back into the ISR on the word of a Fetch from its previous incarnation: the controller refuses a stale broker epoch (INELIGIBLE_REPLICA)', async () => {
    cluster = await TestCluster.start(3, { replicaLagTimeMaxMs: 2000 });
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    const leader = cluster.broker(0).partition('t', 0);
    const follower = leader?.followerState(2);
    expect(follower?.brokerEpoch).toBe(cluster.controller.image.brokers.get(2)?.epoch);
    // The leader vouches for an epoch broker 2 no longer has (as if it had registered again since its last Fetch).
    const stale = { topicName: 't', topicId: cluster.controller.image.topic('t')?.id as string, partitionIndex: 0, leaderEpoch: 0, partitionEpoch: cluster.controller.partition('t', 0).partitionEpoch, newIsr: [0, 2] };
    const before = cluster.controller.partition('t', 0).isr;
    const outcome = await cluster.settleUntil((cluster.broker(0) as unknown as { alterPartitions: AlterPartitionManager }).alterPartitions.submit({ ...stale, newIsrWithEpochs: [{ brokerId: 0, brokerEpoch: -1 }, { brokerId: 2, brokerEpoch: (follower?.brokerEpoch ?? 0) + 1 }] }));
    expect(outcome.errorCode).toBe(ErrorCode.INELIGIBLE_REPLICA);
    expect(cluster.controller.partition('t', 0).isr).toEqual(before);
  });

  it('catches a follower up with several batches per Fetch (replica.fetch.max.bytes per partition), and long-polls once it is caught up', async () => {
    cluster = await TestCluster.start(3, { replicaFetchWaitMaxMs: 500 });
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    cluster.network.cutLink(0, 2);
    for (let n = 0; n < 60; n++) await produce(cluster.broker(0), 't', [`v${n}`], { acks: 1 });
    // Each Fetch from follower 2 to leader 0: how many batches it brought back.
    const batchesPerFetch: number[] = [];
    cluster.network.onExchange = (from, to, apiKey, _request, response) => {
      if (from !== 2 || to !== 0 || apiKey !== ApiKey.Fetch) return;
      let batches = 0;
      for (const topic of response.responses) for (const partition of topic.partitions) if (partition.records !== null) forEachBatch(partition.records, () => { batches += 1; });
      batchesPerFetch.push(batches);
    };
    cluster.network.healLink(0, 2);
    await cluster.settle(1000);
    expect(cluster.broker(2).partition('t', 0)?.logEndOffset).toBe(60);
    // The backlog (60 batches, far below 1 MiB) came in one Fetch, not one batch per round trip.
    expect(batchesPerFetch.filter((count) => count > 0)).toEqual([60]);
    // Caught up, the follower's Fetch waits at the leader (replica.fetch.wait.max.ms) instead of spinning.
    batchesPerFetch.length = 0;
    await cluster.settle(5000);
    expect(batchesPerFetch.length).toBeGreaterThanOrEqual(8);
    expect(batchesPerFetch.length).toBeLessThanOrEqual(12);
    // A record produced meanwhile ends the wait at once: it reaches the follower without waiting out the poll.
    const produced = produce(cluster.broker(0), 't', ['late'], { acks: -1 });
    await cluster.settle(100);
    expect((await produced).errorCode).toBe(ErrorCode.NONE);
    expect(cluster.broker(2).partition('t', 0)?.logEndOffset).toBe(61);
  });

  it('answers a consumer Fetch parked at the high watermark as soon as acks=all moves the HW past new records, not at its maxWaitMs', async () => {
    cluster = await TestCluster.start(3, { replicaFetchWaitMaxMs: 500 });
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    await produce(cluster.broker(0), 't', ['before']);
    const leader = cluster.broker(0);
    const topicId = leader.partition('t', 0)?.topicId;
    // A consumer (replicaId -1) caught up at the HW, long-polling for 30 s for one byte.
    const parkedAt = cluster.clock.now();
    let answeredAt: number | null = null;
    const parked = (leader.handle(ApiKey.Fetch, 13, {
      replicaId: -1, maxWaitMs: 30_000, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topicId, partitions: [{ partition: 0, currentLeaderEpoch: -1, fetchOffset: 1, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    }) as Promise<Body>).then((response) => {
      answeredAt = cluster.clock.now();
      return response;
    });
    await cluster.settle(200);
    expect(answeredAt).toBeNull();
    // The append alone does not answer it (the record is above the HW); the followers' next Fetches
    // move the HW, and that answers it with the record, on the same turn as the producer's ack.
    const producedAt = cluster.clock.now();
    const acknowledged = produce(leader, 't', ['after']);
    const answer = await cluster.settleUntil(parked, 1000, 1);
    expect((await acknowledged).errorCode).toBe(ErrorCode.NONE);
    expect(answeredAt! - producedAt).toBeLessThanOrEqual(10);
    expect(answeredAt! - parkedAt).toBeLessThan(30_000);
    const partition = answer.responses[0].partitions[0];
    expect(partition.highWatermark).toBe(2);
    const fetched: string[] = [];
    forEachBatch(partition.records, (position) => {
      for (const record of decodeBatch(partition.records, position).records()) fetched.push(record.value?.toString() ?? '');
    });
    expect(fetched).toEqual(['after']);
  });

  it('refuses acks=all below min.insync.replicas, before appending, and still takes acks=1', async () => {
    cluster = await TestCluster.start(3, { replicaLagTimeMaxMs: 2000 });
    cluster.controller.createTopic('t', [[0, 1, 2]], { 'min.insync.replicas': '2' });
    await cluster.settle(50);
    expect((await produce(cluster.broker(0), 't', ['ok'])).errorCode).toBe(0);
    cluster.network.cutLink(0, 1);
    cluster.network.cutLink(0, 2);
    const stuck = produce(cluster.broker(0), 't', ['waits'], { timeoutMs: 60_000 });
    await cluster.settle(4000);
    expect(cluster.controller.partition('t', 0).isr).toEqual([0]);
    expect((await stuck).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS_AFTER_APPEND);
    const end = cluster.broker(0).partition('t', 0)?.logEndOffset;
    expect((await produce(cluster.broker(0), 't', ['refused'])).errorCode).toBe(ErrorCode.NOT_ENOUGH_REPLICAS);
    expect(cluster.broker(0).partition('t', 0)?.logEndOffset).toBe(end);
    expect((await produce(cluster.broker(0), 't', ['fine'], { acks: 1 })).errorCode).toBe(0);
  });

  it('tells a client that asks the wrong broker NOT_LEADER_OR_FOLLOWER, and a stale leader epoch FENCED_LEADER_EPOCH', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    await produce(cluster.broker(0), 't', ['a']);
    expect((await produce(cluster.broker(1), 't', ['b'])).errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    const fetch = (broker: Broker, currentLeaderEpoch: number): Promise<Body | null> => broker.handle(ApiKey.Fetch, 11, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch, fetchOffset: 0, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    });
    expect(((await fetch(cluster.broker(2), -1)) as Body).responses[0].partitions[0].errorCode).toBe(ErrorCode.NOT_LEADER_OR_FOLLOWER);
    cluster.controller.electLeader('t', 0, 1);
    // The new leader's HW catches up once its followers have fetched from it.
    await cluster.settle(600);
    expect(((await fetch(cluster.broker(1), 0)) as Body).responses[0].partitions[0].errorCode).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(((await fetch(cluster.broker(1), 1)) as Body).responses[0].partitions[0]).toMatchObject({ errorCode: 0, highWatermark: 1 });
    const metadata = (await cluster.broker(2).handle(ApiKey.Metadata, 12, { topics: [{ topicId: '00000000-0000-0000-0000-000000000000', name: 't' }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false })) as Body;
    expect(metadata.brokers.map((entry: Body) => [entry.nodeId, entry.host])).toEqual([[0, 'broker-0'], [1, 'broker-1'], [2, 'broker-2']]);
    expect(metadata.topics[0].partitions[0]).toMatchObject({ errorCode: 0, leaderId: 1, leaderEpoch: 1, replicaNodes: [0, 1, 2], isrNodes: [0, 1, 2], offlineReplicas: [] });
  });

  it('tells a consumer OFFSET_NOT_AVAILABLE, not a lower high watermark, while a new leader\'s HW lags the start of its epoch', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    const consumerFetch = (broker: Broker, currentLeaderEpoch: number): Promise<Body> => broker.handle(ApiKey.Fetch, 12, {
      replicaId: -1, maxWaitMs: 0, minBytes: 1, maxBytes: 1 << 20, isolationLevel: 0, sessionId: 0, sessionEpoch: -1,
      topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch, fetchOffset: 0, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes: 1 << 20 }] }],
      forgottenTopicsData: [], rackId: '',
    }).then((response) => (response as Body).responses[0].partitions[0]);
    expect((await produce(cluster.broker(0), 't', ['a'])).errorCode).toBe(0);
    await cluster.settle(1000);
    // Acknowledged once both followers have 'b'; they learn the HW that covers it only on their next fetch.
    expect((await produce(cluster.broker(0), 't', ['b'])).errorCode).toBe(0);
    expect(await cluster.settleUntil(consumerFetch(cluster.broker(0), 0))).toMatchObject({ errorCode: 0, highWatermark: 2 });
    expect(cluster.broker(1).partition('t', 0)?.highWatermark).toBe(1);
    cluster.kill(0);
    expect(cluster.controller.partition('t', 0)).toMatchObject({ leader: 1, leaderEpoch: 1 });
    // Asked at once, before broker 2 has fetched from it: broker 1's HW is still 1, below the 2 shown before.
    expect(await cluster.settleUntil(consumerFetch(cluster.broker(1), 1))).toMatchObject({ errorCode: ErrorCode.OFFSET_NOT_AVAILABLE });
    // Once broker 2 has fetched from the new leader, its HW passes the start of epoch 1.
    await cluster.settle(600);
    expect(await cluster.settleUntil(consumerFetch(cluster.broker(1), 1))).toMatchObject({ errorCode: 0, highWatermark: 2 });
  });

  it('lets a new leader deduplicate an idempotent producer\'s retry of a batch the old leader acknowledged', async () => {
    cluster = await TestCluster.start(3);
    cluster.controller.createTopic('t', [[0, 1, 2]]);
    await cluster.settle(50);
    // The first InitProducerId may find no producer id block yet (COORDINATOR_LOAD_IN_PROGRESS): retry, as clients do.
    let initialized: Body = { errorCode: ErrorCode.COORDINATOR_LOAD_IN_PROGRESS };
    for (let attempt = 0; attempt < 5 && initialized.errorCode === ErrorCode.COORDINATOR_LOAD_IN_PROGRESS; attempt++) {
      initialized = (await cluster.settleUntil(cluster.broker(0).handle(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1 }))) as Body;
    }
    expect(initialized.errorCode).toBe(0);
    const first = batch(['once'], { producerId: initialized.producerId, producerEpoch: 0, baseSequence: 0 });
    expect(await produce(cluster.broker(0), 't', [], { records: Buffer.from(first) })).toMatchObject({ errorCode: 0, baseOffset: 0 });
    // The answer is lost, the leader dies; the producer retries the same batch at the new leader.
    cluster.kill(0);
    await cluster.settle(50);
    const retried = await produce(cluster.broker(1), 't', [], { records: Buffer.from(first) });
    expect(retried).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(values(cluster.broker(1), 't').map((entry) => entry.value)).toEqual(['once']);
    const next = batch(['twice'], { producerId: initialized.producerId, producerEpoch: 0, baseSequence: 1 });
    expect(await produce(cluster.broker(1), 't', [], { records: next })).toMatchObject({ errorCode: 0, baseOffset: 1 });
  });
});
