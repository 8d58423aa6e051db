/**
 * Security on a cluster of three in-process nodes, set up as Kafka's common secured cluster: a
 * SASL_PLAINTEXT client listener (PLAIN for the admin, SCRAM for users), a PLAINTEXT internal
 * listener between the brokers and a PLAINTEXT controller listener, the authorizer on every
 * broker. SCRAM credentials and ACLs live in the metadata log: a user created through one broker
 * authenticates on every broker; an ACL added with `gregor acls --add` through one broker is
 * decided with by all of them; kcat reads with SCRAM; both survive a restart of every node.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TcpTransport } from '@gregor/client';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { Gregor } from '../../src/index.js';
import { ensureBuilt, gregorAsync as gregorCli } from '../support/cli.js';
import { InProcessCluster } from './in-process-cluster.js';
import { waitFor } from './support.js';

const run = promisify(execFile);
const ADMIN_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret";';
const TOPIC = 'orders';

let cluster: InProcessCluster | undefined;
const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await cluster?.closeAll();
  cluster = undefined;
});
beforeAll(() => ensureBuilt());

function client(bootstrap: string, sasl: { mechanism: string; username: string; password: string }) {
  const created = new Gregor.Client({ brokers: [bootstrap], clientId: sasl.username, sasl, retry: { retries: 2 } } as ConstructorParameters<typeof Gregor.Client>[0]);
  return created;
}

const admin = { mechanism: 'plain', username: 'admin', password: 'admin-secret' };
const alice = { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' };

async function startSecuredCluster(): Promise<InProcessCluster> {
  cluster = await InProcessCluster.start(3, {
    listeners: [{ name: 'CLIENT', securityProtocol: 'SASL_PLAINTEXT' }, { name: 'INTERNAL', securityProtocol: 'PLAINTEXT' }],
    interBrokerListenerName: 'INTERNAL',
    clientListener: 'CLIENT',
    security: {
      properties: new Map([
        ['sasl.enabled.mechanisms', 'PLAIN,SCRAM-SHA-256,SCRAM-SHA-512'],
        ['listener.name.client.plain.sasl.jaas.config', ADMIN_JAAS],
      ]),
      // The internal listener is PLAINTEXT: the brokers' replica fetchers arrive there as User:ANONYMOUS.
      authorizer: { superUsers: ['User:admin', 'User:ANONYMOUS'] },
    },
    broker: { autoCreateTopicsEnable: false },
  });
  return cluster;
}

/** Alice's produce (kafkajs, SCRAM-SHA-256) to every partition through a client bootstrapped at node `id`. */
async function aliceProduces(c: InProcessCluster, id: number, value: string, retries = 5): Promise<void> {
  const kafka = new Kafka({ clientId: 'alice', brokers: [c.address(id)], logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries }, sasl: { mechanism: 'scram-sha-256', username: 'alice', password: 'alice-secret' } });
  const producer = kafka.producer({ allowAutoTopicCreation: false, retry: { retries } });
  cleanups.push(() => producer.disconnect());
  await producer.connect();
  for (const partition of [0, 1, 2]) await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, value: `${value}-${partition}` }] });
  await producer.disconnect();
}

describe('a secured cluster of three nodes', () => {
  it('authenticates a SCRAM user created through one broker on every broker, enforces an ACL added through one broker on all, and keeps both across a restart of every node', async () => {
    const c = await startSecuredCluster();
    const adminClient = client(c.address(1), admin).admin();
    cleanups.push(() => adminClient.disconnect());
    await adminClient.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }] });
    // Three partitions on three brokers: each partition's leader decides alice's produce.
    await adminClient.alterUserScramCredentials({ upsertions: [{ user: 'alice', mechanism: 'SCRAM-SHA-256', password: 'alice-secret' }] });

    // Credentials come from each broker's image: alice authenticates on every one (she may not see the topic yet).
    for (const id of c.nodeIds) {
      const aliceAdmin = client(c.address(id), alice).admin();
      cleanups.push(() => aliceAdmin.disconnect());
      expect(await aliceAdmin.listTopics()).toEqual([]);
      await aliceAdmin.disconnect();
      const wrong = client(c.address(id), { ...alice, password: 'wrong' }).admin();
      cleanups.push(() => wrong.disconnect());
      await expect(wrong.listTopics()).rejects.toThrow(/Authentication failed/);
      await wrong.disconnect();
    }
    for (const id of c.nodeIds) await expect(aliceProduces(c, id, 'refused', 0)).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });

    // gregor acls --add through node 2, with the admin's PLAIN credentials.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-cluster-acls-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const adminConfig = path.join(dir, 'admin.properties');
    fs.writeFileSync(adminConfig, `security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${ADMIN_JAAS.replace('user_admin="admin-secret"', 'username="admin" password="admin-secret"')}\n`);
    const added = await gregorCli(['acls', '--bootstrap-server', c.address(2), '--command-config', adminConfig, '--add', '--allow-principal', 'User:alice', '--operation', 'Write', '--operation', 'Read', '--topic', TOPIC]);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    // Every broker decides with the two new ACLs: alice produces through each to every partition.
    // Node 2 answered once its own image had them; the others apply the same committed batch.
    for (const id of c.nodeIds) await waitFor(`node ${id}'s authorizer to hold the new ACLs`, () => c.node(id).security.authorizer?.acls.length === 2);
    for (const id of c.nodeIds) await aliceProduces(c, id, `allowed-${id}`);

    // kcat with SCRAM: the brokers on the listener it connected to, and alice's records.
    const kcatSasl = ['-X', 'security.protocol=SASL_PLAINTEXT', '-X', 'sasl.mechanism=SCRAM-SHA-256', '-X', 'sasl.username=alice', '-X', 'sasl.password=alice-secret'];
    const listed = await run('kcat', ['-L', '-b', c.address(3), ...kcatSasl, '-t', TOPIC], { timeout: 30_000 });
    expect(listed.stdout).toContain(' 3 brokers:');
    for (const id of c.nodeIds) expect(listed.stdout).toContain(`broker ${id} at ${c.address(id)}`);
    const consumed = await run('kcat', ['-C', '-b', c.address(3), ...kcatSasl, '-t', TOPIC, '-e', '-q', '-f', '%s\n'], { timeout: 30_000 });
    expect(consumed.stdout.trim().split('\n').sort()).toEqual(c.nodeIds.flatMap((id) => [0, 1, 2].map((p) => `allowed-${id}-${p}`)).sort());
    await adminClient.disconnect();

    // Every node restarts: the credentials and ACLs come back from the metadata log.
    for (const id of c.nodeIds) await c.kill(id);
    await Promise.all(c.nodeIds.map((id) => c.restart(id)));
    for (const id of c.nodeIds) await aliceProduces(c, id, `after-restart-${id}`);
    const listedAcls = await gregorCli(['acls', '--bootstrap-server', c.address(3), '--command-config', adminConfig, '--list']);
    expect(listedAcls.stdout).toContain('(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)');
    expect(listedAcls.stdout).toContain('(principal=User:alice, host=*, operation=READ, permissionType=ALLOW)');
  });
});

