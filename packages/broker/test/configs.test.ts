import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { type Body, Broker, brokerConfigFromProperties, brokerConfigTable, javaDoubleToString, normalizeConfigValue, topicConfigTable } from '@gregor/broker';
import { batch, createTopic, fetchPartition, openTestBroker, produce, type TestBroker } from './helpers.js';

let test: TestBroker;
afterEach(async () => {
  await test.broker.close();
});

const TOPIC = 2;
const BROKER = 4;
const Source = { topic: 1, dynamicBroker: 2, dynamicDefault: 3, static: 4, default: 5 };

async function describe_(resourceType: number, resourceName: string, keys: string[] | null, options: { synonyms?: boolean; documentation?: boolean; version?: number } = {}): Promise<Body> {
  const response = (await test.broker.handle(ApiKey.DescribeConfigs, options.version ?? 4, {
    resources: [{ resourceType, resourceName, configurationKeys: keys }], includeSynonyms: options.synonyms ?? false, includeDocumentation: options.documentation ?? false,
  })) as Body;
  return response.results[0];
}

async function topicValues(name: string, keys: string[]): Promise<Record<string, string | null>> {
  const result = await describe_(TOPIC, name, keys);
  return Object.fromEntries(result.configs.map((config: Body) => [config.name, config.value]));
}

async function alter(resourceType: number, resourceName: string, configs: Record<string, string | null>, validateOnly = false): Promise<Body> {
  const response = (await test.broker.handle(ApiKey.AlterConfigs, 2, {
    resources: [{ resourceType, resourceName, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }], validateOnly,
  })) as Body;
  return response.responses[0];
}

async function alterIncrementally(resourceType: number, resourceName: string, configs: [string, number, string | null][]): Promise<Body> {
  const response = (await test.broker.handle(ApiKey.IncrementalAlterConfigs, 1, {
    resources: [{ resourceType, resourceName, configs: configs.map(([name, configOperation, value]) => ({ name, configOperation, value })) }], validateOnly: false,
  })) as Body;
  return response.responses[0];
}

describe('topic configs at creation', () => {
  it('accepts every topic config Kafka defines and stores Kafka\'s strings', async () => {
    test = await openTestBroker();
    const result = await createTopic(test.broker, 'all', 1, [
      { name: 'message.timestamp.difference.max.ms', value: ' 60000 ' },
      { name: 'cleanup.policy', value: 'compact , delete' },
      { name: 'min.cleanable.dirty.ratio', value: '1' },
      { name: 'preallocate', value: 'TRUE' },
      { name: 'retention.ms', value: '+007' },
      { name: 'message.format.version', value: '2.8' },
    ]);
    expect(result.errorCode).toBe(ErrorCode.NONE);
    expect(await topicValues('all', ['message.timestamp.difference.max.ms', 'cleanup.policy', 'min.cleanable.dirty.ratio', 'preallocate', 'retention.ms'])).toEqual({
      'message.timestamp.difference.max.ms': '60000', 'cleanup.policy': 'compact,delete', 'min.cleanable.dirty.ratio': '1.0', preallocate: 'true', 'retention.ms': '7',
    });
  });

  it('refuses what Kafka refuses, with INVALID_CONFIG and Kafka\'s message', async () => {
    test = await openTestBroker();
    const refused = async (configs: { name: string; value: string | null }[]) => {
      const result = await createTopic(test.broker, 'bad', 1, configs as { name: string; value: string }[]);
      expect(result.errorCode).toBe(ErrorCode.INVALID_CONFIG);
      return result.errorMessage as string;
    };
    expect(await refused([{ name: 'retention.mss', value: '1' }])).toBe('Unknown topic config name: retention.mss');
    expect(await refused([{ name: 'segment.bytes', value: '13' }])).toBe('Invalid value 13 for configuration segment.bytes: Value must be at least 14');
    expect(await refused([{ name: 'segment.bytes', value: '2147483648' }])).toBe('Invalid value 2147483648 for configuration segment.bytes: Not a number of type INT');
    expect(await refused([{ name: 'min.cleanable.dirty.ratio', value: '1.5' }])).toBe('Invalid value 1.5 for configuration min.cleanable.dirty.ratio: Value must be no more than 1');
    expect(await refused([{ name: 'compression.type', value: 'brotli' }])).toBe('Invalid value brotli for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer');
    expect(await refused([{ name: 'compression.gzip.level', value: '0' }])).toBe('Invalid value 0 for configuration compression.gzip.level: Value must be between 1 and 9 or equal to -1');
    expect(await refused([{ name: 'min.compaction.lag.ms', value: '10' }, { name: 'max.compaction.lag.ms', value: '5' }])).toBe('conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)');
    expect(await refused([{ name: 'remote.storage.enable', value: 'true' }])).toContain('Tiered Storage functionality is disabled');
    expect(await refused([{ name: 'retention.ms', value: null }])).toBe('Null value not supported for topic configs: retention.ms');
    expect(test.broker.image.topic('bad')).toBeUndefined();
  });
});

