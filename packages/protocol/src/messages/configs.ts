/**
 * Descriptions of the APIs that change configs: AlterConfigs (replaces a resource's whole set of
 * dynamic configs), IncrementalAlterConfigs (KIP-339: set, delete, append or subtract one config
 * at a time), and the client-quota pair (KIP-546) DescribeClientQuotas / AlterClientQuotas, whose
 * values are the configs of user, client-id and ip entities. DescribeConfigs lives in admin.ts.
 * Transcribed from apache/kafka's message JSON; every version Kafka defines is described.
 */
import { api, f, s } from '../spec.js';

export const AlterConfigs = api('AlterConfigs', 33, {
  versions: '0-2',
  flexibleFrom: 2,
  request: [
    s('resources', '0+', [
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
      s('configs', '0+', [f('name', 'string', '0+'), f('value', 'string', '0+', { nullable: '0+' })]),
    ]),
    f('validateOnly', 'bool', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('responses', '0+', [
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
    ]),
  ],
});

export const IncrementalAlterConfigs = api('IncrementalAlterConfigs', 44, {
  versions: '0-1',
  flexibleFrom: 1,
  request: [
    s('resources', '0+', [
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
      s('configs', '0+', [
        f('name', 'string', '0+'),
        // 0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT (Kafka's AlterConfigOp.OpType).
        f('configOperation', 'int8', '0+'),
        f('value', 'string', '0+', { nullable: '0+' }),
      ]),
    ]),
    f('validateOnly', 'bool', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('responses', '0+', [
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
    ]),
  ],
});

export const DescribeClientQuotas = api('DescribeClientQuotas', 48, {
  versions: '0-1',
  flexibleFrom: 1,
  request: [
    s('components', '0+', [
      f('entityType', 'string', '0+'),
      // 0 exact name, 1 the default entity, 2 any specified name.
      f('matchType', 'int8', '0+'),
      f('match', 'string', '0+', { nullable: '0+' }),
    ]),
    f('strict', 'bool', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    s(
      'entries',
      '0+',
      [
        s('entity', '0+', [f('entityType', 'string', '0+'), f('entityName', 'string', '0+', { nullable: '0+' })]),
        s('values', '0+', [f('key', 'string', '0+'), f('value', 'float64', '0+')]),
      ],
      { nullable: '0+' },
    ),
  ],
});

export const AlterClientQuotas = api('AlterClientQuotas', 49, {
  versions: '0-1',
  flexibleFrom: 1,
  request: [
    s('entries', '0+', [
      s('entity', '0+', [f('entityType', 'string', '0+'), f('entityName', 'string', '0+', { nullable: '0+' })]),
      s('ops', '0+', [f('key', 'string', '0+'), f('value', 'float64', '0+'), f('remove', 'bool', '0+')]),
    ]),
    f('validateOnly', 'bool', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('entries', '0+', [
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      s('entity', '0+', [f('entityType', 'string', '0+'), f('entityName', 'string', '0+', { nullable: '0+' })]),
    ]),
  ],
});
