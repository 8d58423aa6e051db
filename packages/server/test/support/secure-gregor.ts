/**
 * A real Broker with a SCRAM credential store in its data dir, and a way to serve it on one
 * listener at a time with security settings made from Kafka's property names (so the tests go
 * through `listenerSecurityFromProperties` as `gregor serve` does).
 */
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Broker } from '@gregor/broker';
import { type Clock, nodeFileSystem, systemClock } from '@gregor/log';
import { listenerProtocol, listenerSecurityFromProperties, scramCredential, ScramCredentialStore } from '@gregor/security';
import { type Logger, type ServerConfig, Server, silentLogger } from '../../src/index.js';

export const USERS = { alice: 'alice-secret', admin: 'admin-secret' } as const;
export const PLAIN_JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="${USERS.admin}" user_alice="${USERS.alice}";`;

export interface SecureBroker {
  broker: Broker;
  dir: string;
  scram: ScramCredentialStore;
  /** Serves the broker on one listener named `name` with these properties; close the server yourself. */
  serve(name: string, properties: Record<string, string>, config?: Partial<ServerConfig>, logger?: Logger, clock?: Clock): Promise<{ server: Server; port: number; bootstrap: string }>;
  close(): Promise<void>;
}

export async function startSecureBroker(): Promise<SecureBroker> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gregor-secure-'));
  const broker = await Broker.open({ dir, fs: nodeFileSystem, clock: systemClock, random: Math.random, config: { groupInitialRebalanceDelayMs: 0 } });
  const scram = ScramCredentialStore.open({ fs: nodeFileSystem, dir });
  scram.apply({
    upserts: Object.entries(USERS).flatMap(([username, password]) => [
      { username, credential: scramCredential('SCRAM-SHA-256', password) },
      { username, credential: scramCredential('SCRAM-SHA-512', password, { iterations: 8192 }) },
    ]),
    deletions: [],
  });
  const servers = new Set<Server>();
  return {
    broker,
    dir,
    scram,
    async serve(name, properties, config = {}, logger, clock) {
      const map = new Map(Object.entries(properties));
      const protocol = listenerProtocol(name, Object.fromEntries((map.get('listener.security.protocol.map') ?? '').split(',').filter((e) => e).map((e) => e.split(':'))));
      const security = listenerSecurityFromProperties(map, name, protocol, { readFile: (file) => readFileSync(file), scramCredentials: scram });
      const server = new Server({ broker, config: { connectionFailedAuthenticationDelayMs: 0, ...config }, logger: logger ?? (process.env.GREGOR_TEST_LOG ? undefined : silentLogger), clock });
      servers.add(server);
      const { port } = await server.listen({ host: '127.0.0.1', port: 0, name, security });
      return { server, port, bootstrap: `127.0.0.1:${port}` };
    },
    async close() {
      await Promise.all([...servers].map((server) => server.close({ graceMs: 0 })));
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
