/**
 * The StandardAuthorizer against Kafka's documented rules ("Authorization and ACLs" in Kafka's
 * security docs, and StandardAuthorizerData): a truth table of every operation granted by every
 * operation, on every resource type and pattern type, then deny over allow, prefixes, wildcards,
 * hosts, super users and the no-ACL default.
 */
import { AclOperation, AclPermissionType, PatternType, ResourceType } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { type AclBinding, aclNames, StandardAuthorizer } from '../src/index.js';

const OPERATIONS = [
  AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE,
  AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE,
] as const;
const RESOURCES = [
  { type: ResourceType.TOPIC, name: 'orders-eu' }, { type: ResourceType.GROUP, name: 'orders-eu' },
  { type: ResourceType.CLUSTER, name: 'kafka-cluster' }, { type: ResourceType.TRANSACTIONAL_ID, name: 'orders-eu' },
];

/** Kafka's documented implications, written out: what an ALLOW of the row's operation grants. */
const GRANTS: Record<string, string[]> = {
  ALL: ['READ', 'WRITE', 'CREATE', 'DELETE', 'ALTER', 'DESCRIBE', 'CLUSTER_ACTION', 'DESCRIBE_CONFIGS', 'ALTER_CONFIGS', 'IDEMPOTENT_WRITE'],
  READ: ['READ', 'DESCRIBE'],
  WRITE: ['WRITE', 'DESCRIBE'],
  CREATE: ['CREATE'],
  DELETE: ['DELETE', 'DESCRIBE'],
  ALTER: ['ALTER', 'DESCRIBE'],
  DESCRIBE: ['DESCRIBE'],
  CLUSTER_ACTION: ['CLUSTER_ACTION'],
  DESCRIBE_CONFIGS: ['DESCRIBE_CONFIGS'],
  ALTER_CONFIGS: ['DESCRIBE_CONFIGS', 'ALTER_CONFIGS'],
  IDEMPOTENT_WRITE: ['IDEMPOTENT_WRITE'],
};

function acl(partial: Partial<AclBinding>): AclBinding {
  return {
    resourceType: ResourceType.TOPIC, resourceName: 'orders-eu', patternType: PatternType.LITERAL, principal: 'User:alice', host: '*',
    operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW, ...partial,
  };
}

function authorizer(bindings: AclBinding[], settings: Partial<{ superUsers: string[]; allowEveryoneIfNoAclFound: boolean }> = {}) {
  return new StandardAuthorizer({ superUsers: settings.superUsers ?? [], allowEveryoneIfNoAclFound: settings.allowEveryoneIfNoAclFound ?? false }, bindings);
}