describe('a cluster whose brokers authenticate to each other', () => {
  it('replicates and runs its quorum over SASL_PLAINTEXT internal and controller listeners as the broker user, a super user, and refuses anyone else on the controller listener', async () => {
    const brokerJaas = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="broker" password="broker-secret" user_broker="broker-secret" user_mallory="mallory-secret";';
    cluster = await InProcessCluster.start(3, {
      listeners: [{ name: 'CLIENT', securityProtocol: 'SASL_PLAINTEXT' }, { name: 'INTERNAL', securityProtocol: 'SASL_PLAINTEXT' }],
      interBrokerListenerName: 'INTERNAL',
      controllerSecurityProtocol: 'SASL_PLAINTEXT',
      clientListener: 'CLIENT',
      security: {
        properties: new Map([
          ['sasl.enabled.mechanisms', 'PLAIN'],
          ['listener.name.client.plain.sasl.jaas.config', ADMIN_JAAS],
          ['listener.name.internal.plain.sasl.jaas.config', brokerJaas],
          ['sasl.mechanism.inter.broker.protocol', 'PLAIN'],
          ['listener.name.controller.plain.sasl.jaas.config', brokerJaas],
          ['sasl.mechanism.controller.protocol', 'PLAIN'],
        ]),
        authorizer: { superUsers: ['User:admin', 'User:broker'] },
      },
      broker: { autoCreateTopicsEnable: false },
    });
    const c = cluster;
    const kafka = new Kafka({ clientId: 'admin', brokers: [c.address(1)], logLevel: logLevel.NOTHING, sasl: { mechanism: 'plain', username: 'admin', password: 'admin-secret' } });
    const kafkaAdmin = kafka.admin();
    cleanups.push(() => kafkaAdmin.disconnect());
    await kafkaAdmin.connect();
    await kafkaAdmin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 3, replicationFactor: 3 }], waitForLeaders: true });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    cleanups.push(() => producer.disconnect());
    await producer.connect();
    // acks=all with min.insync.replicas=2 is answered only once the followers fetched the record over INTERNAL.
    for (const partition of [0, 1, 2]) await producer.send({ topic: TOPIC, acks: -1, messages: [{ partition, value: `replicated-${partition}` }] });
    const metadata = await kafkaAdmin.fetchTopicMetadata({ topics: [TOPIC] });
    for (const partition of metadata.topics[0].partitions) expect([...partition.isr].sort()).toEqual([1, 2, 3]);

    // Mallory logs in to a controller listener but is no super user: the controller refuses her.
    const controllerPort = c.node(1).listenerAddress('CONTROLLER')?.port;
    const mallory = new TcpTransport({ brokers: [`127.0.0.1:${controllerPort}`], clientId: 'mallory', sasl: { mechanism: 'plain', username: 'mallory', password: 'mallory-secret' } });
    cleanups.push(() => mallory.close());
    const creation = { resourceType: 2, resourceName: TOPIC, resourcePatternType: 3, principal: 'User:mallory', host: '*', operation: 2, permissionType: 3 };
    const refused = await mallory.request(ApiKey.CreateAcls, 3, { creations: [creation] });
    expect(refused.results).toEqual([{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: expect.stringContaining('ClusterAction') }]);
  });
});
