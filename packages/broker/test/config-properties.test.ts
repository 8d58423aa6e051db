import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { brokerConfigFromProperties, BrokerConfigError, parseProperties, singleNodeProblem } from '../src/index.js';

/** The properties Kafka ships as config/kraft/server.properties (comments dropped). */
const KAFKA_KRAFT_SERVER_PROPERTIES = `
# The role of this server. Setting this puts us in KRaft mode
process.roles=broker,controller
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
num.partitions=1
num.recovery.threads.per.data.dir=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
log.retention.hours=168
log.segment.bytes=1073741824
log.retention.check.interval.ms=300000
`;

/** Writes a map the way java.util.Properties.store escapes it, for the round-trip property. */
function storeProperties(map: Map<string, string>): string {
  const escapeText = (text: string, isKey: boolean) =>
    text.replace(/[\\=:#! \t\n\r\f]/g, (char, at: number) => {
      if (char === ' ' && !isKey && at > 0) return ' ';
      return { '\t': '\\t', '\n': '\\n', '\r': '\\r', '\f': '\\f' }[char] ?? `\\${char}`;
    });
  return [...map].map(([key, value]) => `${escapeText(key, true)}=${escapeText(value, false)}`).join('\n');
}

describe('parseProperties (Java .properties)', () => {
  it('reads keys and values separated by =, : or whitespace, skipping comments and joining continued lines', () => {
    const parsed = parseProperties('# comment\n! also a comment\n a = 1\nb:2\nc 3\nlong=one,\\\n    two\nempty=\nd=x=y\n');
    expect(parsed).toEqual(new Map([['a', '1'], ['b', '2'], ['c', '3'], ['long', 'one,two'], ['empty', ''], ['d', 'x=y']]));
  });

  it('decodes escapes, and a later key replaces an earlier one', () => {
    expect(parseProperties('k\\ ey=tab\\there\\u0041\nk\\ ey=again\ntrail=ends\\\\\n')).toEqual(new Map([['k ey', 'again'], ['trail', 'ends\\']]));
    expect(parseProperties('u=\\u00e9\\n')).toEqual(new Map([['u', 'é\n']]));
  });

  it('reads back whatever map java.util.Properties would store', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'b', '=', ':', ' ', '\\', '#', '!', '\t', '\n', 'é', '.') });
    fc.assert(
      fc.property(fc.uniqueArray(fc.tuple(text.filter((key) => key !== ''), text), { selector: ([key]) => key, maxLength: 6 }), (pairs) => {
        const map = new Map(pairs);
        expect(parseProperties(storeProperties(map))).toEqual(map);
      }),
    );
  });
});