describe('StandardAuthorizer truth table', () => {
  for (const resource of RESOURCES) {
    const patterns = resource.type === ResourceType.CLUSTER
      ? [{ patternType: PatternType.LITERAL, resourceName: 'kafka-cluster' }]
      : [{ patternType: PatternType.LITERAL, resourceName: 'orders-eu' }, { patternType: PatternType.LITERAL, resourceName: '*' }, { patternType: PatternType.PREFIXED, resourceName: 'orders-' }];
    for (const pattern of patterns) {
      it(`${aclNames.resourceType(resource.type)} ${aclNames.patternType(pattern.patternType)} '${pattern.resourceName}': each ALLOW grants exactly its operation and what it implies`, () => {
        const table: Record<string, string[]> = {};
        for (const granted of [AclOperation.ALL, ...OPERATIONS]) {
          const decide = authorizer([acl({ resourceType: resource.type, ...pattern, operation: granted })]);
          table[aclNames.operation(granted)] = OPERATIONS.filter((asked) =>
            decide.authorize({ principal: 'User:alice', host: '10.0.0.1', operation: asked, resourceType: resource.type, resourceName: resource.name }),
          ).map((op) => aclNames.operation(op));
        }
        expect(table).toEqual(GRANTS);
      });
    }
  }

  it('a DENY refuses its operation whatever ALLOWs say, and implies nothing', () => {
    const decide = authorizer([acl({ operation: AclOperation.ALL }), acl({ operation: AclOperation.READ, permissionType: AclPermissionType.DENY })]);
    const asks = (operation: (typeof OPERATIONS)[number]) => decide.authorize({ principal: 'User:alice', host: 'h', operation, resourceType: ResourceType.TOPIC, resourceName: 'orders-eu' });
    expect(asks(AclOperation.READ)).toBe(false);
    expect(asks(AclOperation.WRITE)).toBe(true);
    expect(asks(AclOperation.DESCRIBE)).toBe(true);
    // A DENY ALL on a prefix beats a literal ALLOW; a DENY for everyone beats an ALLOW for alice.
    expect(authorizer([acl({}), acl({ patternType: PatternType.PREFIXED, resourceName: 'orders', operation: AclOperation.ALL, permissionType: AclPermissionType.DENY })])
      .authorize({ principal: 'User:alice', host: 'h', operation: AclOperation.READ, resourceType: ResourceType.TOPIC, resourceName: 'orders-eu' })).toBe(false);
    expect(authorizer([acl({}), acl({ principal: 'User:*', permissionType: AclPermissionType.DENY })])
      .authorize({ principal: 'User:alice', host: 'h', operation: AclOperation.READ, resourceType: ResourceType.TOPIC, resourceName: 'orders-eu' })).toBe(false);
  });

  it('patterns: literal names match exactly, prefixes match names that start with them, * matches every name, types never mix', () => {
    const decide = authorizer([
      acl({ resourceName: 'orders' }), acl({ resourceName: 'pay', patternType: PatternType.PREFIXED }), acl({ resourceType: ResourceType.GROUP, resourceName: '*' }),
    ]);
    const reads = (resourceType: (typeof ResourceType)[keyof typeof ResourceType], resourceName: string) =>
      decide.authorize({ principal: 'User:alice', host: 'h', operation: AclOperation.READ, resourceType, resourceName });
    expect([reads(ResourceType.TOPIC, 'orders'), reads(ResourceType.TOPIC, 'orders-eu'), reads(ResourceType.TOPIC, 'order')]).toEqual([true, false, false]);
    expect([reads(ResourceType.TOPIC, 'payments'), reads(ResourceType.TOPIC, 'pay'), reads(ResourceType.TOPIC, 'pa')]).toEqual([true, true, false]);
    expect([reads(ResourceType.GROUP, 'anything'), reads(ResourceType.TOPIC, 'anything'), reads(ResourceType.TRANSACTIONAL_ID, 'orders')]).toEqual([true, false, false]);
  });

  it('principals and hosts: the named principal or User:*, the client address or *', () => {
    const decide = authorizer([acl({ principal: 'User:*', host: '10.0.0.1' }), acl({ principal: 'User:bob', operation: AclOperation.WRITE })]);
    const asks = (principal: string, host: string, operation: (typeof OPERATIONS)[number]) =>
      decide.authorize({ principal, host, operation, resourceType: ResourceType.TOPIC, resourceName: 'orders-eu' });
    expect([asks('User:carol', '10.0.0.1', AclOperation.READ), asks('User:carol', '10.0.0.2', AclOperation.READ)]).toEqual([true, false]);
    expect([asks('User:bob', '10.9.9.9', AclOperation.WRITE), asks('User:alice', '10.9.9.9', AclOperation.WRITE)]).toEqual([true, false]);
  });

  it('super.users may do anything, even against a DENY', () => {
    const decide = authorizer([acl({ principal: 'User:*', operation: AclOperation.ALL, permissionType: AclPermissionType.DENY })], { superUsers: ['User:admin'] });
    expect(decide.authorize({ principal: 'User:admin', host: 'h', operation: AclOperation.ALTER, resourceType: ResourceType.TOPIC, resourceName: 'orders-eu' })).toBe(true);
    expect(decide.authorize({ principal: 'User:alice', host: 'h', operation: AclOperation.ALTER, resourceType: ResourceType.TOPIC, resourceName: 'orders-eu' })).toBe(false);
  });

  it('no ACL at all on a resource: allow.everyone.if.no.acl.found decides (default false); any ACL on it, even for others, means no', () => {
    const request = { principal: 'User:alice', host: 'h', operation: AclOperation.READ, resourceType: ResourceType.TOPIC, resourceName: 'free' } as const;
    expect(authorizer([]).authorize(request)).toBe(false);
    expect(authorizer([], { allowEveryoneIfNoAclFound: true }).authorize(request)).toBe(true);
    expect(authorizer([acl({ resourceName: 'free', principal: 'User:bob' })], { allowEveryoneIfNoAclFound: true }).authorize(request)).toBe(false);
    expect(authorizer([acl({ resourceName: 'other' })], { allowEveryoneIfNoAclFound: true }).authorize(request)).toBe(true);
  });
});