describe('DescribeConfigs of a topic', () => {
  it('answers every topic config for null or empty keys, and the keys asked for in their order', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    for (const keys of [null, []]) {
      const all = await describe_(TOPIC, 't', keys);
      expect(all.configs.map((config: Body) => config.name)).toEqual(topicConfigTable.map((definition) => definition.name));
    }
    const some = await describe_(TOPIC, 't', ['segment.ms', 'cleanup.policy', 'nope', 'flush.ms', 'segment.ms']);
    expect(some.configs.map((config: Body) => [config.name, config.value])).toEqual([
      ['segment.ms', '604800000'], ['cleanup.policy', 'delete'], ['flush.ms', '9223372036854775807'],
    ]);
  });

  it('reports sources and only the synonyms Kafka reports', async () => {
    test = await openTestBroker({ ...brokerConfigFromProperties({ 'log.retention.hours': '1', 'log.segment.bytes': '1048576' }).config });
    await createTopic(test.broker, 't', 1, [{ name: 'cleanup.policy', value: 'compact' }]);
    const configs = (await describe_(TOPIC, 't', ['retention.ms', 'segment.bytes', 'cleanup.policy', 'flush.ms', 'flush.messages'], { synonyms: true })).configs;
    const byName = Object.fromEntries(configs.map((config: Body) => [config.name, config]));
    // retention.ms: its first synonym log.retention.ms is not set, so Kafka lists none (the hours still count).
    expect(byName['retention.ms']).toMatchObject({ value: '3600000', configSource: Source.default, synonyms: [] });
    expect(byName['segment.bytes']).toMatchObject({
      value: '1048576', configSource: Source.static,
      synonyms: [{ name: 'log.segment.bytes', value: '1048576', source: Source.static }, { name: 'log.segment.bytes', value: '1073741824', source: Source.default }],
    });
    expect(byName['cleanup.policy']).toMatchObject({
      value: 'compact', configSource: Source.topic,
      synonyms: [{ name: 'cleanup.policy', value: 'compact', source: Source.topic }, { name: 'log.cleanup.policy', value: 'delete', source: Source.default }],
    });
    expect(byName['flush.ms']).toMatchObject({ value: '9223372036854775807', synonyms: [] });
    expect(byName['flush.messages'].synonyms).toEqual([{ name: 'log.flush.interval.messages', value: '9223372036854775807', source: Source.default }]);
  });

  it('fills the documentation and config type when asked, saying which configs Gregor does not act on', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const configs = (await describe_(TOPIC, 't', ['compression.type', 'retention.ms', 'min.cleanable.dirty.ratio'], { documentation: true })).configs;
    expect(configs[0].documentation).toContain('does not act on it');
    expect(configs[1].documentation).not.toContain('does not act on it');
    expect(configs.map((config: Body) => config.configType)).toEqual([2, 5, 6]);
    expect((await describe_(TOPIC, 't', ['retention.ms'])).configs[0].documentation).toBeNull();
  });

  it('answers UNKNOWN_TOPIC_OR_PARTITION and INVALID_TOPIC_EXCEPTION per resource', async () => {
    test = await openTestBroker();
    expect((await describe_(TOPIC, 'missing', null)).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect((await describe_(TOPIC, 'bad name', null)).errorCode).toBe(ErrorCode.INVALID_TOPIC_EXCEPTION);
  });
});

