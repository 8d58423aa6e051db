/**
 * `gregor serve --config server.properties --override key=value`: Kafka's names and format, flags
 * over overrides over the file, Kafka's own KRaft server.properties accepted with its irrelevant
 * settings reported once, unknown names and incomplete cluster-node setups refused in one line
 * (node-properties.test.ts covers the settings of a node of a cluster).
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../src/cli/args.js';
import { serveSettings } from '../src/cli/serve-settings.js';
import { ensureBuilt, expectOneLineFailure, gregor, type ServeProcess, startServe, temporaryDir } from './support/cli.js';

// Each test runs whole processes (a CLI command, a server); on a loaded machine they take long.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

/** config/kraft/server.properties as Kafka ships it (comments dropped). */
const KAFKA_SERVER_PROPERTIES = `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@localhost:9093
listeners=PLAINTEXT://:9092,CONTROLLER://:9093
inter.broker.listener.name=PLAINTEXT
advertised.listeners=PLAINTEXT://localhost:9092,CONTROLLER://localhost:9093
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL
num.network.threads=3
num.io.threads=8
socket.send.buffer.bytes=102400
socket.receive.buffer.bytes=102400
socket.request.max.bytes=104857600
log.dirs=/tmp/kraft-combined-logs
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

const properties = (text: string) => new Map(text.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));

describe('serveSettings', () => {
  it("reads Kafka's KRaft server.properties: its listener, directory and node id, the rest reported as ignored", () => {
    const settings = serveSettings(properties(KAFKA_SERVER_PROPERTIES), [], {});
    expect(settings.dir).toBe('/tmp/kraft-combined-logs');
    expect(settings.host).toBe('0.0.0.0');
    expect(settings.port).toBe(9092);
    expect(settings.server).toEqual({ socketRequestMaxBytes: 104857600, advertisedHost: 'localhost', advertisedPort: 9092 });
    expect(settings.broker).toMatchObject({ nodeId: 1, numPartitions: 1, logRetentionMs: 168 * 3_600_000, logSegmentBytes: 1073741824 });
    expect(settings.ignored).toEqual(expect.arrayContaining(['num.network.threads', 'num.io.threads', 'socket.send.buffer.bytes', 'transaction.state.log.min.isr']));
    expect(settings.ignored).not.toContain('socket.request.max.bytes');
    expect(settings.ignored).not.toContain('log.dirs');
  });

  it('layers the flags over --override over the file', () => {
    const file = properties('num.partitions=2\ngroup.initial.rebalance.delay.ms=3000\nlisteners=PLAINTEXT://127.0.0.1:9999');
    const settings = serveSettings(file, [{ name: 'num.partitions', value: '4' }, { name: 'group.initial.rebalance.delay.ms', value: '0' }], { numPartitions: 6, port: 0, dir: '/x' });
    expect(settings.broker).toMatchObject({ numPartitions: 6, groupInitialRebalanceDelayMs: 0 });
    expect(settings.port).toBe(0);
    expect(settings.host).toBe('127.0.0.1');
    expect(settings.dir).toBe('/x');
  });

  it('serves every client listener with its security protocol, and does not report TLS and SASL settings as ignored', () => {
    const settings = serveSettings(properties([
      'listeners=PLAINTEXT://127.0.0.1:9092,CLIENT://:9094,SASL_SSL://localhost:9095',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CLIENT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL',
      'advertised.listeners=PLAINTEXT://127.0.0.1:9092,CLIENT://broker.example:19094,SASL_SSL://localhost:9095',
      'ssl.keystore.location=/etc/kafka/broker.pem',
      'listener.name.client.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_a="b";',
      'sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-256',
      'connection.failed.authentication.delay.ms=250',
    ].join('\n')), [], {});
    expect(settings.listeners).toEqual([
      { name: 'PLAINTEXT', host: '127.0.0.1', port: 9092, securityProtocol: 'PLAINTEXT' },
      { name: 'CLIENT', host: '0.0.0.0', port: 9094, securityProtocol: 'SASL_PLAINTEXT', advertisedHost: 'broker.example', advertisedPort: 19094 },
      { name: 'SASL_SSL', host: 'localhost', port: 9095, securityProtocol: 'SASL_SSL', advertisedHost: 'localhost', advertisedPort: 9095 },
    ]);
    expect(settings.server.connectionFailedAuthenticationDelayMs).toBe(250);
    expect(settings.ignored).toEqual([]);
    expect(settings.properties.get('ssl.keystore.location')).toBe('/etc/kafka/broker.pem');
  });

  it('refuses unknown names, bad values and incomplete setups of a cluster node, in words', () => {
    const refused = (file: string, overrides: { name: string; value: string }[] = []) => {
      try {
        serveSettings(properties(file), overrides, {});
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${file}`);
    };
    expect(refused('num.partition=3')).toContain("'num.partition'");
    expect(refused('log.retention.hours=1', [{ name: 'log.retention.hourz', value: '2' }])).toContain("'log.retention.hourz'");
    expect(refused('num.partitions=zero')).toContain('num.partitions');
    expect(refused('node.id=1\ncontroller.quorum.voters=1@a:9093,2@b:9093,3@c:9093')).toContain('process.roles: must be set');
    expect(refused('process.roles=broker\nnode.id=2')).toContain('controller.quorum.voters: must list');
    expect(refused('log.dirs=/a,/b')).toContain('one data directory');
    expect(refused('listeners=CLIENT://:9093\nlistener.security.protocol.map=CLIENT:TLS')).toContain('not one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL');
    // A node of a cluster takes the authorizer too (its ACLs live in the metadata log).
    const clusterNode = serveSettings(properties('process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9193\ncontroller.listener.names=CONTROLLER\nlisteners=PLAINTEXT://:9092,CONTROLLER://:9093\nauthorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\nsuper.users=User:admin'), [], {});
    expect(clusterNode.authorizer).toEqual({ superUsers: ['User:admin'], allowEveryoneIfNoAclFound: false });
  });
});

