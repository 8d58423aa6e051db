/**
 * `Gregor.listen()` with Kafka's security protocols configured from Kafka's properties: a SASL_SSL
 * listener beside a PLAINTEXT one on one Gregor, SCRAM credentials kept in the data directory
 * across a restart, and a client with the wrong credentials refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Admin, Producer } from '@platformatic/kafka';
import { afterEach, describe, expect, it } from 'vitest';
import { scramCredential } from '@gregor/security';
import { Gregor } from '../src/index.js';
import { clientSecurity } from '../src/cli/client-properties.js';
import { makeTestCertificates } from '../../server/test/support/certificates.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('Gregor.listen with security protocols', () => {
  it('serves SASL_SSL (SCRAM) beside PLAINTEXT; credentials survive a restart; a wrong password is refused', async () => {
    const certificates = makeTestCertificates();
    cleanups.push(() => fs.rmSync(certificates.dir, { recursive: true, force: true }));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-secure-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const properties = {
      'listener.security.protocol.map': 'CLIENT:SASL_SSL,PLAINTEXT:PLAINTEXT',
      'listener.name.client.ssl.keystore.location': certificates.serverPkcs12,
      'listener.name.client.ssl.keystore.password': certificates.keystorePassword,
      'listener.name.client.sasl.enabled.mechanisms': 'SCRAM-SHA-256,SCRAM-SHA-512',
    };
    const first = await Gregor.open({ dir });
    first.scramCredentials.apply({ upserts: [{ username: 'alice', credential: scramCredential('SCRAM-SHA-256', 'alice-secret') }], deletions: [] });
    await first.close();

    const gregor = await Gregor.open({ dir });
    cleanups.push(() => gregor.close());
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    const plain = await gregor.listen({ host: '127.0.0.1', port: 0, logger: quiet });
    const secure = await gregor.listen({ name: 'CLIENT', host: '127.0.0.1', port: 0, properties });
    expect(gregor.listenerAddress('PLAINTEXT')).toEqual(plain);
    await expect(gregor.listen({ name: 'CLIENT', port: 0, properties })).rejects.toMatchObject({ code: 'ALREADY_LISTENING' });

    const client = (password: string) => ({
      clientId: 'secure', bootstrapBrokers: [`127.0.0.1:${secure.port}`], timeout: 5000, retries: 0,
      tls: { ca: fs.readFileSync(certificates.caPem), servername: 'localhost' }, sasl: { mechanism: 'SCRAM-SHA-256' as const, username: 'alice', password },
    });
    const admin = new Admin(client('alice-secret'));
    try {
      await admin.createTopics({ topics: ['secure-topic'], partitions: 1, replicas: 1 });
      expect(await admin.listTopics()).toContain('secure-topic');
    } finally {
      await admin.close();
    }
    // The PLAINTEXT listener's clients are sent back to it, not to the SASL_SSL one.
    const plainAdmin = new Admin({ clientId: 'plain', bootstrapBrokers: [`127.0.0.1:${plain.port}`], timeout: 5000, retries: 0 });
    try {
      const metadata = await plainAdmin.metadata({ topics: ['secure-topic'] });
      expect([...metadata.brokers.values()].map((broker) => broker.port)).toEqual([plain.port]);
    } finally {
      await plainAdmin.close();
    }
    // Gregor's own client with Kafka's settings from a client.properties file (ssl.ca.location, SASL).
    const own = new Gregor.Client({
      brokers: [`127.0.0.1:${secure.port}`], clientId: 'own',
      ...clientSecurity(new Map([['security.protocol', 'SASL_SSL'], ['ssl.ca.location', certificates.caPem], ['sasl.mechanism', 'SCRAM-SHA-256'], ['sasl.username', 'alice'], ['sasl.password', 'alice-secret']])),
    }).admin();
    try {
      expect(await own.listTopics()).toContain('secure-topic');
    } finally {
      await own.disconnect();
    }
    const refused = new Producer(client('wrong'));
    try {
      await expect(refused.metadata({ topics: [] })).rejects.toThrow();
    } finally {
      await refused.close();
    }
  });

  it('refuses a TLS listener without a keystore, and an unknown protocol in the map, with a typed error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-secure-'));
    cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
    const gregor = await Gregor.open({ dir });
    cleanups.push(() => gregor.close());
    await expect(gregor.listen({ name: 'SSL', port: 0 })).rejects.toMatchObject({ code: 'SECURITY_CONFIG', message: expect.stringContaining('ssl.keystore.location') });
    await expect(gregor.listen({ name: 'X', port: 0, properties: { 'listener.security.protocol.map': 'X:TLS' } })).rejects.toMatchObject({ code: 'SECURITY_CONFIG' });
  });
});