describe('brokerConfigFromProperties', () => {
  it("loads Kafka's own KRaft server.properties: acted-on settings applied, the rest reported as ignored, cluster settings kept", () => {
    const { config, ignored, cluster } = brokerConfigFromProperties(parseProperties(KAFKA_KRAFT_SERVER_PROPERTIES));
    const { staticBrokerConfigs, ...fields } = config;
    expect(fields).toEqual({ nodeId: 1, numPartitions: 1, logRetentionMs: 168 * 3_600_000, logSegmentBytes: 1073741824, offsetsTopicReplicationFactor: 1, logRetentionCheckIntervalMs: 300_000 });
    // Every key is kept as its Kafka string, for DescribeConfigs (STATIC_BROKER_CONFIG).
    expect(staticBrokerConfigs).toMatchObject({ 'num.network.threads': '3', 'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL', 'log.retention.hours': '168' });
    expect(Object.keys(staticBrokerConfigs ?? {})).toHaveLength(20);
    expect(ignored).toEqual([
      'num.network.threads', 'num.io.threads', 'socket.send.buffer.bytes', 'socket.receive.buffer.bytes', 'num.recovery.threads.per.data.dir',
      'transaction.state.log.replication.factor', 'transaction.state.log.min.isr',
    ]);
    expect(cluster.processRoles).toEqual(['broker', 'controller']);
    expect(cluster.nodeId).toBe(1);
    expect(cluster.controllerQuorumVoters).toEqual([{ nodeId: 1, host: 'localhost', port: 9093 }]);
    expect(cluster.listeners).toEqual([{ name: 'PLAINTEXT', host: '', port: 9092 }, { name: 'CONTROLLER', host: '', port: 9093 }]);
    expect(cluster.advertisedListeners[0]).toEqual({ name: 'PLAINTEXT', host: 'localhost', port: 9092 });
    expect(cluster.controllerListenerNames).toEqual(['CONTROLLER']);
    expect(cluster.interBrokerListenerName).toBe('PLAINTEXT');
    expect(cluster.listenerSecurityProtocolMap.SASL_SSL).toBe('SASL_SSL');
    expect(singleNodeProblem(cluster)).toBeNull();
  });

  it('takes log.retention.ms over .minutes over .hours whatever their order, and converts units', () => {
    expect(brokerConfigFromProperties({ 'log.retention.ms': '5', 'log.retention.hours': '1' }).config.logRetentionMs).toBe(5);
    expect(brokerConfigFromProperties({ 'log.retention.hours': '1', 'log.retention.minutes': '2' }).config.logRetentionMs).toBe(120_000);
    expect(brokerConfigFromProperties({ 'log.retention.hours': '-1' }).config.logRetentionMs).toBe(-1);
    expect(brokerConfigFromProperties({ 'offsets.retention.minutes': '3' }).config.offsetsRetentionMs).toBe(180_000);
    expect(brokerConfigFromProperties({ 'group.initial.rebalance.delay.ms': '0', 'auto.create.topics.enable': 'false', 'log.cleanup.policy': 'compact, delete' }).config).toEqual({
      groupInitialRebalanceDelayMs: 0,
      autoCreateTopicsEnable: false,
      logCleanupPolicy: 'compact,delete',
      staticBrokerConfigs: { 'group.initial.rebalance.delay.ms': '0', 'auto.create.topics.enable': 'false', 'log.cleanup.policy': 'compact,delete' },
    });
  });

  it('refuses a key Kafka does not define, naming it, and points a topic config to its broker name', () => {
    const unknown = () => brokerConfigFromProperties({ 'num.partition': '3' });
    expect(unknown).toThrow(BrokerConfigError);
    expect(unknown).toThrow("unknown broker config 'num.partition'");
    try {
      brokerConfigFromProperties({ 'retention.ms': '1000' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(BrokerConfigError);
      expect((error as BrokerConfigError).key).toBe('retention.ms');
      expect((error as BrokerConfigError).code).toBe('UNKNOWN_CONFIG');
      expect((error as BrokerConfigError).message).toContain('log.retention.ms');
    }
  });

  it('refuses values that do not parse or are out of range, naming the key', () => {
    for (const [key, value] of [['num.partitions', '0'], ['num.partitions', 'three'], ['auto.create.topics.enable', 'yes'], ['log.segment.bytes', '4294967296'], ['log.message.timestamp.type', 'Now'], ['log.cleanup.policy', 'delete,forever'], ['listeners', 'localhost:9092'], ['controller.quorum.voters', 'localhost:9093'], ['process.roles', 'leader']] as const) {
      expect(() => brokerConfigFromProperties({ [key]: value }), `${key}=${value}`).toThrow(expect.objectContaining({ code: 'INVALID_CONFIG', key }));
    }
  });

  it('says why a setup with several nodes cannot run yet', () => {
    const cluster = (properties: Record<string, string>) => brokerConfigFromProperties(properties).cluster;
    expect(singleNodeProblem(cluster({ 'node.id': '1', 'controller.quorum.voters': '1@a:9093,2@b:9093,3@c:9093' }))).toContain('3 voters');
    expect(singleNodeProblem(cluster({ 'process.roles': 'broker', 'node.id': '2' }))).toContain('process.roles=broker');
    expect(singleNodeProblem(cluster({ 'node.id': '2', 'controller.quorum.voters': '1@a:9093' }))).toContain('names node 1, but this is node 2');
    expect(singleNodeProblem(cluster({}))).toBeNull();
  });
});
