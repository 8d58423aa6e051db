/**
 * IncrementalAlterConfigs and AlterConfigs for topics and brokers: operations, the injected
 * validator, resource checks, and the ConfigRecords they write.
 */
import { ErrorCode } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { ConfigOperation, ConfigResourceType } from '../../src/index.js';
import { createTopicsRequest, harness, startBrokers } from './harness.js';

const TOPIC = ConfigResourceType.TOPIC;
const BROKER = ConfigResourceType.BROKER;

async function setup() {
  const h = harness();
  h.elect();
  await startBrokers(h, [1]);
  await h.call(() => h.controller.createTopics(7, createTopicsRequest([{ name: 't' }])));
  const incremental = (resources: { resourceType: number; resourceName: string; configs: { name: string; configOperation: number; value: string | null }[] }[], validateOnly = false) =>
    h.call(() => h.controller.incrementalAlterConfigs(1, { resources, validateOnly }));
  return { h, incremental };
}

describe('IncrementalAlterConfigs', () => {
  it('sets, appends to, subtracts from and deletes topic configs', async () => {
    const { h, incremental } = await setup();
    const configs = () => Object.fromEntries(h.controller.committedImage.topicConfigs('t'));
    expect((await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: ConfigOperation.SET, value: '60000' }] }])).responses[0].errorCode).toBe(0);
    // APPEND starts from the default ('delete') when the topic does not set the list.
    await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'cleanup.policy', configOperation: ConfigOperation.APPEND, value: 'compact' }] }]);
    expect(configs()).toEqual({ 'retention.ms': '60000', 'cleanup.policy': 'delete,compact' });
    await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'cleanup.policy', configOperation: ConfigOperation.SUBTRACT, value: 'delete' }] }]);
    await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: ConfigOperation.DELETE, value: null }] }]);
    expect(configs()).toEqual({ 'cleanup.policy': 'compact' });
  });

  it('refuses bad values, list operations on non-lists, unknown resources and duplicates, and writes nothing for them', async () => {
    const { h, incremental } = await setup();
    const before = h.log.committed.length;
    const response = await incremental([
      { resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: ConfigOperation.SET, value: 'soon' }] },
      { resourceType: TOPIC, resourceName: 'missing', configs: [{ name: 'retention.ms', configOperation: ConfigOperation.SET, value: '1' }] },
      { resourceType: BROKER, resourceName: '9', configs: [{ name: 'log.retention.ms', configOperation: ConfigOperation.SET, value: '1' }] },
      { resourceType: BROKER, resourceName: 'x', configs: [{ name: 'log.retention.ms', configOperation: ConfigOperation.SET, value: '1' }] },
      { resourceType: 8, resourceName: '1', configs: [{ name: 'kafka', configOperation: ConfigOperation.SET, value: 'DEBUG' }] },
      { resourceType: BROKER, resourceName: '', configs: [{ name: 'log.retention.ms', configOperation: ConfigOperation.APPEND, value: '1' }] },
      { resourceType: BROKER, resourceName: '1', configs: [{ name: 'log.retention.ms', configOperation: 7, value: '1' }] },
    ]);
    expect(response.responses.map((entry) => entry.errorCode)).toEqual([
      ErrorCode.INVALID_CONFIG, ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, ErrorCode.BROKER_ID_NOT_REGISTERED, ErrorCode.INVALID_REQUEST,
      ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_CONFIG, ErrorCode.INVALID_REQUEST,
    ]);
    expect(response.responses[0].errorMessage).toMatch(/retention\.ms/);
    expect(h.log.committed.length).toBe(before);
  });

  it('sets broker and cluster-wide configs, writing broker records even when the value is unchanged', async () => {
    const { h, incremental } = await setup();
    const set = [{ name: 'log.retention.ms', configOperation: ConfigOperation.SET, value: '5' }];
    await incremental([{ resourceType: BROKER, resourceName: '1', configs: set }, { resourceType: BROKER, resourceName: '', configs: set }]);
    expect(h.controller.committedImage.brokerConfigs(1).get('log.retention.ms')).toBe('5');
    expect(h.controller.committedImage.brokerConfigs('').get('log.retention.ms')).toBe('5');
    const before = h.log.committed.length;
    await incremental([{ resourceType: BROKER, resourceName: '1', configs: set }]);
    expect(h.log.committed.length).toBe(before + 1);
    await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: ConfigOperation.DELETE, value: null }] }]);
    expect(h.log.committed.length).toBe(before + 1);
  });

  it('checks but writes nothing with validateOnly', async () => {
    const { h, incremental } = await setup();
    const response = await incremental([{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', configOperation: ConfigOperation.SET, value: '7' }] }], true);
    expect(response.responses[0].errorCode).toBe(0);
    expect(h.controller.committedImage.topicConfigs('t').size).toBe(0);
  });
});

describe('AlterConfigs', () => {
  it('replaces a resource\'s whole set of configs, deleting those not named', async () => {
    const { h } = await setup();
    await h.call(() => h.controller.alterConfigs(2, {
      resources: [{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', value: '1' }, { name: 'cleanup.policy', value: 'compact' }] }],
      validateOnly: false,
    }));
    const replaced = await h.call(() => h.controller.alterConfigs(2, {
      resources: [{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', value: '2' }] }],
      validateOnly: false,
    }));
    expect(replaced.responses).toEqual([{ errorCode: 0, errorMessage: null, resourceType: TOPIC, resourceName: 't' }]);
    expect(Object.fromEntries(h.controller.committedImage.topicConfigs('t'))).toEqual({ 'retention.ms': '2' });
    const bad = await h.call(() => h.controller.alterConfigs(2, {
      resources: [{ resourceType: TOPIC, resourceName: 't', configs: [{ name: 'retention.ms', value: null }] }],
      validateOnly: false,
    }));
    expect(bad.responses[0].errorCode).toBe(ErrorCode.INVALID_CONFIG);
  });
});