describe('gregor serve --config', () => {
  let dir: string;
  let server: ServeProcess | undefined;
  beforeAll(() => {
    ensureBuilt();
    dir = temporaryDir('serve-config');
  });
  afterAll(() => {
    server?.kill();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it("serves with Kafka's server.properties, reporting the ignored settings once, and the flags win", async () => {
    const file = path.join(dir, 'server.properties');
    fs.writeFileSync(file, KAFKA_SERVER_PROPERTIES.replace('/tmp/kraft-combined-logs', path.join(dir, 'from-file')).replace('num.partitions=1', 'num.partitions=3'));
    server = await startServe(['--config', file, '--override', 'group.initial.rebalance.delay.ms=0', '--host', '127.0.0.1', '--port', '0', '--dir', path.join(dir, 'data')]);
    const ignoredLines = server.printed().split('\n').filter((line) => line.includes('ignoring settings'));
    expect(ignoredLines).toHaveLength(1);
    expect(ignoredLines[0]).toContain('num.network.threads');
    expect(server.printed()).toContain('(node 1,');
    // num.partitions=3 from the file: a topic created by producing to it has three partitions.
    expect(gregor(['produce', '--topic', 'auto', '--bootstrap-server', server.address], { input: 'x\n' }).status).toBe(0);
    expect(gregor(['metadata', '--topic', 'auto', '--bootstrap-server', server.address]).stdout).toContain('topic "auto" with 3 partitions');
    expect(fs.existsSync(path.join(dir, 'data', 'meta.properties'))).toBe(true);
    expect(fs.existsSync(path.join(dir, 'from-file'))).toBe(false);
    expect(await server.stop()).toBe(0);
  });

  it('refuses a missing file, an unknown setting and an incomplete cluster node in one line', () => {
    expectOneLineFailure(gregor(['serve', '--config', path.join(dir, 'missing.properties')]), 'no such file');
    expectOneLineFailure(gregor(['serve', '--dir', path.join(dir, 'never'), '--override', 'num.partition=3']), "unknown broker config 'num.partition'");
    expectOneLineFailure(gregor(['serve', '--dir', path.join(dir, 'never'), '--override', 'controller.quorum.voters=0@a:9093,1@b:9093']), 'process.roles: must be set');
    expect(fs.existsSync(path.join(dir, 'never'))).toBe(false);
  });
});
