/**
 * ACLs and SCRAM credentials decided by the controller: CreateAcls, DeleteAcls and
 * AlterUserScramCredentials write AccessControlEntry / RemoveAccessControlEntry and
 * UserScramCredential / RemoveUserScramCredential records, answer as a single broker does, and
 * survive a snapshot of the image.
 */
import { AclOperation, AclPermissionType, ErrorCode, PatternType, ResourceType } from '@gregor/protocol';
import { saltedPassword, ScramServerExchange, ScramClientExchange, scramMechanismOfType } from '@gregor/security';
import { describe, expect, it } from 'vitest';
import { decodeMetadataRecord, MetadataDelta, MetadataImage, metadataRecord } from '../../src/index.js';
import { harness } from './harness.js';

const readAlice = { resourceType: ResourceType.TOPIC, resourceName: 'orders', resourcePatternType: PatternType.LITERAL, principal: 'User:alice', host: '*', operation: AclOperation.READ, permissionType: AclPermissionType.ALLOW };
const writePrefix = { ...readAlice, resourceName: 'ord', resourcePatternType: PatternType.PREFIXED, operation: AclOperation.WRITE };
const anyFilter = {
  resourceTypeFilter: ResourceType.ANY, resourceNameFilter: null, patternTypeFilter: PatternType.ANY, principalFilter: null, hostFilter: null,
  operation: AclOperation.ANY, permissionType: AclPermissionType.ANY,
};

function recordTypes(h: ReturnType<typeof harness>): string[] {
  return h.log.committed.flatMap((batch) => batch.records.map((value) => decodeMetadataRecord(value).type));
}

function snapshotOf(image: MetadataImage): MetadataImage {
  const delta = new MetadataDelta(MetadataImage.EMPTY);
  image.toRecords().forEach((record, index) => delta.replay(metadataRecord(record), index));
  return delta.apply();
}

function upsertion(name: string, mechanism: 1 | 2, password: string, salt = Buffer.from(`salt-of-${name}`)) {
  const iterations = 4096;
  const mechanismName = scramMechanismOfType(mechanism) as 'SCRAM-SHA-256';
  return { name, mechanism, iterations, salt, saltedPassword: saltedPassword(mechanismName, password, salt, iterations) };
}

describe('the controller keeps ACLs as records', () => {
  it('writes one AccessControlEntryRecord per new binding, none for a binding it has, and refuses bad ones per creation', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    const first = await h.call(() => h.controller.createAcls(3, { creations: [readAlice, writePrefix, { ...readAlice, principal: 'alice' }] }));
    expect(first.results.map((result) => result.errorCode)).toEqual([ErrorCode.NONE, ErrorCode.NONE, ErrorCode.INVALID_REQUEST]);
    expect(h.controller.committedImage.acls.size).toBe(2);
    const again = await h.call(() => h.controller.createAcls(3, { creations: [readAlice] }));
    expect(again.results[0].errorCode).toBe(ErrorCode.NONE);
    expect(recordTypes(h).filter((type) => type === 'AccessControlEntry')).toHaveLength(2);
    const ids = [...h.controller.committedImage.acls.keys()];
    expect(new Set(ids).size).toBe(2);
  });

  it('deletes what each filter matches with RemoveAccessControlEntryRecords and lists it under the first matching filter', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    await h.call(() => h.controller.createAcls(3, { creations: [readAlice, writePrefix] }));
    const deleted = await h.call(() => h.controller.deleteAcls(3, {
      filters: [{ ...anyFilter, operation: AclOperation.WRITE }, anyFilter, { ...anyFilter, patternTypeFilter: 0 }],
    }));
    expect(deleted.filterResults.map((result) => result.matchingAcls.map((acl) => acl.operation))).toEqual([[AclOperation.WRITE], [AclOperation.READ], []]);
    expect(deleted.filterResults[2].errorCode).toBe(ErrorCode.INVALID_REQUEST);
    expect(h.controller.committedImage.acls.size).toBe(0);
    expect(recordTypes(h).filter((type) => type === 'RemoveAccessControlEntry')).toHaveLength(2);
  });

  it('answers NOT_CONTROLLER for every creation when it is not the active controller', async () => {
    const h = harness();
    const response = await h.controller.createAcls(3, { creations: [readAlice, writePrefix] });
    expect(response.results.map((result) => result.errorCode)).toEqual([ErrorCode.NOT_CONTROLLER, ErrorCode.NOT_CONTROLLER]);
  });
});

