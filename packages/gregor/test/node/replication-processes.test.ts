/**
 * Replication across processes, as a user runs it: three `gregor serve --config` processes, each
 * a broker and a controller. kafkajs's admin creates a topic with replication factor 3; two
 * idempotent producers (kafkajs's and Gregor's client) and kcat (librdkafka, idempotent) write with
 * acks=all without pause, and kcat consumes the partition from its start throughout; the
 * partition leader's process is SIGKILLed; the controller elects a new leader from the ISR in a
 * higher leader epoch, the producers follow it and keep producing; the killed node is started
 * again, catches up and rejoins the ISR; then the active controller is SIGKILLed, the quorum elects
 * another, a topic is created and described meanwhile, and the node rejoins as a follower; then
 * every acknowledged record is read back exactly once, in order, by a consumer group, and kcat's
 * consumer, which read on through both failovers, has read each once, in order. kcat lists the
 * three brokers. Last, with the ISR full, the nodes stop cleanly and each one's replicas on disk are
 * the same batches below the high watermark, holding every record read (replica-logs.ts).
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { Client } from '@gregor/client';
import { statusFromBroker } from '../../src/cli/cluster/status.js';
import { highWatermarksOnceInSync, stopAndCompareReplicas } from './replica-logs.js';
import { partitionWhen as partitionStatusWhen, processClusters } from './support.js';

vi.setConfig({ testTimeout: 120_000, hookTimeout: 60_000 });

const run = promisify(execFile);
const TOPIC = 'orders';
const clusters = processClusters();

const partitionWhen = (addresses: string, accept: Parameters<typeof partitionStatusWhen>[3]) => partitionStatusWhen(addresses, TOPIC, 0, accept, 'the expected state');

describe('three node processes', () => {
  it('elect a new partition leader from the ISR after SIGKILL of the leader and a new active controller after SIGKILL of it; the producers follow; every acknowledged record is read once, in order, after the killed nodes rejoin', async () => {
    const { processes: cluster } = await clusters.start({ settings: { 'offsets.topic.num.partitions': '3' } });
    const brokers = cluster.nodes.map((node) => node.clientAddress as string);

    // Each node is ready once its own broker is unfenced; every broker's image shows all three soon after.
    await vi.waitFor(async () => {
      for (const address of brokers) expect((await statusFromBroker(address, 'test')).brokers).toHaveLength(3);
    }, { timeout: 20_000, interval: 100 });
    const kcat = await run('kcat', ['-L', '-b', brokers.join(','), '-m', '10']);
    expect(kcat.stdout).toContain(' 3 brokers:');
    for (const address of brokers) expect(kcat.stdout).toContain(`at ${address}`);

    const kafka = new Kafka({ clientId: 'replication-test', brokers, logLevel: logLevel.NOTHING, retry: { retries: 30, initialRetryTime: 50, maxRetryTime: 500 } });
    const admin = kafka.admin();
    await admin.connect();
    clusters.defer(() => admin.disconnect());
    expect(await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor: 3 }], waitForLeaders: true })).toBe(true);
    const before = await partitionWhen(brokers.join(','), (p) => p.leader > 0 && p.isr.length === 3);
    expect(before.replicas).toHaveLength(3);

    // Two idempotent producers with acks=all, kafkajs's and Gregor's own, each sending one record
    // at a time without pause, through the kill and the failover.
    const kafkajsProducer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await kafkajsProducer.connect();
    clusters.defer(() => kafkajsProducer.disconnect());
    const gregorProducer = new Client({ brokers, clientId: 'replication-test-gregor' }).producer({ idempotent: true, acks: -1, retry: { retries: 30, initialRetryTimeMs: 50, maxRetryTimeMs: 500 } });
    await gregorProducer.connect();
    clusters.defer(() => gregorProducer.disconnect());
    const acknowledged = { kafkajs: [] as string[], gregor: [] as string[] };
    let stop = false;
    const produceUntilStopped = async (name: 'kafkajs' | 'gregor', send: (value: string) => Promise<unknown>) => {
      for (let n = 0; !stop; n++) {
        const value = `${name}-${String(n).padStart(5, '0')}`;
        await send(value);
        acknowledged[name].push(value);
      }
    };
    const producing = Promise.all([
      produceUntilStopped('kafkajs', (value) => kafkajsProducer.send({ topic: TOPIC, acks: -1, messages: [{ value }] })),
      produceUntilStopped('gregor', (value) => gregorProducer.send({ topic: TOPIC, acks: -1, messages: [{ value }] })),
    ]);
    // kcat: records written to its stdin one by one, sent idempotently with acks=all; it exits 0
    // once every one is delivered (librdkafka retries until message.timeout.ms).
    const ended = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
    const endByPid = (child: ChildProcess) => async () => {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
      await ended(child);
    };
    const kcatProducer = spawn('kcat', ['-P', '-b', brokers.join(','), '-t', TOPIC, '-X', 'acks=all', '-X', 'enable.idempotence=true', '-X', 'linger.ms=5'], { stdio: ['pipe', 'ignore', 'pipe'] });
    clusters.defer(endByPid(kcatProducer));
    let kcatErrors = '';
    kcatProducer.stderr?.on('data', (chunk) => (kcatErrors += String(chunk)));
    const kcatWritten: string[] = [];
    const kcatProducing = (async () => {
      for (let n = 0; !stop; n++) {
        const value = `kcat-${String(n).padStart(5, '0')}`;
        kcatProducer.stdin?.write(`${value}\n`);
        kcatWritten.push(value);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      kcatProducer.stdin?.end();
      return ended(kcatProducer);
    })();
    // kcat's consumer reads the partition from its start through both failovers.
    const kcatConsumer = spawn('kcat', ['-C', '-b', brokers.join(','), '-t', TOPIC, '-o', 'beginning', '-u', '-q', '-f', '%s\n'], { stdio: ['ignore', 'pipe', 'ignore'] });
    clusters.defer(endByPid(kcatConsumer));
    let kcatRead = '';
    kcatConsumer.stdout?.on('data', (chunk) => (kcatRead += String(chunk)));
    const total = () => acknowledged.kafkajs.length + acknowledged.gregor.length;
    const acknowledgedAtLeast = async (count: number) => {
      const deadline = Date.now() + 30_000;
      while (total() < count) {
        if (Date.now() > deadline) throw new Error(`only ${total()} records acknowledged, waiting for ${count}`);
        await Promise.race([producing, new Promise((resolve) => setTimeout(resolve, 20))]);
      }
    };
    await acknowledgedAtLeast(60);

    const killedAt = Date.now();
    const beforeKill = total();
    await cluster.kill(before.leader, 'SIGKILL');
    const survivors = cluster.nodes.filter((node) => node.nodeId !== before.leader).map((node) => node.clientAddress as string).join(',');
    const after = await partitionWhen(survivors, (p) => p.leader > 0 && p.leader !== before.leader && p.leaderEpoch > before.leaderEpoch);
    const electedInMs = Date.now() - killedAt;
    expect(before.isr).toContain(after.leader);
    expect(after.isr).not.toContain(before.leader);
    await acknowledgedAtLeast(beforeKill + 60);
    const failoverMs = Date.now() - killedAt;

    cluster.spawn(before.leader);
    await cluster.ready(before.leader);
    await partitionWhen(brokers.join(','), (p) => p.isr.length === 3 && p.isr.includes(before.leader));
    await acknowledgedAtLeast(total() + 20);

    // Then the active controller: the other voters elect one in a higher epoch, topics can still
    // be created and described, the producers carry on, and the restarted node rejoins as a follower.
    const quorumBefore = (await statusFromBroker(brokers.join(','), 'test')).quorum;
    if (quorumBefore === null) throw new Error('no quorum described');
    const controllerKilledAt = Date.now();
    await cluster.kill(quorumBefore.leaderId, 'SIGKILL');
    const others = cluster.nodes.filter((node) => node.nodeId !== quorumBefore.leaderId).map((node) => node.clientAddress as string).join(',');
    const quorumAfter = await vi.waitFor(async () => {
      const quorum = (await statusFromBroker(others, 'test')).quorum;
      expect(quorum?.leaderId).not.toBe(quorumBefore.leaderId);
      expect(quorum?.leaderEpoch).toBeGreaterThan(quorumBefore.leaderEpoch);
      return quorum as NonNullable<typeof quorum>;
    }, { timeout: 30_000, interval: 50 });
    const controllerElectedMs = Date.now() - controllerKilledAt;
    // Two brokers are live: replication factor 2 (3 is INVALID_REPLICATION_FACTOR until the third returns).
    expect(await admin.createTopics({ topics: [{ topic: 'after-controller-kill', numPartitions: 2, replicationFactor: 2 }], waitForLeaders: true })).toBe(true);
    const created = await admin.fetchTopicMetadata({ topics: ['after-controller-kill'] });
    expect(created.topics[0]?.partitions.map((p) => p.replicas.length)).toEqual([2, 2]);
    await acknowledgedAtLeast(total() + 20);
    cluster.spawn(quorumBefore.leaderId);
    await cluster.ready(quorumBefore.leaderId);
    await vi.waitFor(async () => {
      const quorum = (await statusFromBroker(brokers.join(','), 'test')).quorum;
      expect(quorum?.leaderId).toBe(quorumAfter.leaderId);
      expect(quorum?.voters.find((voter) => voter.replicaId === quorumBefore.leaderId)?.lag).toBe(0);
    }, { timeout: 30_000, interval: 100 });
    await acknowledgedAtLeast(total() + 20);
    stop = true;
    await producing;
    expect(await kcatProducing, `kcat's producer: ${kcatErrors}`).toBe(0);

    // The group's FindCoordinator creates __consumer_offsets with min(3, live brokers) replicas:
    // wait until every broker sees the restarted node unfenced, or the topic gets two replicas.
    for (const address of brokers) {
      await vi.waitFor(async () => expect((await statusFromBroker(address, 'test')).brokers).toHaveLength(3), { timeout: 30_000, interval: 100 });
    }
    const consumer = kafka.consumer({ groupId: 'replication-check', maxWaitTimeInMs: 100 });
    await consumer.connect();
    clusters.defer(() => consumer.disconnect());
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    const read: string[] = [];
    await consumer.run({
      eachMessage: async ({ message }) => {
        read.push(String(message.value));
      },
    });
    const expected = total() + kcatWritten.length;
    await vi.waitFor(() => expect(read.length).toBeGreaterThanOrEqual(expected), { timeout: 30_000, interval: 100 });
    // Each producer's records, in the order it sent them, each once; nothing else.
    expect(read.filter((value) => value.startsWith('kafkajs-'))).toEqual(acknowledged.kafkajs);
    expect(read.filter((value) => value.startsWith('gregor-'))).toEqual(acknowledged.gregor);
    expect(read.filter((value) => value.startsWith('kcat-'))).toEqual(kcatWritten);
    // kcat's consumer, reading since before the first kill: every record once, in order.
    const kcatLines = () => kcatRead.split('\n').filter((line) => line !== '');
    await vi.waitFor(() => expect(kcatLines().length).toBeGreaterThanOrEqual(expected), { timeout: 30_000, interval: 100 });
    await endByPid(kcatConsumer)();
    for (const prefix of ['kafkajs-', 'gregor-', 'kcat-'] as const) {
      expect(kcatLines().filter((value) => value.startsWith(prefix)), `kcat read the ${prefix} records`).toEqual(read.filter((value) => value.startsWith(prefix)));
    }
    expect(kcatLines()).toHaveLength(expected);
    expect(read).toHaveLength(expected);

    // On disk, once the ISR is full again: every node stopped cleanly, its replicas of the topic
    // and of __consumer_offsets the same batches below the high watermark, each holding every record read.
    const replicaCheckStarted = Date.now();
    await consumer.disconnect();
    const highWatermarks = await highWatermarksOnceInSync(brokers, [TOPIC, '__consumer_offsets']);
    const replicas = await stopAndCompareReplicas(cluster, highWatermarks);
    expect(replicas.divergences).toEqual([]);
    for (const [node, records] of replicas.records.get(`${TOPIC}-0`) ?? []) expect(records.map((record) => record.value), `${TOPIC}-0 on node ${node}`).toEqual(read);
    console.log(
      `leader ${before.leader} (epoch ${before.leaderEpoch}) SIGKILLed with ${beforeKill} records acknowledged: node ${after.leader} leads in epoch ${after.leaderEpoch} ` +
        `after ${electedInMs} ms; 60 more acknowledged ${failoverMs} ms after the kill; active controller ${quorumBefore.leaderId} SIGKILLed: node ${quorumAfter.leaderId} ` +
        `elected in epoch ${quorumAfter.leaderEpoch} after ${controllerElectedMs} ms; ${expected} acknowledged in all, ${expected - read.length} lost; ` +
        `the replicas on disk identical below the high watermark ${highWatermarks.get(`${TOPIC}-0`)} (checked in ${Date.now() - replicaCheckStarted} ms)`,
    );
  });
});
