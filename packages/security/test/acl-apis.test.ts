import { MemoryFileSystem } from '@gregor/log';
import { AclOperation, AclPermissionType, ErrorCode, PatternType, ResourceType } from '@gregor/protocol';
import { describe, expect, it } from 'vitest';
import { AclStore, ScramCredentialStore, SecurityApis, SecurityError, StandardAuthorizer } from '../src/index.js';

const inner = { handle: async () => ({}) };

function open(fs = new MemoryFileSystem()) {
  if (!fs.exists('/d')) fs.mkdir('/d');
  const store = AclStore.open({ fs, dir: '/d' });
  const authorizer = new StandardAuthorizer({ superUsers: ['User:admin'], allowEveryoneIfNoAclFound: false }, store.acls);
  const apis = new SecurityApis(inner, { scramCredentials: ScramCredentialStore.open({ fs, dir: '/d' }), acls: { store, authorizer } });
  return { fs, store, authorizer, apis };
}

const admin = { principal: 'User:admin', clientHost: '/127.0.0.1' };
const creation = (partial: Record<string, unknown> = {}) => ({
  resourceType: ResourceType.TOPIC, resourceName: 'orders', resourcePatternType: PatternType.LITERAL, principal: 'User:alice', host: '*',
  operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW, ...partial,
});
const anyFilter = { resourceTypeFilter: ResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY };

describe('CreateAcls, DescribeAcls, DeleteAcls', () => {
  it('creates bindings (refusing malformed ones with INVALID_REQUEST), describes them by resource, deletes by filter, and persists them', async () => {
    const { fs, apis, authorizer } = open();
    const created = await apis.handle(30, 3, { creations: [
      creation(), creation({ resourceName: 'pay', resourcePatternType: PatternType.PREFIXED, operation: AclOperation.WRITE }), creation(),
      creation({ principal: 'alice' }), creation({ resourceType: ResourceType.CLUSTER, resourceName: 'other' }), creation({ resourcePatternType: PatternType.MATCH }),
    ] }, admin) as { results: { errorCode: number; errorMessage: string | null }[] };
    expect(created.results.map((r) => r.errorCode)).toEqual([0, 0, 0, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST, ErrorCode.INVALID_REQUEST]);
    expect(created.results[3].errorMessage).toContain('Could not parse principal');
    expect(authorizer.authorize({ principal: 'User:alice', host: '1.2.3.4', operation: AclOperation.WRITE, resourceType: ResourceType.TOPIC, resourceName: 'payments' })).toBe(true);

    const described = await apis.handle(29, 3, anyFilter, admin) as { resources: unknown[] };
    expect(described.resources).toEqual([
      { resourceType: ResourceType.TOPIC, resourceName: 'orders', patternType: PatternType.LITERAL, acls: [{ principal: 'User:alice', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW }] },
      { resourceType: ResourceType.TOPIC, resourceName: 'pay', patternType: PatternType.PREFIXED, acls: [{ principal: 'User:alice', host: '*', operation: AclOperation.WRITE, permissionType: AclPermissionType.ALLOW }] },
    ]);
    const matching = await apis.handle(29, 3, { ...anyFilter, resourceNameFilter: 'payments', patternTypeFilter: PatternType.MATCH }, admin) as { resources: { resourceName: string }[] };
    expect(matching.resources.map((r) => r.resourceName)).toEqual(['pay']);

    const reopened = open(fs);
    expect(reopened.store.acls).toHaveLength(2);
    const deleted = await reopened.apis.handle(31, 3, { filters: [{ ...anyFilter, operation: AclOperation.WRITE }] }, admin) as { filterResults: { matchingAcls: { resourceName: string }[] }[] };
    expect(deleted.filterResults[0].matchingAcls.map((acl) => acl.resourceName)).toEqual(['pay']);
    expect(open(fs).store.acls).toHaveLength(1);
    expect(reopened.authorizer.authorize({ principal: 'User:alice', host: 'h', operation: AclOperation.WRITE, resourceType: ResourceType.TOPIC, resourceName: 'payments' })).toBe(false);
  });

  it('needs Alter (create, delete) or Describe (describe) on the cluster; without an authorizer answers SECURITY_DISABLED', async () => {
    const { apis } = open();
    const alice = { principal: 'User:alice', clientHost: '/127.0.0.1' };
    expect(await apis.handle(30, 3, { creations: [creation()] }, alice)).toMatchObject({ results: [{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }] });
    expect(await apis.handle(29, 3, anyFilter, alice)).toMatchObject({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
    expect(await apis.handle(31, 3, { filters: [anyFilter] }, alice)).toMatchObject({ filterResults: [{ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }] });
    expect(await apis.handle(51, 0, { deletions: [{ name: 'bob', mechanism: 1 }], upsertions: [] }, alice)).toMatchObject({ results: [{ user: 'bob', errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED }] });
    const fs = new MemoryFileSystem();
    fs.mkdir('/e');
    const unsecured = new SecurityApis(inner, { scramCredentials: ScramCredentialStore.open({ fs, dir: '/e' }) });
    expect(await unsecured.handle(29, 3, anyFilter, admin)).toMatchObject({ errorCode: ErrorCode.SECURITY_DISABLED });
  });

  it('a damaged ACL file fails open instead of starting with no ACLs', () => {
    const fs = new MemoryFileSystem();
    fs.mkdir('/d');
    fs.writeFileAtomic('/d/acls.json', Buffer.from('{"version":1,"acls":[{"resourceType":"TOPIC"}]}'));
    expect(() => AclStore.open({ fs, dir: '/d' })).toThrow(SecurityError);
  });
});
