/**
 * A node of a cluster from Kafka's server.properties: which files describe one, what each
 * setting becomes, the flags over the file, and the settings that do not fit refused naming the key.
 */
import fs from 'node:fs';
import { brokerConfigFromProperties, parseProperties } from '@gregor/broker';
import { describe, expect, it } from 'vitest';
import { CliError } from '../../src/cli/args.js';
import { serveSettings } from '../../src/cli/serve-settings.js';
import { clusterNodeSettings, isClusterNode } from '../../src/node/node-properties.js';

/** The high-availability example of a 3-node cluster (seed 002), on loopback ports: node 2's file. */
const NODE_2 = `process.roles=broker,controller
node.id=2
controller.quorum.voters=1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097
listeners=PLAINTEXT://127.0.0.1:19094,CONTROLLER://127.0.0.1:19095
advertised.listeners=PLAINTEXT://localhost:19094
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=/var/lib/gregor/node-2
num.network.threads=3
default.replication.factor=3
min.insync.replicas=2
offsets.topic.replication.factor=3
unclean.leader.election.enable=false
auto.create.topics.enable=false
broker.session.timeout.ms=6000
controller.quorum.election.timeout.ms=800
metadata.log.max.record.bytes.between.snapshots=1048576
log.retention.hours=168
log.segment.bytes=1073741824`;

const properties = (text: string) => new Map(text.trim().split('\n').map((line) => line.split('=', 2) as [string, string]));

function nodeOf(text: string, flags = {}) {
  const parsed = brokerConfigFromProperties(properties(text));
  return clusterNodeSettings(parsed.cluster, parsed.config.staticBrokerConfigs ?? {}, flags);
}

