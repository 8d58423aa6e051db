/**
 * Authorization end to end, as a Kafka user meets it: a broker with the authorizer on and a
 * SASL_PLAINTEXT listener; alice (kafkajs) is refused a produce and a group read with Kafka's
 * authorization errors and does not see the topic in Metadata; `gregor acls --add` through
 * `--command-config` with the super user's credentials grants them, and alice succeeds; the ACLs
 * survive a restart; `gregor configs` manages SCRAM credentials the same way.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Gregor } from '../src/index.js';
import { ensureBuilt, gregorAsync as gregorCli } from './support/cli.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
beforeAll(() => ensureBuilt());

const quiet = { info: () => {}, warn: () => {}, error: () => {} };
const JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required user_admin="admin-secret" user_alice="alice-secret";';

async function serve(dir: string): Promise<{ gregor: Gregor; bootstrap: string }> {
  const gregor = await Gregor.open({ dir, authorizer: { superUsers: ['User:admin'] } });
  cleanups.push(() => gregor.close());
  const { port } = await gregor.listen({ name: 'SASL_PLAINTEXT', host: '127.0.0.1', port: 0, properties: { 'listener.name.sasl_plaintext.plain.sasl.jaas.config': JAAS }, logger: quiet });
  return { gregor, bootstrap: `127.0.0.1:${port}` };
}

describe('ACLs with the authorizer on', () => {
  it('refuses alice until gregor acls --add grants her, hides what she may not describe, and keeps the ACLs across a restart', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-acls-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const adminConfig = path.join(dir, '..', `${path.basename(dir)}-admin.properties`);
    fs.writeFileSync(adminConfig, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret";\n');
    cleanups.push(() => fs.rmSync(adminConfig, { force: true }));
    let { gregor, bootstrap } = await serve(dir);
    const kafka = (user: string) => new Kafka({ clientId: user, brokers: [bootstrap], logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 0 }, sasl: { mechanism: 'plain', username: user, password: `${user}-secret` } });

    const admin = kafka('admin').admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 1 }] });
    await admin.disconnect();

    const alice = kafka('alice');
    const aliceAdmin = alice.admin();
    await aliceAdmin.connect();
    expect(await aliceAdmin.listTopics()).toEqual([]);
    const producer = alice.producer({ allowAutoTopicCreation: false, retry: { retries: 0 } });
    await producer.connect();
    await expect(producer.send({ topic: 'orders', messages: [{ value: 'refused' }] })).rejects.toMatchObject({ cause: { type: 'TOPIC_AUTHORIZATION_FAILED' } });
    const consumer = alice.consumer({ groupId: 'billing', retry: { retries: 0 } });
    // kafkajs turns FindCoordinator's error into "Failed to find group coordinator"; Gregor's own
    // client (over SASL too) shows the code Kafka answers.
    await expect(aliceAdmin.fetchOffsets({ groupId: 'billing', topics: ['orders'] })).rejects.toThrow(/group coordinator/);
    const ownClient = new Gregor.Client({ brokers: [bootstrap], clientId: 'alice', sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } }).admin();
    await expect(ownClient.fetchOffsets({ groupId: 'billing' })).rejects.toMatchObject({ type: 'GROUP_AUTHORIZATION_FAILED' });
    const ownProducer = new Gregor.Client({ brokers: [bootstrap], clientId: 'alice', sasl: { mechanism: 'plain', username: 'alice', password: 'alice-secret' } }).producer({ retry: { retries: 0 } });
    await ownProducer.connect();
    // Metadata hides the topic with TOPIC_AUTHORIZATION_FAILED: the send says so, not UNKNOWN_TOPIC_OR_PARTITION.
    await expect(ownProducer.send({ topic: 'orders', messages: [{ value: 'refused' }] })).rejects.toMatchObject({ type: 'TOPIC_AUTHORIZATION_FAILED', retriable: false });
    await ownProducer.disconnect();
    await ownClient.disconnect();

    const connection = ['--bootstrap-server', bootstrap, '--command-config', adminConfig];
    const added = await gregorCli(['acls', ...connection, '--add', '--allow-principal', 'User:alice', '--operation', 'Write', '--operation', 'Read', '--topic', 'orders', '--group', 'billing']);
    expect(added.stderr).toBe('');
    expect(added.status).toBe(0);
    const refusedCli = await gregorCli(['acls', '--bootstrap-server', bootstrap, '--list']);
    expect(refusedCli.status).toBe(1);

    expect(await aliceAdmin.listTopics()).toEqual(['orders']);
    await producer.send({ topic: 'orders', messages: [{ value: 'allowed' }] });
    const received: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topic: 'orders', fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void received.push(String(message.value)) });
    await new Promise<void>((resolve, reject) => {
      const deadline = setTimeout(() => reject(new Error('no record within 20 s')), 20_000);
      const poll = setInterval(() => {
        if (received.length > 0) {
          clearInterval(poll);
          clearTimeout(deadline);
          resolve();
        }
      }, 50);
    });
    expect(received).toEqual(['allowed']);
    await consumer.disconnect();
    await producer.disconnect();
    await aliceAdmin.disconnect();

    // Restart: the ACLs are in the data directory.
    await gregor.close();
    ({ gregor, bootstrap } = await serve(dir));
    const listed = await gregorCli(['acls', '--bootstrap-server', bootstrap, '--command-config', adminConfig, '--list']);
    expect(listed.stdout).toContain('ResourcePattern(resourceType=TOPIC, name=orders, patternType=LITERAL)');
    expect(listed.stdout).toContain('(principal=User:alice, host=*, operation=WRITE, permissionType=ALLOW)');
    expect(listed.stdout).toContain('ResourcePattern(resourceType=GROUP, name=billing, patternType=LITERAL)');
    const removed = await gregorCli(['acls', '--bootstrap-server', bootstrap, '--command-config', adminConfig, '--remove', '--allow-principal', 'User:alice', '--operation', 'Write', '--topic', 'orders']);
    expect(removed.stdout).toContain('Removed 1 ACL.');
  });

  it('gregor configs adds and describes SCRAM credentials, and the user then authenticates with SCRAM', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-acls-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const gregor = await Gregor.open({ dir });
    cleanups.push(() => gregor.close());
    const plain = await gregor.listen({ host: '127.0.0.1', port: 0, logger: quiet });
    const scram = await gregor.listen({ name: 'SASL_PLAINTEXT', host: '127.0.0.1', port: 0, logger: quiet });
    const altered = await gregorCli(['configs', '--bootstrap-server', `127.0.0.1:${plain.port}`, '--alter', '--entity-type', 'users', '--entity-name', 'carol', '--add-config', 'SCRAM-SHA-256=[iterations=8192,password=carol-secret],SCRAM-SHA-512=[password=carol-secret]']);
    expect(altered.stderr).toBe('');
    expect(altered.stdout).toContain('Completed updating config for user carol.');
    const described = await gregorCli(['configs', '--bootstrap-server', `127.0.0.1:${plain.port}`, '--describe', '--entity-type', 'users']);
    expect(described.stdout).toContain("SCRAM credential configs for user-principal 'carol' are SCRAM-SHA-256=iterations=8192, SCRAM-SHA-512=iterations=4096");
    const clientConfig = path.join(dir, 'carol.properties');
    fs.writeFileSync(clientConfig, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=carol\nsasl.password=carol-secret\n');
    const metadata = await gregorCli(['metadata', '--bootstrap-server', `127.0.0.1:${scram.port}`, '--command-config', clientConfig]);
    expect(metadata.stderr).toBe('');
    expect(metadata.stdout).toContain('1 brokers:');
    fs.writeFileSync(clientConfig, 'security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-512\nsasl.username=carol\nsasl.password=wrong\n');
    const refused = await gregorCli(['metadata', '--bootstrap-server', `127.0.0.1:${scram.port}`, '--command-config', clientConfig]);
    expect(refused.status).toBe(1);
    expect(refused.stderr).toContain('Authentication failed: invalid credentials with SASL mechanism SCRAM-SHA-512');
  });
});