describe('DescribeConfigs of the broker', () => {
  it('lists every Kafka broker config with Kafka\'s defaults, static settings and read-only flags', async () => {
    test = await openTestBroker(brokerConfigFromProperties({ 'num.network.threads': '5', 'log.flush.interval.messages': '9223372036854775807', 'ssl.keystore.password': 'secret' }).config);
    const result = await describe_(BROKER, '0', null, { synonyms: true });
    const byName = Object.fromEntries(result.configs.map((config: Body) => [config.name, config]));
    const publicNames = brokerConfigTable.filter((definition) => definition.internal !== true && definition.dynamicOnly !== true).map((definition) => definition.name);
    expect(Object.keys(byName)).toEqual(expect.arrayContaining(publicNames));
    expect(byName['num.network.threads']).toMatchObject({ value: '5', configSource: Source.static, readOnly: false, configType: 3 });
    expect(byName['log.dirs']).toMatchObject({ value: null, configSource: Source.default, readOnly: true });
    expect(byName['log.flush.interval.messages'].value).toBe('9223372036854775807');
    expect(byName['log.cleaner.io.max.bytes.per.second'].value).toBe('1.7976931348623157E308');
    expect(byName['ssl.keystore.password']).toMatchObject({ value: null, isSensitive: true, synonyms: [{ name: 'ssl.keystore.password', value: null, source: Source.static }] });
    expect(byName['node.id']).toMatchObject({ value: '0' });
    expect(byName['group.initial.rebalance.delay.ms']).toMatchObject({ value: '0', configSource: Source.static });
  });

  it('refuses another broker\'s id or a name that is not an id', async () => {
    test = await openTestBroker();
    expect(await describe_(BROKER, '7', null)).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 0 or empty string, but received 7' });
    expect((await describe_(BROKER, 'zero', null)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await describe_(99, 'x', null)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });
});

describe('AlterConfigs and IncrementalAlterConfigs of a topic', () => {
  it('replaces the topic\'s own configs, keeps them across a reopen and applies them to the logs', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 2, [{ name: 'retention.ms', value: '1000' }, { name: 'cleanup.policy', value: 'compact' }]);
    expect(await alter(TOPIC, 't', { 'segment.ms': '3600000' })).toMatchObject({ errorCode: ErrorCode.NONE, resourceType: TOPIC, resourceName: 't' });
    expect(Object.fromEntries(test.broker.image.topicConfigs('t'))).toEqual({ 'segment.ms': '3600000' });
    expect(test.broker.partition('t', 1)?.log.config).toMatchObject({ segmentMs: 3_600_000, retentionMs: 604_800_000, cleanupPolicy: 'delete' });
    await test.reopen();
    expect(await topicValues('t', ['segment.ms', 'retention.ms'])).toEqual({ 'segment.ms': '3600000', 'retention.ms': '604800000' });
  });

  it('checks without changing when validateOnly, and answers Kafka\'s errors', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    expect((await alter(TOPIC, 't', { 'retention.ms': '5' }, true)).errorCode).toBe(ErrorCode.NONE);
    expect(Object.fromEntries(test.broker.image.topicConfigs('t'))).toEqual({});
    expect(await alter(TOPIC, 't', { 'retention.ms': 'soon' })).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: 'Invalid value soon for configuration retention.ms: Not a number of type LONG' });
    expect((await alter(TOPIC, 'missing', { 'retention.ms': '5' })).errorCode).toBe(ErrorCode.UNKNOWN_TOPIC_OR_PARTITION);
    expect(await alter(TOPIC, 't', { 'retention.ms': null })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Null value not supported for : retention.ms' });
    const twice = (await test.broker.handle(ApiKey.AlterConfigs, 1, {
      resources: [{ resourceType: TOPIC, resourceName: 't', configs: [] }, { resourceType: TOPIC, resourceName: 't', configs: [] }], validateOnly: false,
    })) as Body;
    expect(twice.responses.map((response: Body) => response.errorCode)).toEqual([ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
  });

  it('sets, deletes, appends to and subtracts from single configs', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'retention.ms', value: '1000' }]);
    expect((await alterIncrementally(TOPIC, 't', [['segment.ms', 0, '60000'], ['retention.ms', 1, null], ['cleanup.policy', 2, 'compact']])).errorCode).toBe(ErrorCode.NONE);
    expect(Object.fromEntries(test.broker.image.topicConfigs('t'))).toEqual({ 'segment.ms': '60000', 'cleanup.policy': 'delete,compact' });
    expect((await alterIncrementally(TOPIC, 't', [['cleanup.policy', 3, 'delete']])).errorCode).toBe(ErrorCode.NONE);
    expect(test.broker.image.topicConfigs('t').get('cleanup.policy')).toBe('compact');
    expect(await alterIncrementally(TOPIC, 't', [['retention.ms', 2, '5']])).toMatchObject({ errorCode: ErrorCode.INVALID_CONFIG, errorMessage: "Can't APPEND to key retention.ms because its type is not LIST." });
    expect((await alterIncrementally(TOPIC, 't', [['retention.ms', 0, null]])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await alterIncrementally(TOPIC, 't', [['retention.ms', 9, '1']])).errorCode).toBe(ErrorCode.INVALID_REQUEST);
  });

  it('keeps batches written under a larger max.message.bytes readable after it is lowered, across a crash', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'big', 1, [{ name: 'max.message.bytes', value: '100000' }]);
    expect((await produce(test.broker, 'big', 0, batch(['x'.repeat(50_000)])))?.errorCode).toBe(ErrorCode.NONE);
    expect((await alter(TOPIC, 'big', { 'max.message.bytes': '1000' })).errorCode).toBe(ErrorCode.NONE);
    expect((await produce(test.broker, 'big', 0, batch(['y'.repeat(5000)])))?.errorCode).toBe(ErrorCode.MESSAGE_TOO_LARGE);
    expect((await fetchPartition(test.broker, 'big', 0, 0)).records.length).toBeGreaterThan(50_000);
    test.broker.kill();
    test.broker = await Broker.open({ dir: '/data', fs: test.fs, clock: test.clock, config: { groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 3 } });
    expect(test.broker.partition('big', 0)?.logEndOffset).toBe(1);
    expect((await fetchPartition(test.broker, 'big', 0, 0)).records.length).toBeGreaterThan(50_000);
  });
});

