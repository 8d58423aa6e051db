/**
 * Descriptions of the security APIs: the SASL pair (SaslHandshake 17, SaslAuthenticate 36), the
 * ACL APIs (DescribeAcls 29, CreateAcls 30, DeleteAcls 31) and the SCRAM credential APIs
 * (DescribeUserScramCredentials 50, AlterUserScramCredentials 51).
 * Transcribed from apache/kafka's message JSON; only the versions we serve are described.
 *
 * ACL fields carry Kafka's numeric enums: resource type (2 topic, 3 group, 4 cluster,
 * 5 transactional id), pattern type (3 literal, 4 prefixed), operation (2 all ... 12
 * idempotent write), permission type (2 deny, 3 allow); filters also take 1 (any) and pattern 2
 * (match). SCRAM mechanisms: 1 SCRAM-SHA-256, 2 SCRAM-SHA-512.
 */
import { api, f, s } from '../spec.js';

export const SaslHandshake = api('SaslHandshake', 17, {
  versions: '0-1',
  flexibleFrom: null,
  request: [f('mechanism', 'string', '0+')],
  response: [f('errorCode', 'int16', '0+'), f('mechanisms', '[]string', '0+')],
});

export const SaslAuthenticate = api('SaslAuthenticate', 36, {
  versions: '0-2',
  flexibleFrom: 2,
  request: [f('authBytes', 'bytes', '0+')],
  response: [
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+' }),
    f('authBytes', 'bytes', '0+'),
    f('sessionLifetimeMs', 'int64', '1+', { default: 0 }),
  ],
});

export const DescribeAcls = api('DescribeAcls', 29, {
  versions: '1-3',
  flexibleFrom: 2,
  request: [
    f('resourceTypeFilter', 'int8', '0+'),
    f('resourceNameFilter', 'string', '0+', { nullable: '0+' }),
    f('patternTypeFilter', 'int8', '1+', { default: 3 }),
    f('principalFilter', 'string', '0+', { nullable: '0+' }),
    f('hostFilter', 'string', '0+', { nullable: '0+' }),
    f('operation', 'int8', '0+'),
    f('permissionType', 'int8', '0+'),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    s('resources', '0+', [
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
      f('patternType', 'int8', '1+', { default: 3 }),
      s('acls', '0+', [
        f('principal', 'string', '0+'),
        f('host', 'string', '0+'),
        f('operation', 'int8', '0+'),
        f('permissionType', 'int8', '0+'),
      ]),
    ]),
  ],
});

export const CreateAcls = api('CreateAcls', 30, {
  versions: '1-3',
  flexibleFrom: 2,
  request: [
    s('creations', '0+', [
      f('resourceType', 'int8', '0+'),
      f('resourceName', 'string', '0+'),
      f('resourcePatternType', 'int8', '1+', { default: 3 }),
      f('principal', 'string', '0+'),
      f('host', 'string', '0+'),
      f('operation', 'int8', '0+'),
      f('permissionType', 'int8', '0+'),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('results', '0+', [f('errorCode', 'int16', '0+'), f('errorMessage', 'string', '0+', { nullable: '0+', default: null })]),
  ],
});

export const DeleteAcls = api('DeleteAcls', 31, {
  versions: '1-3',
  flexibleFrom: 2,
  request: [
    s('filters', '0+', [
      f('resourceTypeFilter', 'int8', '0+'),
      f('resourceNameFilter', 'string', '0+', { nullable: '0+' }),
      f('patternTypeFilter', 'int8', '1+', { default: 3 }),
      f('principalFilter', 'string', '0+', { nullable: '0+' }),
      f('hostFilter', 'string', '0+', { nullable: '0+' }),
      f('operation', 'int8', '0+'),
      f('permissionType', 'int8', '0+'),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('filterResults', '0+', [
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      s('matchingAcls', '0+', [
        f('errorCode', 'int16', '0+'),
        f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
        f('resourceType', 'int8', '0+'),
        f('resourceName', 'string', '0+'),
        f('patternType', 'int8', '1+', { default: 3 }),
        f('principal', 'string', '0+'),
        f('host', 'string', '0+'),
        f('operation', 'int8', '0+'),
        f('permissionType', 'int8', '0+'),
      ]),
    ]),
  ],
});

export const DescribeUserScramCredentials = api('DescribeUserScramCredentials', 50, {
  versions: '0',
  flexibleFrom: 0,
  request: [s('users', '0+', [f('name', 'string', '0+')], { nullable: '0+' })],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '0+'),
    f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
    s('results', '0+', [
      f('user', 'string', '0+'),
      f('errorCode', 'int16', '0+'),
      f('errorMessage', 'string', '0+', { nullable: '0+', default: null }),
      s('credentialInfos', '0+', [f('mechanism', 'int8', '0+'), f('iterations', 'int32', '0+')]),
    ]),
  ],
});

export const AlterUserScramCredentials = api('AlterUserScramCredentials', 51, {
  versions: '0',
  flexibleFrom: 0,
  request: [
    s('deletions', '0+', [f('name', 'string', '0+'), f('mechanism', 'int8', '0+')]),
    s('upsertions', '0+', [
      f('name', 'string', '0+'),
      f('mechanism', 'int8', '0+'),
      f('iterations', 'int32', '0+'),
      f('salt', 'bytes', '0+'),
      f('saltedPassword', 'bytes', '0+'),
    ]),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    s('results', '0+', [f('user', 'string', '0+'), f('errorCode', 'int16', '0+'), f('errorMessage', 'string', '0+', { nullable: '0+', default: null })]),
  ],
});
