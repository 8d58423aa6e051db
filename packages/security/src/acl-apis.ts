/**
 * CreateAcls (30), DescribeAcls (29) and DeleteAcls (31), v1-v3, over the ACL store, with Kafka's
 * answers: a binding or filter that cannot be used gets INVALID_REQUEST with Kafka's message (per
 * creation, per filter, or for the whole DescribeAcls); DescribeAcls groups the matching bindings
 * by resource pattern. After a change the authorizer decides with the new set at once.
 */
import { ErrorCode } from '@gregor/protocol';
import type {
  AclOperationCode, AclPermissionTypeCode, CreateAclsRequest, CreateAclsResponseInput, DeleteAclsRequest, DeleteAclsResponseInput, DescribeAclsRequest,
  DescribeAclsResponseInput, PatternTypeCode, ResourceTypeCode,
} from '@gregor/protocol';
import { type AclBinding, type AclBindingFilter, aclBindingProblem, aclFilterProblem, filterMatches } from './acl.js';
import type { AclStore } from './acl-store.js';
import type { StandardAuthorizer } from './standard-authorizer.js';

export function createAcls(store: AclStore, authorizer: StandardAuthorizer, request: CreateAclsRequest): CreateAclsResponseInput {
  const accepted: AclBinding[] = [];
  const results = request.creations.map((creation) => {
    const binding: AclBinding = {
      resourceType: creation.resourceType as ResourceTypeCode, resourceName: creation.resourceName, patternType: creation.resourcePatternType as PatternTypeCode,
      principal: creation.principal, host: creation.host, operation: creation.operation as AclOperationCode, permissionType: creation.permissionType as AclPermissionTypeCode,
    };
    const problem = aclBindingProblem(binding);
    if (problem !== null) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem };
    accepted.push(binding);
    return { errorCode: ErrorCode.NONE, errorMessage: null };
  });
  if (accepted.length > 0) {
    store.add(accepted);
    authorizer.replace(store.acls);
  }
  return { throttleTimeMs: 0, results };
}

export function describeAcls(store: AclStore, request: DescribeAclsRequest): DescribeAclsResponseInput {
  const filter: AclBindingFilter = {
    resourceType: request.resourceTypeFilter, resourceName: request.resourceNameFilter, patternType: request.patternTypeFilter,
    principal: request.principalFilter, host: request.hostFilter, operation: request.operation, permissionType: request.permissionType,
  };
  const problem = aclFilterProblem(filter);
  if (problem !== null) return { throttleTimeMs: 0, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, resources: [] };
  const byPattern = new Map<string, { resourceType: number; resourceName: string; patternType: number; acls: { principal: string; host: string; operation: number; permissionType: number }[] }>();
  for (const binding of store.acls) {
    if (!filterMatches(filter, binding)) continue;
    const key = `${binding.resourceType}\u0000${binding.patternType}\u0000${binding.resourceName}`;
    let entry = byPattern.get(key);
    if (entry === undefined) byPattern.set(key, (entry = { resourceType: binding.resourceType, resourceName: binding.resourceName, patternType: binding.patternType, acls: [] }));
    entry.acls.push({ principal: binding.principal, host: binding.host, operation: binding.operation, permissionType: binding.permissionType });
  }
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, resources: [...byPattern.values()] };
}

export function deleteAcls(store: AclStore, authorizer: StandardAuthorizer, request: DeleteAclsRequest): DeleteAclsResponseInput {
  const filters: (AclBindingFilter | null)[] = request.filters.map((f) => {
    const filter: AclBindingFilter = {
      resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter,
      principal: f.principalFilter, host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
    };
    return aclFilterProblem(filter) === null ? filter : null;
  });
  const usable = filters.filter((filter): filter is AclBindingFilter => filter !== null);
  const removed = store.remove(usable);
  authorizer.replace(store.acls);
  let next = 0;
  const filterResults = request.filters.map((f, index) => {
    const filter = filters[index];
    if (filter === null) {
      const problem = aclFilterProblem({
        resourceType: f.resourceTypeFilter, resourceName: f.resourceNameFilter, patternType: f.patternTypeFilter, principal: f.principalFilter,
        host: f.hostFilter, operation: f.operation, permissionType: f.permissionType,
      });
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: problem, matchingAcls: [] };
    }
    const matched = removed[next++];
    return {
      errorCode: ErrorCode.NONE, errorMessage: null,
      matchingAcls: matched.map((b) => ({ errorCode: ErrorCode.NONE, errorMessage: null, ...b, patternType: b.patternType })),
    };
  });
  return { throttleTimeMs: 0, filterResults };
}