describe('dynamic broker configs', () => {
  it('change every topic\'s default at once, report DYNAMIC_BROKER_CONFIG, survive a reopen and can be deleted', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 'plain');
    await createTopic(test.broker, 'own', 1, [{ name: 'retention.ms', value: '1000' }]);
    expect((await alter(BROKER, '0', { 'log.retention.ms': '7200000', 'log.cleaner.min.compaction.lag.ms': '5' })).errorCode).toBe(ErrorCode.NONE);
    expect(test.broker.partition('plain', 0)?.log.config).toMatchObject({ retentionMs: 7_200_000, minCompactionLagMs: 5 });
    expect(test.broker.partition('own', 0)?.log.config.retentionMs).toBe(1000);
    const retention = (await describe_(TOPIC, 'plain', ['retention.ms'], { synonyms: true })).configs[0];
    // Kafka lists the whole synonym group from log.retention.ms on: the default hours follow.
    expect(retention).toMatchObject({
      value: '7200000', configSource: Source.dynamicBroker,
      synonyms: [{ name: 'log.retention.ms', value: '7200000', source: Source.dynamicBroker }, { name: 'log.retention.hours', value: '168', source: Source.default }],
    });
    await test.reopen();
    expect(test.broker.partition('plain', 0)?.log.config.retentionMs).toBe(7_200_000);
    expect((await alterIncrementally(BROKER, '0', [['log.retention.ms', 1, null]])).errorCode).toBe(ErrorCode.NONE);
    expect(test.broker.partition('plain', 0)?.log.config.retentionMs).toBe(604_800_000);
  });

  it('keeps cluster-wide defaults under the empty name, below this broker\'s own', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    expect((await alter(BROKER, '', { 'message.max.bytes': '2000' })).errorCode).toBe(ErrorCode.NONE);
    expect(await topicValues('t', ['max.message.bytes'])).toEqual({ 'max.message.bytes': '2000' });
    expect((await alter(BROKER, '0', { 'message.max.bytes': '3000' })).errorCode).toBe(ErrorCode.NONE);
    const configs = (await describe_(BROKER, '0', ['message.max.bytes'], { synonyms: true })).configs[0];
    expect(configs).toMatchObject({ value: '3000', configSource: Source.dynamicBroker });
    expect(configs.synonyms.map((synonym: Body) => synonym.source)).toEqual([Source.dynamicBroker, Source.dynamicDefault, Source.default]);
    const defaults = await describe_(BROKER, '', null, { synonyms: true });
    expect(defaults.configs).toEqual([expect.objectContaining({ name: 'message.max.bytes', value: '2000', configSource: Source.dynamicDefault, synonyms: [{ name: 'message.max.bytes', value: '2000', source: Source.dynamicDefault }] })]);
    expect(test.broker.config.messageMaxBytes).toBe(3000);
  });

  it('refuses what Kafka cannot change dynamically', async () => {
    test = await openTestBroker();
    expect(await alter(BROKER, '0', { 'log.dirs': '/x' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Cannot update these configs dynamically: Set(log.dirs)' });
    expect(await alter(BROKER, '', { listeners: 'PLAINTEXT://:9092' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Cannot update these configs at default cluster level, broker id must be specified: Set(listeners)' });
    expect((await alter(BROKER, '0', { 'ssl.keystore.location': '/k' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await alter(BROKER, '0', { 'log.retention.ms': 'x' })).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect((await alter(BROKER, '0', { 'no.such.config': '1' })).errorCode).toBe(ErrorCode.INVALID_CONFIG);
    expect(await alter(BROKER, '3', { 'log.retention.ms': '1' })).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Unexpected broker id, expected 0, but received 3' });
  });
});

describe('message.timestamp.* on produce', () => {
  it('refuses CreateTime records too far in the past or future with INVALID_TIMESTAMP, naming the record', async () => {
    test = await openTestBroker();
    const now = test.clock.now();
    await createTopic(test.broker, 'bounded', 1, [{ name: 'message.timestamp.before.max.ms', value: '60000' }, { name: 'message.timestamp.after.max.ms', value: '1000' }]);
    expect((await produce(test.broker, 'bounded', 0, batch(['ok'], { timestamp: now - 30_000 })))?.errorCode).toBe(ErrorCode.NONE);
    const old = await produce(test.broker, 'bounded', 0, batch(['old'], { timestamp: now - 120_000 }));
    expect(old).toMatchObject({ errorCode: ErrorCode.INVALID_TIMESTAMP, recordErrors: [{ batchIndex: 0, batchIndexErrorMessage: expect.stringContaining(`is out of range. The timestamp should be within [${now - 60_000}, ${now + 1000}]`) }] });
    expect((await produce(test.broker, 'bounded', 0, batch(['future'], { timestamp: now + 5000 })))?.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    expect(test.broker.partition('bounded', 0)?.logEndOffset).toBe(1);
  });

  it('falls back to the deprecated difference setting, and ignores timestamps on LogAppendTime topics', async () => {
    test = await openTestBroker();
    const now = test.clock.now();
    await createTopic(test.broker, 'diff', 1, [{ name: 'message.timestamp.difference.max.ms', value: '1000' }]);
    expect((await produce(test.broker, 'diff', 0, batch(['old'], { timestamp: now - 5000 })))?.errorCode).toBe(ErrorCode.INVALID_TIMESTAMP);
    await createTopic(test.broker, 'append', 1, [{ name: 'message.timestamp.difference.max.ms', value: '1000' }, { name: 'message.timestamp.type', value: 'LogAppendTime' }]);
    expect((await produce(test.broker, 'append', 0, batch(['old'], { timestamp: now - 5000 })))?.errorCode).toBe(ErrorCode.NONE);
  });
});

describe('manual replica assignments', () => {
  it('accept this broker and refuse a broker that does not exist', async () => {
    test = await openTestBroker();
    const create = async (name: string, assignments: { partitionIndex: number; brokerIds: number[] }[], numPartitions = -1) => {
      const response = (await test.broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name, numPartitions, replicationFactor: -1, assignments, configs: [] }], timeoutMs: 1000, validateOnly: false })) as Body;
      return response.topics[0];
    };
    expect(await create('assigned', [{ partitionIndex: 0, brokerIds: [0] }, { partitionIndex: 1, brokerIds: [0] }])).toMatchObject({ errorCode: ErrorCode.NONE, numPartitions: 2, replicationFactor: 1 });
    expect(test.broker.image.topic('assigned')?.partitions.size).toBe(2);
    expect(await create('ghost', [{ partitionIndex: 0, brokerIds: [3] }])).toMatchObject({ errorCode: ErrorCode.INVALID_REPLICA_ASSIGNMENT, errorMessage: 'The manual partition assignment includes broker 3, but no such broker is registered.' });
    expect((await create('twice', [{ partitionIndex: 0, brokerIds: [0, 0] }])).errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect((await create('gap', [{ partitionIndex: 1, brokerIds: [0] }])).errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect((await create('count', [{ partitionIndex: 0, brokerIds: [0] }], 1)).errorCode).toBe(ErrorCode.INVALID_REQUEST);
    const grow = async (count: number, assignments: { brokerIds: number[] }[] | null) => {
      const response = (await test.broker.handle(ApiKey.CreatePartitions, 3, { topics: [{ name: 'assigned', count, assignments }], timeoutMs: 1000, validateOnly: false })) as Body;
      return response.results[0];
    };
    expect((await grow(3, [{ brokerIds: [5] }])).errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect((await grow(4, [{ brokerIds: [0] }])).errorCode).toBe(ErrorCode.INVALID_REPLICA_ASSIGNMENT);
    expect((await grow(3, [{ brokerIds: [0] }])).errorCode).toBe(ErrorCode.NONE);
    expect(test.broker.image.topic('assigned')?.partitions.size).toBe(3);
  });
});

describe('config values (Kafka\'s ConfigDef semantics)', () => {
  it('normalize integers of any size exactly and refuse those outside their type', () => {
    fc.assert(fc.property(fc.bigInt({ min: -(2n ** 64n), max: 2n ** 64n }), (value) => {
      const text = String(value);
      const inLong = value >= -(2n ** 63n) && value < 2n ** 63n;
      if (inLong) expect(normalizeConfigValue('x', 'long', ` ${text} `)).toBe(text);
      else expect(() => normalizeConfigValue('x', 'long', text)).toThrow('Not a number of type LONG');
    }));
  });

  it('print doubles as Java does', () => {
    expect([0.5, 1, 1e7, 1e-4, 1.7976931348623157e308, 123456.789, 0.001].map(javaDoubleToString)).toEqual(['0.5', '1.0', '1.0E7', '1.0E-4', '1.7976931348623157E308', '123456.789', '0.001']);
  });
});