describe('a cluster node from server.properties', () => {
  it('reads roles, id, voters, listeners and the quorum and controller settings under their Kafka names', () => {
    const node = nodeOf(NODE_2);
    expect(node.nodeId).toBe(2);
    expect(node.processRoles).toEqual(['broker', 'controller']);
    expect(node.voters).toEqual([
      { nodeId: 1, host: '127.0.0.1', port: 19093 },
      { nodeId: 2, host: '127.0.0.1', port: 19095 },
      { nodeId: 3, host: '127.0.0.1', port: 19097 },
    ]);
    expect(node.listeners).toEqual([
      { name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 19094, advertisedHost: 'localhost', advertisedPort: 19094 },
      { name: 'CONTROLLER', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 19095 },
    ]);
    expect(node.controllerListenerNames).toEqual(['CONTROLLER']);
    expect(node.interBrokerListenerName).toBe('PLAINTEXT');
    expect(node.quorum).toEqual({ controllerQuorumElectionTimeoutMs: 800, metadataLogMaxRecordBytesBetweenSnapshots: 1048576 });
    expect(node.controller).toEqual({ brokerSessionTimeoutMs: 6000, defaultReplicationFactor: 3, uncleanLeaderElectionEnable: false, minInsyncReplicas: 2 });
  });

  it('is what gregor serve runs for such a file, the node settings not reported as ignored, the broker settings kept', () => {
    const settings = serveSettings(properties(NODE_2), [{ name: 'min.insync.replicas', value: '1' }], { dir: '/elsewhere' });
    expect(settings.node?.nodeId).toBe(2);
    expect(settings.dir).toBe('/elsewhere');
    expect(settings.broker).toMatchObject({ nodeId: 2, minInsyncReplicas: 1, defaultReplicationFactor: 3, autoCreateTopicsEnable: false, logRetentionMs: 168 * 3_600_000 });
    expect(settings.ignored).toEqual(['num.network.threads']);
  });

  it('tells a node of a cluster from the single node gregor serve always ran', () => {
    const cluster = (text: string) => brokerConfigFromProperties(properties(text)).cluster;
    expect(isClusterNode(cluster(NODE_2))).toBe(true);
    expect(isClusterNode(cluster('process.roles=controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:9093'))).toBe(true);
    expect(isClusterNode(cluster('process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@localhost:9093'))).toBe(false);
    expect(isClusterNode(cluster('num.partitions=3'))).toBe(false);
    expect(serveSettings(properties('process.roles=broker,controller\nnode.id=1\ncontroller.quorum.voters=1@localhost:9093'), [], {}).node).toBeUndefined();
  });

  it('applies --host, --port and --advertised-host to the first client listener', () => {
    const node = nodeOf(NODE_2, { host: '0.0.0.0', port: 0, advertisedHost: 'broker-2.example' });
    expect(node.listeners[0]).toEqual({ name: 'PLAINTEXT', securityProtocol: 'PLAINTEXT', host: '0.0.0.0', port: 0, advertisedHost: 'broker-2.example' });
    expect(node.listeners[1]).toEqual({ name: 'CONTROLLER', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 19095 });
  });

  it("binds a controller's CONTROLLER listener given port 0 on its own voter port", () => {
    const node = nodeOf('process.roles=controller\nnode.id=1\ncontroller.quorum.voters=1@127.0.0.1:19093,2@127.0.0.1:19095,3@127.0.0.1:19097\nlisteners=CONTROLLER://127.0.0.1:0');
    expect(node.listeners).toEqual([{ name: 'CONTROLLER', securityProtocol: 'PLAINTEXT', host: '127.0.0.1', port: 19093 }]);
  });

  it('refuses what does not describe a node that can run, naming the setting', () => {
    const refused = (text: string) => {
      try {
        serveSettings(properties(text), [], {});
      } catch (error) {
        expect(error).toBeInstanceOf(CliError);
        return (error as Error).message;
      }
      throw new Error(`accepted ${text}`);
    };
    expect(refused('node.id=1\ncontroller.quorum.voters=1@a:9093,2@b:9093,3@c:9093')).toMatch(/^process\.roles: must be set/);
    expect(refused('process.roles=broker\ncontroller.quorum.voters=1@a:9093')).toMatch(/^node\.id: must be set/);
    expect(refused('process.roles=broker\nnode.id=2')).toMatch(/^controller\.quorum\.voters: must list/);
    expect(refused('process.roles=broker\nnode.id=4\ncontroller.quorum.bootstrap.servers=a:9093,b:9093')).toContain('dynamic quorum');
    expect(refused('process.roles=broker\nnode.id=4\ncontroller.quorum.voters=1@a:9093\nlisteners=CONTROLLER://:9093')).toMatch(/^listeners: a broker needs a client listener/);
    expect(refused('process.roles=broker\nnode.id=4\ncontroller.quorum.voters=1@a:9093\nlisteners=CLIENT://:9094\nlistener.security.protocol.map=CLIENT:TLS')).toContain('maps to TLS');
  });

  it('gives each listener its security protocol and picks the inter-broker listener by security.inter.broker.protocol', () => {
    const { node } = serveSettings(properties([
      'process.roles=broker,controller', 'node.id=1', 'controller.quorum.voters=1@127.0.0.1:9093,2@127.0.0.1:9193',
      'listeners=CLIENT://:9092,SASL_PLAINTEXT://:9094,CONTROLLER://:9093', 'listener.security.protocol.map=CLIENT:SASL_SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,CONTROLLER:PLAINTEXT',
      'security.inter.broker.protocol=SASL_PLAINTEXT', 'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer', 'super.users=User:admin;User:broker',
    ].join('\n')), [], {});
    expect(node?.listeners.map((listener) => [listener.name, listener.securityProtocol])).toEqual([['CLIENT', 'SASL_SSL'], ['SASL_PLAINTEXT', 'SASL_PLAINTEXT'], ['CONTROLLER', 'PLAINTEXT']]);
    expect(node?.interBrokerListenerName).toBe('SASL_PLAINTEXT');
  });

  it('runs the secured cluster properties of docs/cluster.md and docs/security.md as written', () => {
    for (const file of ['docs/cluster.md', 'docs/security.md']) {
      const text = fs.readFileSync(new URL(`../../../../${file}`, import.meta.url), 'utf8');
      const blocks = [...text.matchAll(/```properties\n([\s\S]*?)```/g)].map((match) => match[1]).filter((block) => block.includes('authorizer.class.name') && block.includes('process.roles'));
      expect(blocks, file).toHaveLength(1);
      const settings = serveSettings(parseProperties(blocks[0]), [], {});
      expect(settings.ignored, file).toEqual([]);
      expect(settings.authorizer?.superUsers, file).toEqual(['User:admin', 'User:broker']);
      expect(settings.node?.listeners.map((listener) => listener.securityProtocol), file).toEqual([expect.stringMatching(/^SASL_/), 'SASL_PLAINTEXT', 'SASL_PLAINTEXT']);
      expect(settings.node?.interBrokerListenerName, file).toBe('INTERNAL');
    }
  });
});