describe('authorizeByResourceType (Write on any topic, KIP-679)', () => {
  const asks = (decide: StandardAuthorizer, operation: number = AclOperation.WRITE) =>
    decide.authorizeByResourceType({ principal: 'User:alice', host: '10.0.0.1', operation: operation as never, resourceType: ResourceType.TOPIC });
  const deny = (partial: Partial<AclBinding>) => acl({ permissionType: AclPermissionType.DENY, operation: AclOperation.WRITE, ...partial });
  const write = (partial: Partial<AclBinding> = {}) => acl({ operation: AclOperation.WRITE, ...partial });

  const cases: { name: string; bindings: AclBinding[]; settings?: { superUsers?: string[]; allowEveryoneIfNoAclFound?: boolean }; expected: boolean }[] = [
    { name: 'no ACLs', bindings: [], expected: false },
    { name: 'no ACLs, allow.everyone.if.no.acl.found', bindings: [], settings: { allowEveryoneIfNoAclFound: true }, expected: true },
    { name: 'a super user', bindings: [], settings: { superUsers: ['User:alice'] }, expected: true },
    { name: 'Write on one literal topic', bindings: [write()], expected: true },
    { name: 'All on one prefixed topic', bindings: [write({ operation: AclOperation.ALL, patternType: PatternType.PREFIXED, resourceName: 'ord' })], expected: true },
    { name: 'Write for User:* from any host', bindings: [write({ principal: 'User:*' })], expected: true },
    { name: 'Read only (Write is not implied)', bindings: [acl({ operation: AclOperation.READ })], expected: false },
    { name: 'Write on a group, not a topic', bindings: [write({ resourceType: ResourceType.GROUP })], expected: false },
    { name: "Write for another principal", bindings: [write({ principal: 'User:bob' })], expected: false },
    { name: 'Write from another host', bindings: [write({ host: '10.0.0.2' })], expected: false },
    { name: 'Write allowed and denied on the same literal', bindings: [write(), deny({})], expected: false },
    { name: 'Write allowed on a literal, denied on a prefix of it', bindings: [write(), deny({ patternType: PatternType.PREFIXED, resourceName: 'orders' })], expected: false },
    { name: 'Write allowed on a prefix, denied on a shorter prefix', bindings: [write({ patternType: PatternType.PREFIXED, resourceName: 'orders-' }), deny({ patternType: PatternType.PREFIXED, resourceName: 'ord' })], expected: false },
    { name: 'Write allowed on a prefix, denied on a longer prefix (other names stay writable)', bindings: [write({ patternType: PatternType.PREFIXED, resourceName: 'ord' }), deny({ patternType: PatternType.PREFIXED, resourceName: 'orders-' })], expected: true },
    { name: 'Write allowed on a literal, a prefixed deny of the same name', bindings: [write(), deny({ patternType: PatternType.PREFIXED, resourceName: 'orders-eu' })], expected: false },
    { name: 'Write allowed on one topic, denied on another', bindings: [write(), deny({ resourceName: 'other' })], expected: true },
    { name: 'Write allowed on *, denied on one topic', bindings: [write({ resourceName: '*' }), deny({})], expected: true },
    { name: 'Write denied on * wins over any allow', bindings: [write(), deny({ resourceName: '*' })], expected: false },
    { name: 'a Read deny does not take away Write', bindings: [write(), deny({ operation: AclOperation.READ })], expected: true },
  ];
  for (const { name, bindings, settings, expected } of cases) {
    it(`${name}: ${expected ? 'allowed' : 'refused'}`, () => {
      expect(asks(authorizer(bindings, settings))).toBe(expected);
    });
  }
});
