/**
 * ACL bindings as Kafka models them: a resource pattern (resource type, name, pattern type literal
 * or prefixed) and an access control entry (principal, host, operation, permission allow or deny),
 * and the filters DescribeAcls and DeleteAcls match them with. Codes are Kafka's
 * (`@gregor/protocol` acl-codes). Pure functions and plain data.
 */
import {
  AclOperation, type AclOperationCode, AclPermissionType, type AclPermissionTypeCode, CLUSTER_RESOURCE_NAME, PatternType, type PatternTypeCode, ResourceType,
  type ResourceTypeCode, WILDCARD_RESOURCE,
} from '@gregor/protocol';
import { parsePrincipal } from './principal.js';

export interface AclBinding {
  resourceType: ResourceTypeCode;
  resourceName: string;
  patternType: PatternTypeCode;
  principal: string;
  host: string;
  operation: AclOperationCode;
  permissionType: AclPermissionTypeCode;
}

/** A filter: `ANY` codes and null strings match everything; pattern `MATCH` matches the bindings that apply to `resourceName`. */
export interface AclBindingFilter {
  resourceType: number;
  resourceName: string | null;
  patternType: number;
  principal: string | null;
  host: string | null;
  operation: number;
  permissionType: number;
}

export const WILDCARD_PRINCIPAL = 'User:*';
export const WILDCARD_HOST = '*';

/** Why a binding cannot be stored (Kafka answers INVALID_REQUEST with this), or null. */
export function aclBindingProblem(binding: AclBinding): string | null {
  const concreteTypes: number[] = [ResourceType.TOPIC, ResourceType.GROUP, ResourceType.CLUSTER, ResourceType.TRANSACTIONAL_ID, ResourceType.DELEGATION_TOKEN, ResourceType.USER];
  if (!concreteTypes.includes(binding.resourceType)) return `Invalid resource type ${binding.resourceType}`;
  if (binding.patternType !== PatternType.LITERAL && binding.patternType !== PatternType.PREFIXED) return `Invalid pattern type ${binding.patternType}`;
  if (binding.resourceName === '') return 'Resource name should not be empty';
  if (binding.resourceType === ResourceType.CLUSTER && binding.resourceName !== CLUSTER_RESOURCE_NAME) return `The only valid name for the CLUSTER resource is ${CLUSTER_RESOURCE_NAME}`;
  if (binding.operation < AclOperation.ALL || binding.operation > AclOperation.DESCRIBE_TOKENS) return `Invalid operation ${binding.operation}`;
  if (binding.permissionType !== AclPermissionType.ALLOW && binding.permissionType !== AclPermissionType.DENY) return `Invalid permission type ${binding.permissionType}`;
  if (parsePrincipal(binding.principal) === null) return `Could not parse principal from \`${binding.principal}\` (no colon is present separating the principal type from the principal name)`;
  if (binding.host === '') return 'Invalid host: the host must not be empty (use * for any host)';
  return null;
}

/** Why a filter is not usable (DescribeAcls / DeleteAcls answer INVALID_REQUEST), or null. */
export function aclFilterProblem(filter: AclBindingFilter): string | null {
  if (filter.resourceType === ResourceType.UNKNOWN || filter.resourceType > ResourceType.USER) return `Invalid resource type filter ${filter.resourceType}`;
  if (filter.patternType === PatternType.UNKNOWN || filter.patternType > PatternType.PREFIXED) return `Invalid pattern type filter ${filter.patternType}`;
  if (filter.operation === AclOperation.UNKNOWN || filter.operation > AclOperation.DESCRIBE_TOKENS) return `Invalid operation filter ${filter.operation}`;
  if (filter.permissionType === AclPermissionType.UNKNOWN || filter.permissionType > AclPermissionType.ALLOW) return `Invalid permission type filter ${filter.permissionType}`;
  return null;
}

/** Whether a binding's pattern applies to a resource named `name` of its type (wildcard, literal, prefix). */
export function patternMatchesName(binding: Pick<AclBinding, 'resourceName' | 'patternType'>, name: string): boolean {
  if (binding.patternType === PatternType.LITERAL) return binding.resourceName === name || binding.resourceName === WILDCARD_RESOURCE;
  return binding.patternType === PatternType.PREFIXED && name.startsWith(binding.resourceName);
}

export function filterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  if (filter.resourceType !== ResourceType.ANY && filter.resourceType !== binding.resourceType) return false;
  if (!patternFilterMatches(filter, binding)) return false;
  if (filter.principal !== null && filter.principal !== binding.principal) return false;
  if (filter.host !== null && filter.host !== binding.host) return false;
  if (filter.operation !== AclOperation.ANY && filter.operation !== binding.operation) return false;
  return filter.permissionType === AclPermissionType.ANY || filter.permissionType === binding.permissionType;
}

function patternFilterMatches(filter: AclBindingFilter, binding: AclBinding): boolean {
  switch (filter.patternType) {
    case PatternType.ANY:
      return filter.resourceName === null || filter.resourceName === binding.resourceName;
    case PatternType.MATCH:
      return filter.resourceName === null || patternMatchesName(binding, filter.resourceName);
    default:
      return filter.patternType === binding.patternType && (filter.resourceName === null || filter.resourceName === binding.resourceName);
  }
}

export function sameBinding(a: AclBinding, b: AclBinding): boolean {
  return a.resourceType === b.resourceType && a.resourceName === b.resourceName && a.patternType === b.patternType && a.principal === b.principal
    && a.host === b.host && a.operation === b.operation && a.permissionType === b.permissionType;
}

const OPERATION_NAMES = Object.fromEntries(Object.entries(AclOperation).map(([name, code]) => [code, name])) as Record<number, string>;
const RESOURCE_NAMES = Object.fromEntries(Object.entries(ResourceType).map(([name, code]) => [code, name])) as Record<number, string>;
const PATTERN_NAMES = Object.fromEntries(Object.entries(PatternType).map(([name, code]) => [code, name])) as Record<number, string>;
const PERMISSION_NAMES = Object.fromEntries(Object.entries(AclPermissionType).map(([name, code]) => [code, name])) as Record<number, string>;

export const aclNames = {
  operation: (code: number) => OPERATION_NAMES[code] ?? 'UNKNOWN',
  resourceType: (code: number) => RESOURCE_NAMES[code] ?? 'UNKNOWN',
  patternType: (code: number) => PATTERN_NAMES[code] ?? 'UNKNOWN',
  permissionType: (code: number) => PERMISSION_NAMES[code] ?? 'UNKNOWN',
};

/** A code from Kafka's name, in any case and with '_' or not ('Read', 'IdempotentWrite', 'TRANSACTIONAL_ID'). */
export function aclCode(kind: 'operation' | 'resourceType' | 'patternType' | 'permissionType', name: string): number | undefined {
  const table = { operation: AclOperation, resourceType: ResourceType, patternType: PatternType, permissionType: AclPermissionType }[kind] as Record<string, number>;
  const wanted = name.replace(/[_-]/g, '').toUpperCase();
  const found = Object.entries(table).find(([key]) => key.replace(/_/g, '') === wanted);
  return found?.[1];
}
