/**
 * Listeners with Kafka's security protocols against real clients and bare sockets: SASL PLAIN and
 * SCRAM over SASL_PLAINTEXT and SASL_SSL (kcat, kafkajs, @platformatic/kafka), SSL with a CA the
 * test makes, client certificates as principals, and what happens to clients that misbehave
 * before they authenticate.
 */
import { rmSync, readFileSync } from 'node:fs';
import tls from 'node:tls';
import { Admin, ProduceAcks, Producer } from '@platformatic/kafka';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeClock } from '@gregor/log';
import { ApiKey, encodeRequest, ErrorCode } from '@gregor/protocol';
import { plainClientMessage, ScramClientExchange } from '@gregor/security';
import type { Logger, RequestContext } from '../src/index.js';
import { makeTestCertificates, type TestCertificates } from './support/certificates.js';
import { kcat } from './support/kcat.js';
import { RawClient } from './support/raw-client.js';
import { waitFor } from './support/wait.js';
import { PLAIN_JAAS, type SecureBroker, startSecureBroker, USERS } from './support/secure-gregor.js';

let certificates: TestCertificates;
let secure: SecureBroker;

beforeAll(async () => {
  certificates = makeTestCertificates();
  secure = await startSecureBroker();
});

afterAll(async () => {
  await secure?.close();
  if (certificates !== undefined) rmSync(certificates.dir, { recursive: true, force: true });
});

const QUICK = ['-X', 'socket.timeout.ms=8000', '-X', 'topic.metadata.refresh.interval.ms=1000'];

function saslProperties(listener: string): Record<string, string> {
  return { [`listener.name.${listener.toLowerCase()}.plain.sasl.jaas.config`]: PLAIN_JAAS };
}

function tlsProperties(): Record<string, string> {
  return { 'ssl.keystore.location': certificates.serverKeystorePem };
}

/** Records the principal of every request `broker` handles; `restore()` puts its own handler back. */
function recordPrincipals(broker: SecureBroker['broker']): { seen: string[]; restore: () => void } {
  const seen: string[] = [];
  const original = broker.handle.bind(broker);
  broker.handle = (apiKey, apiVersion, body, context) => {
    seen.push((context as RequestContext).principal);
    return original(apiKey, apiVersion, body, context);
  };
  return { seen, restore: () => { broker.handle = original; } };
}

/** Whether a TLS client presenting `identity` (none, or a key and certificate) is refused: the handshake fails or its first request gets no answer. */
async function refusedWith(port: number, ca: Buffer, identity: { key?: Buffer; cert?: Buffer }): Promise<boolean> {
  return RawClient.connect(port, { ca, servername: 'localhost', ...identity }).then(async (raw) => (await raw.request(ApiKey.Metadata, 1, { topics: [] })) === null, () => true);
}

async function kcatRoundTrip(bootstrap: string, topic: string, settings: string[]): Promise<void> {
  const produced = await kcat(['-P', '-b', bootstrap, '-t', topic, '-K:', ...QUICK, ...settings], { input: 'k1:v1\nk2:v2\n', timeoutMs: 20_000 });
  expect(produced.stderr).toBe('');
  expect(produced.code).toBe(0);
  const consumed = await kcat(['-C', '-b', bootstrap, '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%k:%s\\n', ...QUICK, ...settings], { timeoutMs: 20_000 });
  expect(consumed.stdout.split('\n').filter((line) => line !== '')).toEqual(['k1:v1', 'k2:v2']);
}

function saslSettings(mechanism: string, password: string = USERS.alice): string[] {
  return ['-X', `sasl.mechanism=${mechanism}`, '-X', 'sasl.username=alice', '-X', `sasl.password=${password}`];
}