describe('the controller keeps SCRAM credentials as records', () => {
  it('stores StoredKey and ServerKey (never the salted password) that authenticate the password, and removes them', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    const upsert = upsertion('alice', 1, 'alice-secret');
    const altered = await h.call(() => h.controller.alterUserScramCredentials(0, { deletions: [], upsertions: [upsert, upsertion('bob', 2, 'bob-secret')] }));
    expect(altered.results.map((result) => [result.user, result.errorCode])).toEqual([['alice', ErrorCode.NONE], ['bob', ErrorCode.NONE]]);
    const values = h.log.committed.flatMap((batch) => batch.records);
    expect(values.some((value) => value.includes(upsert.saltedPassword))).toBe(false);
    const stored = h.controller.committedImage.scramCredentials.get('alice')?.get(1);
    expect(stored?.iterations).toBe(4096);
    // The stored credential authenticates the password, through a whole SCRAM exchange.
    const server = new ScramServerExchange({ mechanism: 'SCRAM-SHA-256', credential: () => ({ ...(stored as NonNullable<typeof stored>), mechanism: 'SCRAM-SHA-256' }) });
    const client = new ScramClientExchange('SCRAM-SHA-256', 'alice', 'alice-secret');
    const serverFirst = server.evaluate(client.first());
    const serverFinal = server.evaluate(client.final(serverFirst));
    expect(() => client.verify(serverFinal)).not.toThrow();

    const removed = await h.call(() => h.controller.alterUserScramCredentials(0, { deletions: [{ name: 'bob', mechanism: 2 }, { name: 'carol', mechanism: 1 }], upsertions: [] }));
    expect(removed.results.map((result) => [result.user, result.errorCode])).toEqual([['bob', ErrorCode.NONE], ['carol', ErrorCode.RESOURCE_NOT_FOUND]]);
    expect([...h.controller.committedImage.scramCredentials.keys()]).toEqual(['alice']);
    expect(recordTypes(h).filter((type) => type === 'UserScramCredential' || type === 'RemoveUserScramCredential')).toEqual(['UserScramCredential', 'UserScramCredential', 'RemoveUserScramCredential']);
  });

  it('changes nothing of a user with one unacceptable change (one result per user)', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    const response = await h.call(() => h.controller.alterUserScramCredentials(0, { deletions: [], upsertions: [upsertion('alice', 1, 'a'), { ...upsertion('alice', 2, 'b'), iterations: 100 }] }));
    expect(response.results).toEqual([{ user: 'alice', errorCode: ErrorCode.UNACCEPTABLE_CREDENTIAL, errorMessage: expect.any(String) }]);
    expect(h.controller.committedImage.scramCredentials.size).toBe(0);
  });
});

describe('a snapshot of the image', () => {
  it('holds the ACLs and the SCRAM credentials with their ids and keys', async () => {
    const h = harness();
    h.elect();
    await h.commit();
    await h.call(() => h.controller.createAcls(3, { creations: [readAlice, writePrefix] }));
    await h.call(() => h.controller.alterUserScramCredentials(0, { deletions: [], upsertions: [upsertion('alice', 1, 'alice-secret'), upsertion('alice', 2, 'alice-secret')] }));
    const image = h.controller.committedImage;
    const restored = snapshotOf(image);
    expect(restored.acls).toEqual(image.acls);
    expect(restored.scramCredentials).toEqual(image.scramCredentials);
  });
});
