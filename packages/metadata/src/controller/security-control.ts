/**
 * ACLs and SCRAM credentials in the metadata log (Kafka's AclControlManager and
 * ScramControlManager): CreateAcls, DeleteAcls and AlterUserScramCredentials decided from the
 * image, with the same checks and answers a single broker gives (@gregor/security's plans), and
 * written as records:
 *   - a new binding: AccessControlEntryRecord with a fresh id (a binding present already adds
 *     nothing, as Kafka); a deleted one: RemoveAccessControlEntryRecord naming its id;
 *   - an upserted credential: UserScramCredentialRecord (salt, StoredKey, ServerKey, iterations:
 *     the salted password of the request is not kept); a deleted one:
 *     RemoveUserScramCredentialRecord.
 * DescribeAcls and DescribeUserScramCredentials are answered by each broker from its own image.
 * Pure functions from a context to records and a response.
 */
import type {
  AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse, CreateAclsRequest, CreateAclsResponse, DeleteAclsRequest, DeleteAclsResponse,
} from '@gregor/protocol';
import { type AclBinding, planAlterUserScramCredentials, planCreateAcls, planDeleteAcls, SCRAM_MECHANISMS, type ScramMechanism } from '@gregor/security';
import type { AclEntry, MetadataImage } from '../image.js';
import type { MetadataRecordInput } from '../records.js';
import type { ControlContext, ControllerResult } from './context.js';
import type { Random } from './interfaces.js';
import { randomUuid } from './topic-control.js';

/** The image's ACL entries as bindings (the same fields; the codes are Kafka's). */
export function aclBindingsOf(image: MetadataImage): (AclBinding & { id: string })[] {
  return [...image.acls.values()] as (AclEntry & AclBinding)[];
}

export function createAcls(context: ControlContext, request: CreateAclsRequest): ControllerResult<CreateAclsResponse> {
  const { response, added } = planCreateAcls(aclBindingsOf(context.image), request);
  const taken = new Set(context.image.acls.keys());
  const records: MetadataRecordInput[] = added.map((binding) => {
    const id = newAclId(context.random, taken);
    taken.add(id);
    return { type: 'AccessControlEntry', id, ...binding };
  });
  return { records, response: response as CreateAclsResponse };
}

export function deleteAcls(context: ControlContext, request: DeleteAclsRequest): ControllerResult<DeleteAclsResponse> {
  const { response, removed } = planDeleteAcls(aclBindingsOf(context.image), request);
  return { records: removed.map((binding) => ({ type: 'RemoveAccessControlEntry', id: binding.id })), response: response as DeleteAclsResponse };
}

export function alterUserScramCredentials(context: ControlContext, request: AlterUserScramCredentialsRequest): ControllerResult<AlterUserScramCredentialsResponse> {
  const exists = (name: string, mechanism: ScramMechanism) => context.image.scramCredentials.get(name)?.has(SCRAM_MECHANISMS[mechanism].type) === true;
  const { response, changes } = planAlterUserScramCredentials(exists, request);
  const records: MetadataRecordInput[] = [
    ...changes.deletions.map(({ username, mechanism }): MetadataRecordInput => ({ type: 'RemoveUserScramCredential', name: username, mechanism: SCRAM_MECHANISMS[mechanism].type })),
    ...changes.upserts.map(({ username, credential }): MetadataRecordInput => ({
      type: 'UserScramCredential', name: username, mechanism: SCRAM_MECHANISMS[credential.mechanism].type,
      salt: credential.salt, storedKey: credential.storedKey, serverKey: credential.serverKey, iterations: credential.iterations,
    })),
  ];
  return { records, response: response as AlterUserScramCredentialsResponse };
}

/** A fresh ACL id (Kafka's AclControlManager draws Uuid.randomUuid()): not the zero uuid, not one in use. */
function newAclId(random: Random, taken: ReadonlySet<string>): string {
  for (;;) {
    const { id } = randomUuid(random);
    if (id !== '00000000-0000-0000-0000-000000000000' && !taken.has(id)) return id;
  }
}
