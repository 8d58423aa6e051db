/** Our consumers share a group with kafkajs consumers: the consumer-protocol payloads interoperate. */
import { Broker } from '@gregor/broker';
import { MemoryFileSystem } from '@gregor/log';
import { Server, silentLogger } from '@gregor/server';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Client } from '../src/client.js';
import { fastGroupConfig, waitFor } from './helpers.js';

let broker: Broker;
let server: Server;
let port: number;

beforeEach(async () => {
  broker = await Broker.open({ dir: '/data', fs: new MemoryFileSystem(), config: fastGroupConfig });
  server = new Server({ broker, logger: silentLogger });
  ({ port } = await server.listen({ host: '127.0.0.1', port: 0 }));
});
afterEach(async () => {
  await server.close();
  await broker.close();
});

describe('interoperability with kafkajs', () => {
  it('splits a topic between a kafkajs consumer and ours in one group', async () => {
    const ours = new Client({ brokers: [`127.0.0.1:${port}`] });
    const admin = ours.admin();
    await admin.createTopics({ topics: [{ topic: 'shared', numPartitions: 6 }] });
    const kafkajs = new Kafka({ brokers: [`127.0.0.1:${port}`], clientId: 'kafkajs', logLevel: logLevel.NOTHING });
    const theirs = kafkajs.consumer({ groupId: 'mixed', heartbeatInterval: 100, sessionTimeout: 6000, maxWaitTimeInMs: 100 });
    let theirAssignment: number[] = [];
    theirs.on(theirs.events.GROUP_JOIN, (e) => (theirAssignment = e.payload.memberAssignment.shared ?? []));
    await theirs.connect();
    await theirs.subscribe({ topic: 'shared' });
    await theirs.run({ eachMessage: async () => {} });
    await waitFor(() => theirAssignment.length === 6, 'kafkajs owning all partitions');
    const mine = ours.consumer({ groupId: 'mixed', partitionAssigners: ['RoundRobinAssigner'], heartbeatInterval: 100, maxWaitTimeInMs: 100, sessionTimeout: 6000 });
    await mine.connect();
    await mine.subscribe({ topic: 'shared' });
    await mine.run({ eachMessage: async () => {} });
    await waitFor(() => mine.assignment().length === 3 && theirAssignment.length === 3, 'a 3/3 split', 20_000);
    expect([...mine.assignment().map((a) => a.partition), ...theirAssignment].sort()).toEqual([0, 1, 2, 3, 4, 5]);
    await mine.disconnect();
    await theirs.disconnect();
  });
});
