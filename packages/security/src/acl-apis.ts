/**
 * CreateAcls (30), DescribeAcls (29) and DeleteAcls (31), v1-v3, with Kafka's answers: a binding
 * or filter that cannot be used gets INVALID_REQUEST with Kafka's message (per creation, per
 * filter, or for the whole DescribeAcls); DescribeAcls groups the matching bindings by resource
 * pattern; creating a binding that exists already succeeds and adds nothing.
 *
 * The decisions are pure plans over the current bindings (`planCreateAcls`, `planDeleteAcls`),
 * shared by both places ACLs live: a single broker's ACL file (`createAcls` / `deleteAcls` below
 * apply a plan to the AclStore, and the authorizer decides with the new set at once) and a
 * cluster's metadata log (the active controller turns a plan into AccessControlEntryRecords and
 * RemoveAccessControlEntryRecords). Pure apart from those two store functions.
 */
import { ErrorCode } from '@gregor/protocol';
import type {
  AclOperationCode, AclPermissionTypeCode, CreateAclsRequest, CreateAclsResponseInput, DeleteAclsRequest, DeleteAclsResponseInput, DescribeAclsRequest,
  DescribeAclsResponseInput, PatternTypeCode, ResourceTypeCode,
} from '@gregor/protocol';
import { type AclBinding, type AclBindingFilter, aclBindingProblem, aclFilterProblem, filterMatches, sameBinding } from './acl.js';
import type { AclStore } from './acl-store.js';
import type { StandardAuthorizer } from './standard-authorizer.js';

/** What CreateAcls answers and which bindings it adds (valid, not present yet, each once). */
export function planCreateAcls(existing: readonly AclBinding[], request: CreateAclsRequest): { response: CreateAclsResponseInput; added: AclBinding[] } {
  const added: AclBinding[] = [];
  const results = request.creations.map((creation) => {
    const binding: AclBinding = {
      resourceType: creation.resourceType as ResourceTypeCode, resourceName: creation.resourceName, patternType: creation.resourcePatternType as PatternTypeCode,
      principal: creation.principal, host: creation.host, operation: creation.operation as AclOperationCode, permissionType: creation.permissionType as AclPermissionTypeCode,
    };
    const problem = aclBindingProblem(binding);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
    if (!existing.some((other) => sameBinding(other, binding)) && !added.some((other) => sameBinding(other, binding))) added.push(binding);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  });
  return { response: { throttleTimeMs: 0, results }, added };
}

/**
 * What DeleteAcls answers and which bindings it removes: each binding counts for the first usable
 * filter that matches it (Kafka lists it under that filter only).
 */
export function planDeleteAcls<T extends AclBinding>(existing: readonly T[], request: DeleteAclsRequest): { response: DeleteAclsResponseInput; removed: T[] } {
  const filters = request.filters.map((f): AclBindingFilter => ({
    resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter,
    principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
  }));
  const problems = filters.map((filter) => aclFilterProblem(filter));
  const matched: T[][] = filters.map(() => []);
  const removed: T[] = [];
  for (const binding of existing) {
    const index = filters.findIndex((filter, i) => problems[i] === null && filterMatches(filter, binding));
    if (index < 0) continue;
    matched[index].push(binding);
    removed.push(binding);
  }
  const filterResults = filters.map((_filter, index) => {
    const problem = problems[index];
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] };
    return {
      errorCode: ErrorCode.NONE, errorMessage: null,
      matchingAcls: matched[index].map((b) => ({
        errorCode: ErrorCode.NONE, errorMessage: null, resourceType: b.resourceType, resourceName: b.resourceName, patternType: b.patternType,
        principal: b.principal, host: b.host, operation: b.operation, permissionType: b.permissionType,
      })),
    };
  });
  return { response: { throttleTimeMs: 0, filterResults }, removed };
}

/** CreateAcls on a single broker: the plan written to the ACL file, then given to the authorizer. */
export function createAcls(store: AclStore, authorizer: StandardAuthorizer, request: CreateAclsRequest): CreateAclsResponseInput {
  const { response, added } = planCreateAcls(store.acls, request);
  if (added.length > 0) {
    store.add(added);
    authorizer.replace(store.acls);
  }
  return response;
}

/** DescribeAcls over any set of bindings (the ACL file's, or the metadata image's). */
export function describeAcls(acls: readonly AclBinding[], request: DescribeAclsRequest): DescribeAclsResponseInput {
  const filter: AclBindingFilter = {
    resourceType: request.resourceTypeFilter, resourceName: request.resourceNameFilter, patternType: request.patternTypeFilter,
    principal: request.principalFilter, host: request.hostFilter, operation: request.operation, permissionType: request.permissionType,
  };
  const problem = aclFilterProblem(filter);
  if (problem !== null) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, resources: [] };
  const byPattern = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: { principal: string; host: string; operation: number; permissionType: number }[] }>();
  for (const binding of acls) {
    if (!filterMatches(filter, binding)) continue;
    const key = `${binding.resourceType}\u0000${binding.patternType}\u0000${binding.resourceName}`;
    let entry = byPattern.get(key);
    if (entry === undefined) byPattern.set(key, (entry = { resourceType: binding.resourceType, resourceName: binding.resourceName, patternType: binding.patternType, acls: [] }));
    entry.acls.push({ principal: binding.principal, host: binding.host, operation: binding.operation, permissionType: binding.permissionType });
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...byPattern.values()] };
}

/** DeleteAcls on a single broker: the plan's bindings removed from the ACL file, then from the authorizer. */
export function deleteAcls(store: AclStore, authorizer: StandardAuthorizer, request: DeleteAclsRequest): DeleteAclsResponseInput {
  const { response, removed } = planDeleteAcls(store.acls, request);
  if (removed.length > 0) {
    store.removeBindings(removed);
    authorizer.replace(store.acls);
  }
  return response;
}