describe('kcat (librdkafka) with SASL and TLS', () => {
  for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
    for (const mechanism of ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512']) {
      it(`${protocol} ${mechanism}: authenticates with the right password (a produce and consume for SCRAM-SHA-512), is refused with a wrong one`, async () => {
        const properties = { ...saslProperties(protocol), ...(protocol === 'SASL_SSL' ? tlsProperties() : {}) };
        const { server, bootstrap } = await secure.serve(protocol, properties);
        try {
          const tlsSettings = protocol === 'SASL_SSL' ? ['-X', `ssl.ca.location=${certificates.caPem}`] : [];
          const base = ['-X', `security.protocol=${protocol.toLowerCase()}`, ...tlsSettings];
          if (mechanism === 'SCRAM-SHA-512') await kcatRoundTrip(bootstrap, `kcat-${protocol}-${mechanism}`.toLowerCase(), [...base, ...saslSettings(mechanism)]);
          else {
            const listed = await kcat(['-L', '-b', bootstrap, ...QUICK, '-m', '5', ...base, ...saslSettings(mechanism)], { timeoutMs: 20_000 });
            expect(listed.stderr).toBe('');
            expect(listed.stdout).toMatch(/1 brokers:/);
          }
          const refused = await kcat(['-L', '-b', bootstrap, ...QUICK, '-m', '3', ...base, ...saslSettings(mechanism, 'wrong')], { timeoutMs: 20_000 });
          expect(refused.code).not.toBe(0);
          expect(refused.stderr).toMatch(/Authentication failed: invalid credentials/);
        } finally {
          await server.close({ graceMs: 0 });
        }
      });
    }
  }

  it('SSL: kcat trusts the test CA and round-trips records; without the CA it is refused', async () => {
    const { server, bootstrap } = await secure.serve('SSL', tlsProperties());
    try {
      await kcatRoundTrip(bootstrap, 'kcat-ssl', ['-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certificates.caPem}`]);
      const untrusted = await kcat(['-L', '-b', bootstrap, ...QUICK, '-m', '3', '-X', 'security.protocol=ssl', '-X', `ssl.ca.location=${certificates.strangerCert}`], { timeoutMs: 20_000 });
      expect(untrusted.code).not.toBe(0);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

describe('TLS keystores and client certificates', () => {
  it('a PKCS#12 keystore and an encrypted PEM key (ssl.key.password) both serve TLS', async () => {
    const keystores: Record<string, string>[] = [
      { 'ssl.keystore.location': certificates.serverPkcs12, 'ssl.keystore.type': 'PKCS12', 'ssl.keystore.password': certificates.keystorePassword },
      { 'ssl.keystore.location': certificates.serverEncryptedKeystorePem, 'ssl.key.password': certificates.keyPassword },
    ];
    for (const properties of keystores) {
      const { server, port } = await secure.serve('SSL', properties);
      try {
        const client = await RawClient.connect(port, { ca: readFileSync(certificates.caPem), servername: 'localhost' });
        const versions = await client.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' });
        expect(versions?.errorCode).toBe(ErrorCode.NONE);
        client.close();
      } finally {
        await server.close({ graceMs: 0 });
      }
    }
  });

  it('ssl.client.auth=required: the certificate subject becomes the principal; no certificate or a stranger\'s is refused', async () => {
    const broker = secure.broker;
    const { server, port } = await secure.serve('SSL', {
      ...tlsProperties(), 'ssl.client.auth': 'required', 'ssl.truststore.location': certificates.caPem,
    });
    const { seen, restore } = recordPrincipals(broker);
    try {
      const ca = readFileSync(certificates.caPem);
      const client = await RawClient.connect(port, { ca, servername: 'localhost', key: readFileSync(certificates.clientKey), cert: readFileSync(certificates.clientCert) });
      await client.request(ApiKey.Metadata, 1, { topics: [] });
      expect(seen).toEqual(['User:CN=alice,OU=test,O=gregor']);
      client.close();
      for (const identity of [{}, { key: readFileSync(certificates.strangerKey), cert: readFileSync(certificates.strangerCert) }]) {
        expect(await refusedWith(port, ca, identity)).toBe(true);
      }
      expect(seen).toHaveLength(1);
    } finally {
      restore();
      await server.close({ graceMs: 0 });
    }
  });

  it('ssl.client.auth=requested: no certificate is User:ANONYMOUS, a certificate gives its RFC 2253 subject, a stranger\'s is refused', async () => {
    const broker = secure.broker;
    const { server, port } = await secure.serve('SSL', { ...tlsProperties(), 'ssl.client.auth': 'requested', 'ssl.truststore.location': certificates.caPem });
    const { seen, restore } = recordPrincipals(broker);
    try {
      const ca = readFileSync(certificates.caPem);
      const identities = [{}, { key: readFileSync(certificates.clientKey), cert: readFileSync(certificates.clientCert) }, { key: readFileSync(certificates.escapedKey), cert: readFileSync(certificates.escapedCert) }];
      for (const identity of identities) {
        const client = await RawClient.connect(port, { ca, servername: 'localhost', ...identity });
        expect((await client.request(ApiKey.Metadata, 1, { topics: [] }))?.brokers).toHaveLength(1);
        client.close();
      }
      expect(seen).toEqual(['User:ANONYMOUS', 'User:CN=alice,OU=test,O=gregor', 'User:CN=Smith\\, John,O=Acme\\, Inc.']);
      const stranger = { key: readFileSync(certificates.strangerKey), cert: readFileSync(certificates.strangerCert) };
      expect(await refusedWith(port, ca, stranger)).toBe(true);
      expect(seen).toHaveLength(3);
    } finally {
      restore();
      await server.close({ graceMs: 0 });
    }
  });

  it('ssl.principal.mapping.rules maps the subject; a certificate no rule applies to is refused', async () => {
    const broker = secure.broker;
    const { server, port } = await secure.serve('SSL', {
      ...tlsProperties(), 'ssl.client.auth': 'required', 'ssl.truststore.location': certificates.caPem,
      'ssl.principal.mapping.rules': 'RULE:^CN=([^,]*),OU=test,.*$/$1/U',
    });
    const { seen, restore } = recordPrincipals(broker);
    try {
      const ca = readFileSync(certificates.caPem);
      const client = await RawClient.connect(port, { ca, servername: 'localhost', key: readFileSync(certificates.clientKey), cert: readFileSync(certificates.clientCert) });
      await client.request(ApiKey.Metadata, 1, { topics: [] });
      client.close();
      expect(seen).toEqual(['User:ALICE']);
      const unmapped = { key: readFileSync(certificates.escapedKey), cert: readFileSync(certificates.escapedCert) };
      expect(await refusedWith(port, ca, unmapped)).toBe(true);
      expect(seen).toHaveLength(1);
    } finally {
      restore();
      await server.close({ graceMs: 0 });
    }
  });

  it('a TLS handshake that stalls is closed after sslHandshakeTimeoutMs, and the listener still serves others', async () => {
    const { server, port } = await secure.serve('SSL', tlsProperties(), { sslHandshakeTimeoutMs: 300 });
    try {
      const stalled = await RawClient.connect(port);
      stalled.socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello, never finished
      await stalled.closedPromise;
      const client = await RawClient.connect(port, { ca: readFileSync(certificates.caPem), servername: 'localhost' });
      expect((await client.request(ApiKey.ApiVersions, 0, {}))?.errorCode).toBe(ErrorCode.NONE);
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

describe('the SASL stage on bare sockets', () => {
  async function saslListener(logger?: Logger, config = {}) {
    return secure.serve('SASL_PLAINTEXT', saslProperties('SASL_PLAINTEXT'), config, logger);
  }

  it('ApiVersions before authentication lists SaslHandshake and SaslAuthenticate', async () => {
    const { server, port } = await saslListener();
    try {
      const client = await RawClient.connect(port);
      const versions = (await client.request(ApiKey.ApiVersions, 3, { clientSoftwareName: 'raw', clientSoftwareVersion: '1' })) as { apiKeys: { apiKey: number }[] };
      expect(versions.apiKeys.map((api) => api.apiKey)).toEqual(expect.arrayContaining([ApiKey.SaslHandshake, ApiKey.SaslAuthenticate, ApiKey.Produce]));
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('SaslHandshake v0 then bare tokens (PLAIN), then requests are served', async () => {
    const { server, port } = await saslListener();
    try {
      const client = await RawClient.connect(port);
      expect(await client.request(ApiKey.SaslHandshake, 0, { mechanism: 'PLAIN' })).toEqual({ errorCode: ErrorCode.NONE, mechanisms: ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] });
      expect(await client.token(plainClientMessage('alice', USERS.alice))).toEqual(Buffer.alloc(0));
      const metadata = await client.request(ApiKey.Metadata, 1, { topics: [] });
      expect(metadata?.brokers).toHaveLength(1);
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('SaslHandshake v1 then SaslAuthenticate (SCRAM-SHA-512), the client verifying the server', async () => {
    const { server, port } = await saslListener();
    try {
      const client = await RawClient.connect(port);
      await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-512' });
      const scram = new ScramClientExchange('SCRAM-SHA-512', 'alice', USERS.alice);
      const first = (await client.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.first() })) as { errorCode: number; authBytes: Buffer };
      expect(first.errorCode).toBe(ErrorCode.NONE);
      const final = (await client.request(ApiKey.SaslAuthenticate, 2, { authBytes: scram.final(first.authBytes) })) as { errorCode: number; authBytes: Buffer };
      expect(final.errorCode).toBe(ErrorCode.NONE);
      scram.verify(final.authBytes);
      expect((await client.request(ApiKey.Metadata, 1, { topics: [] }))?.brokers).toHaveLength(1);
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('a failed authentication answers SASL_AUTHENTICATION_FAILED after the delay, logs the peer and closes', async () => {
    const warnings: Record<string, unknown>[] = [];
    const logger: Logger = { info: () => {}, error: () => {}, warn: (message, fields) => warnings.push({ message, ...fields }) };
    const { server, port } = await saslListener(logger, { connectionFailedAuthenticationDelayMs: 200 });
    try {
      const answers: unknown[] = [];
      for (const token of [plainClientMessage('alice', 'wrong'), plainClientMessage('nobody', USERS.alice)]) {
        const client = await RawClient.connect(port);
        await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
        const started = performance.now();
        const answer = (await client.request(ApiKey.SaslAuthenticate, 1, { authBytes: token })) as { errorCode: number; errorMessage: string };
        expect(performance.now() - started).toBeGreaterThanOrEqual(150);
        answers.push({ errorCode: answer.errorCode, errorMessage: answer.errorMessage });
        await client.closedPromise;
      }
      expect(answers[0]).toEqual({ errorCode: ErrorCode.SASL_AUTHENTICATION_FAILED, errorMessage: 'Authentication failed: invalid credentials with SASL mechanism PLAIN' });
      expect(answers[1]).toEqual(answers[0]);
      const failures = warnings.filter((w) => w.message === 'failed authentication');
      expect(failures).toHaveLength(2);
      expect(String(failures[0].remote)).toMatch(/^127\.0\.0\.1:\d+$/);
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('requests before authentication, SaslAuthenticate before SaslHandshake, an unknown mechanism and oversized or malformed frames each close only their connection', async () => {
    const { server, port } = await saslListener();
    try {
      const attempts: ((client: RawClient) => Promise<unknown>)[] = [
        (client) => client.request(ApiKey.Metadata, 1, { topics: [] }),
        (client) => client.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainClientMessage('alice', USERS.alice) }),
        async (client) => {
          const answer = await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'GSSAPI' });
          expect(answer?.errorCode).toBe(ErrorCode.UNSUPPORTED_SASL_MECHANISM);
          return client.nextFrame();
        },
        (client) => client.token(Buffer.alloc(600_000)),
        (client) => client.token(Buffer.from([0, 17, 0, 1, 0, 0])),
        async (client) => {
          await client.request(ApiKey.SaslHandshake, 0, { mechanism: 'SCRAM-SHA-256' });
          return client.token(Buffer.from('not a scram message'));
        },
        async (client) => {
          await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
          await client.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainClientMessage('alice', USERS.alice) });
          // Authenticated now: a second handshake is out of place (Kafka: ILLEGAL_SASL_STATE, or a close).
          return client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
        },
      ];
      for (const [index, attempt] of attempts.entries()) {
        const client = await RawClient.connect(port);
        const answer = await attempt(client);
        if (index === attempts.length - 1) expect((answer as { errorCode?: number } | null)?.errorCode ?? ErrorCode.ILLEGAL_SASL_STATE).toBe(ErrorCode.ILLEGAL_SASL_STATE);
        else {
          await client.closedPromise;
          expect(client.closed).toBe(true);
        }
        client.close();
      }
      // The listener still serves a well-behaved client.
      const client = await RawClient.connect(port);
      await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
      expect((await client.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainClientMessage('admin', USERS.admin) }))?.errorCode).toBe(ErrorCode.NONE);
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

describe('memory before authentication', () => {
  it('a client that queues more than 8 frames before it authenticated is closed; the server holds nothing for it afterwards', async () => {
    const warnings: Record<string, unknown>[] = [];
    const logger: Logger = { info: () => {}, error: () => {}, warn: (message, fields) => warnings.push({ message, ...fields }) };
    const { server, port } = await secure.serve('SASL_PLAINTEXT', saslProperties('SASL_PLAINTEXT'), {}, logger);
    try {
      const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(port)));
      for (const client of clients) {
        // ApiVersions is allowed before authentication; 20 at once exceed the queue of 8.
        client.socket.write(Buffer.concat(Array.from({ length: 20 }, (_, index) => encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: index, clientId: 'raw' }, {}))));
      }
      for (const client of clients) await client.closedPromise;
      expect(warnings.filter((warning) => String(warning.reason).includes('more than 8 frames'))).toHaveLength(3);
      await waitFor(() => server.connectionCount === 0);
      expect(server.memoryUsage).toMatchObject({ requestBytesCharged: 0, responseBytes: 0 });
      // Others are served as before.
      const client = await RawClient.connect(port);
      expect((await plainAuthenticate(client))?.errorCode).toBe(ErrorCode.NONE);
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

async function plainAuthenticate(client: RawClient): Promise<Record<string, unknown> | null> {
  await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
  return client.request(ApiKey.SaslAuthenticate, 2, { authBytes: plainClientMessage('alice', USERS.alice) });
}

describe('re-authentication (KIP-368, connections.max.reauth.ms) on bare sockets, on an injected clock', () => {
  const LIFETIME_MS = 60_000;

  async function reauthListener(clock: FakeClock, properties: Record<string, string> = { 'connections.max.reauth.ms': String(LIFETIME_MS) }) {
    return secure.serve('SASL_PLAINTEXT', { ...saslProperties('SASL_PLAINTEXT'), ...properties }, {}, undefined, clock);
  }

  async function plain(client: RawClient, user: keyof typeof USERS, version = 2): Promise<Record<string, unknown> | null> {
    const handshake = await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
    if (handshake?.errorCode !== ErrorCode.NONE) return handshake;
    return client.request(ApiKey.SaslAuthenticate, version, { authBytes: plainClientMessage(user, USERS[user]) });
  }

  async function scram(client: RawClient, user: keyof typeof USERS): Promise<Record<string, unknown> | null> {
    await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
    const exchange = new ScramClientExchange('SCRAM-SHA-256', user, USERS[user]);
    const first = (await client.request(ApiKey.SaslAuthenticate, 2, { authBytes: exchange.first() })) as { authBytes: Buffer; sessionLifetimeMs: bigint | number };
    expect(Number(first.sessionLifetimeMs)).toBe(0);
    return client.request(ApiKey.SaslAuthenticate, 2, { authBytes: exchange.final(first.authBytes) });
  }

  const metadata = (client: RawClient) => client.request(ApiKey.Metadata, 1, { topics: [] });

  it('the session lifetime is told in the last SaslAuthenticate answer (v1+); a request after it expires closes the connection', async () => {
    const clock = new FakeClock();
    const { server, port } = await reauthListener(clock);
    try {
      for (const authenticate of [(client: RawClient) => plain(client, 'alice'), (client: RawClient) => scram(client, 'alice')]) {
        const client = await RawClient.connect(port);
        const answer = await authenticate(client);
        expect([answer?.errorCode, Number(answer?.sessionLifetimeMs)]).toEqual([ErrorCode.NONE, LIFETIME_MS]);
        clock.advance(LIFETIME_MS);
        expect((await metadata(client))?.brokers).toHaveLength(1);
        clock.advance(1);
        expect(await metadata(client)).toBeNull();
        expect(client.closed).toBe(true);
      }
      // A per-mechanism setting wins; without any, sessions do not expire and the lifetime is 0.
      const perMechanism = await reauthListener(clock, { 'listener.name.sasl_plaintext.plain.connections.max.reauth.ms': '5000' });
      const other = await RawClient.connect(perMechanism.port);
      expect(Number((await plain(other, 'alice'))?.sessionLifetimeMs)).toBe(5000);
      other.close();
      await perMechanism.server.close({ graceMs: 0 });
      const unset = await reauthListener(clock, {});
      const forever = await RawClient.connect(unset.port);
      expect(Number((await plain(forever, 'alice'))?.sessionLifetimeMs)).toBe(0);
      clock.advance(365 * 24 * 3600 * 1000);
      expect((await metadata(forever))?.brokers).toHaveLength(1);
      // Without a session to renew, a second handshake is out of place: ILLEGAL_SASL_STATE, the connection stays.
      expect((await forever.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' }))?.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
      expect((await metadata(forever))?.brokers).toHaveLength(1);
      forever.close();
      await unset.server.close({ graceMs: 0 });
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('re-authenticating on the same connection renews the session, also once it expired; not twice within a second', async () => {
    const clock = new FakeClock();
    const { server, port } = await reauthListener(clock);
    try {
      const client = await RawClient.connect(port);
      await scram(client, 'alice');
      clock.advance(LIFETIME_MS - 1000);
      const renewed = await scram(client, 'alice');
      expect([renewed?.errorCode, Number(renewed?.sessionLifetimeMs)]).toEqual([ErrorCode.NONE, LIFETIME_MS]);
      // Past the first session's end, within the second's.
      clock.advance(LIFETIME_MS - 1);
      expect((await metadata(client))?.brokers).toHaveLength(1);
      // Again within a second: refused as a handshake out of place; the session goes on.
      clock.advance(2);
      expect((await scram(client, 'alice'))?.errorCode).toBe(ErrorCode.NONE);
      clock.advance(500);
      expect((await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' }))?.errorCode).toBe(ErrorCode.ILLEGAL_SASL_STATE);
      // Expired: only a re-authentication is accepted, and it brings the connection back.
      clock.advance(LIFETIME_MS + 1);
      expect((await scram(client, 'alice'))?.errorCode).toBe(ErrorCode.NONE);
      expect((await metadata(client))?.brokers).toHaveLength(1);
      client.close();
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('a re-authentication as another principal, with another mechanism or a wrong password fails and closes the connection', async () => {
    const clock = new FakeClock();
    const { server, port } = await reauthListener(clock);
    try {
      const attempts: [string, (client: RawClient) => Promise<Record<string, unknown> | null>, string][] = [
        ['another principal', (client) => plain(client, 'admin'), 'Cannot change principals during re-authentication from User.alice: User.admin'],
        ['another mechanism', async (client) => {
          await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'SCRAM-SHA-256' });
          return client.request(ApiKey.SaslAuthenticate, 2, { authBytes: new ScramClientExchange('SCRAM-SHA-256', 'alice', USERS.alice).first() });
        }, "SASL mechanism 'SCRAM-SHA-256' requested by client is not supported for re-authentication of mechanism 'PLAIN'"],
        ['a wrong password', async (client) => {
          await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
          return client.request(ApiKey.SaslAuthenticate, 2, { authBytes: plainClientMessage('alice', 'wrong') });
        }, 'Authentication failed: invalid credentials with SASL mechanism PLAIN'],
      ];
      for (const [, attempt, message] of attempts) {
        const client = await RawClient.connect(port);
        await plain(client, 'alice');
        clock.advance(30_000);
        const answer = await attempt(client);
        expect([answer?.errorCode, answer?.errorMessage]).toEqual([ErrorCode.SASL_AUTHENTICATION_FAILED, message]);
        await client.closedPromise;
      }
    } finally {
      await server.close({ graceMs: 0 });
    }
  });

  it('@platformatic/kafka re-authenticates before its session ends and keeps producing on the same connection', async () => {
    const events: Record<string, unknown>[] = [];
    const logger: Logger = { warn: () => {}, error: () => {}, info: (message, fields) => events.push({ message, ...fields }) };
    // Real time: platformatic renews at 80% of the lifetime; Kafka allows one re-authentication a second.
    const { server, bootstrap } = await secure.serve('SASL_PLAINTEXT', { ...saslProperties('SASL_PLAINTEXT'), 'connections.max.reauth.ms': '1500' }, {}, logger);
    const options = { clientId: 'reauth', bootstrapBrokers: [bootstrap], timeout: 5000, retries: 0, sasl: { mechanism: 'SCRAM-SHA-512' as const, username: 'alice', password: USERS.alice } };
    const admin = new Admin(options);
    await admin.createTopics({ topics: ['reauth'], partitions: 1, replicas: 1 }).finally(() => admin.close());
    const producer = new Producer(options);
    try {
      const started = performance.now();
      let sent = 0;
      while (performance.now() - started < 3_500) {
        await producer.send({ messages: [{ topic: 'reauth', key: Buffer.from('k'), value: Buffer.from(`v${sent}`) }], acks: ProduceAcks.LEADER });
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      const connections = new Set(events.filter((event) => event.message === 'authenticated').map((event) => event.connectionId));
      const renewals = events.filter((event) => event.message === 're-authenticated');
      expect(renewals.length).toBeGreaterThanOrEqual(2);
      // Every renewal is on a connection that authenticated before, and none was closed for an expired session.
      for (const renewal of renewals) expect(connections.has(renewal.connectionId)).toBe(true);
      expect(sent).toBeGreaterThan(10);
    } finally {
      await producer.close();
      await server.close({ graceMs: 0 });
    }
  });

  it('failures from one address are answered one delay apart (connection.failed.authentication.delay.ms)', async () => {
    const clock = new FakeClock();
    const { server, port } = await secure.serve('SASL_PLAINTEXT', saslProperties('SASL_PLAINTEXT'), { connectionFailedAuthenticationDelayMs: 100 }, undefined, clock);
    try {
      const clients = await Promise.all([0, 1, 2].map(() => RawClient.connect(port)));
      for (const client of clients) await client.request(ApiKey.SaslHandshake, 1, { mechanism: 'PLAIN' });
      const answered: number[] = [];
      const answers = clients.map((client, index) => client.request(ApiKey.SaslAuthenticate, 1, { authBytes: plainClientMessage('alice', `guess-${index}`) }).then((answer) => {
        answered.push(index);
        return answer;
      }));
      // Each failure is held on the clock: nothing comes back until it moves.
      await waitFor(() => clock.pendingTimers === 3);
      expect(answered).toEqual([]);
      clock.advance(100);
      await waitFor(() => answered.length === 1);
      clock.advance(100);
      await waitFor(() => answered.length === 2);
      clock.advance(100);
      for (const answer of await Promise.all(answers)) expect(answer?.errorCode).toBe(ErrorCode.SASL_AUTHENTICATION_FAILED);
      for (const client of clients) await client.closedPromise;
    } finally {
      await server.close({ graceMs: 0 });
    }
  });
});

describe('kafkajs with ssl and sasl', () => {
  for (const mechanism of ['plain', 'scram-sha-256', 'scram-sha-512'] as const) {
    it(`SASL_SSL ${mechanism}: produces and reads back; a wrong password is a SASL authentication error`, async () => {
      const { server, bootstrap } = await secure.serve('SASL_SSL', { ...saslProperties('SASL_SSL'), ...tlsProperties() });
      const ssl = { ca: [readFileSync(certificates.caPem)], servername: 'localhost' } as tls.ConnectionOptions;
      const options = { clientId: 'secure', brokers: [bootstrap], ssl, logLevel: logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 1, initialRetryTime: 50 } };
      try {
        const kafka = new Kafka({ ...options, sasl: { mechanism, username: 'alice', password: USERS.alice } as SASLOptions });
        const admin = kafka.admin();
        await admin.connect();
        const topic = `kafkajs-${mechanism}`;
        await admin.createTopics({ topics: [{ topic, numPartitions: 1 }] });
        await admin.disconnect();
        const producer = kafka.producer();
        await producer.connect();
        await producer.send({ topic, messages: [{ key: 'k', value: 'v' }] });
        await producer.disconnect();
        const wrong = new Kafka({ ...options, sasl: { mechanism, username: 'alice', password: 'wrong' } as SASLOptions }).admin();
        await expect(wrong.connect()).rejects.toThrow(/SASL|Authentication/i);
      } finally {
        await server.close({ graceMs: 0 });
      }
    });
  }
});
