/**
 * Descriptions of the admin APIs: CreateTopics, DeleteTopics, CreatePartitions, DescribeConfigs,
 * DescribeCluster.
 * Transcribed from apache/kafka's message JSON; only the versions we serve are described.
 */
import { api, f, s } from '../spec.js';

export const CreateTopics = api('CreateTopics', 19, {
  versions: '0-7',
  flexibleFrom: 5,
  request: [
    s('topics', '0+', [
      f('name', 'string', '0+'),
      f('numPartitions', 'int32', '0+'),
      f('replicationFactor', 'int16', '0+'),
      s('assignments', '0+', [f('partitionIndex', 'int32', '0+'), f('brokerIds', '[]int32', '0+')]),
      s('configs', '0+', [f('name', 'string', '0+'), f('value', 'string', '0+', { nullable: '0+' })]),
    ]),
    f('timeoutMs', 'int32', '0+', { default: 60000 }),
    f('validateOnly', 'bool', '1+', { default: false }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '2+'),
    s('topics', '0+', [
      f('name', 'string', '0+'),
      f('topicId', 'uuid', '7+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '1+', { nullable: '0+', default: null }),
      f('topicConfigErrorCode', 'int16', '5+', { tag: 0 }),
      f('numPartitions', 'int32', '5+', { default: -1 }),
      f('replicationFactor', 'int16', '5+', { default: -1 }),
      s(
        'configs',
        '5+',
        [
          f('name', 'string', '5+'),
          f('value', 'string', '5+', { nullable: '5+' }),
          f('readOnly', 'bool', '5+'),
          f('configSource', 'int8', '5+', { default: -1 }),
          f('isSensitive', 'bool', '5+'),
        ],
        { nullable: '5+' },
      ),
    ]),
  ],
});

export const DeleteTopics = api('DeleteTopics', 20, {
  versions: '0-6',
  flexibleFrom: 4,
  request: [
    s('topics', '6+', [f('name', 'string', '6+', { nullable: '6+', default: null }), f('topicId', 'uuid', '6+')]),
    f('topicNames', '[]string', '0-5'),
    f('timeoutMs', 'int32', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '1+'),
    s('responses', '0+', [
      f('name', 'string', '0+', { nullable: '6+' }),
      f('topicId', 'uuid', '6+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '5+', { nullable: '5+', default: null }),
    ]),
  ],
});

export const CreatePartitions = api('CreatePartitions', 37, {
  versions: '0-3',
  flexibleFrom: 2,
  request: [
    s('topics', '0+', [
      f('name', 'string', '0+'),
      f('count', 'int32', '0+'),
      s('assignments', '0+', [f('brokerIds', '[]int32', '0+')], { nullable: '0+' }),
    ]),
    f('timeoutMs', 'int32', '0+'),
    f('validateOnly', 'bool', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('results', '0+', [
      f('name', 'string', '0+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    ]),
  ],
});

export const DescribeConfigs = api('DescribeConfigs', 32, {
  versions: '0-4',
  flexibleFrom: 4,
  request: [
    s('resources', '0+', [
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
      f('configurationKeys', '[]string', '0+', { nullable: '0+' }),
    ]),
    f('includeSynonyms', 'bool', '1+', { default: false }),
    f('includeDocumentation', 'bool', '3+', { default: false }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('results', '0+', [
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+' }),
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
      s('configs', '0+', [
        f('name', 'string', '0+'),
        f('value', 'string', '0+', { nullable: '0+' }),
        f('readOnly', 'bool', '0+'),
        f('isDefault', 'bool', '0'),
        f('configSource', 'int8', '1+', { default: -1 }),
        f('isSensitive', 'bool', '0+'),
        s('synonyms', '1+', [f('name', 'string', '1+'), f('value', 'string', '1+', { nullable: '1+' }), f('source', 'int8', '1+')]),
        f('configType', 'int8', '3+', { default: 0 }),
        f('documentation', 'string', '3+', { nullable: '0+' }),
      ]),
    ]),
  ],
});

export const DescribeCluster = api('DescribeCluster', 60, {
  versions: '0-1',
  flexibleFrom: 0,
  request: [f('includeClusterAuthorizedOperations', 'bool', '0+'), f('endpointType', 'int8', '1+', { default: 1 })],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    f('endpointType', 'int8', '1+', { default: 1 }),
    f('clusterId', 'string', '0+'),
    f('controllerId', 'int32', '0+', { default: -1 }),
    s('brokers', '0+', [
      f('brokerId', 'int32', '0+'),
      f('host', 'string', '0+'),
      f('port', 'int32', '0+'),
      f('rack', 'string', '0+', { nullable: '0+', default: null }),
    ]),
    f('clusterAuthorizedOperations', 'int32', '0+', { default: -2147483648 }),
  ],
});

