/**
 * The authorization checks handlers make, as Kafka's KafkaApis makes them (`authHelper.authorize`):
 * each asks whether the request's principal, from its host, may perform an operation on a
 * resource, with Kafka's codes (`@gregor/protocol` acl-codes). The decision is the authorizer's
 * (`@gregor/security`'s StandardAuthorizer over the broker's ACLs, turned on by a non-empty
 * `authorizer.class.name`); without an authorizer everything is allowed, as in Kafka.
 *
 * Requests without a principal come from this process (the in-process client of an embedded
 * Gregor, the console): they are the application itself and are not checked; every request from a
 * socket carries one (`User:ANONYMOUS` at the least).
 */
import { AclOperation, type AclOperationCode, CLUSTER_RESOURCE_NAME, ResourceType, type ResourceTypeCode } from '@gregor/protocol';
import type { RequestContext } from './context.js';

/** What decides (the StandardAuthorizer has this shape). */
export interface RequestAuthorizer {
  authorize(request: { principal: string; host: string; operation: AclOperationCode; resourceType: ResourceTypeCode; resourceName: string }): boolean;
  /** Whether the principal may perform `operation` on some resource of the type (Kafka's `authorizeByResourceType`, KIP-679). */
  authorizeByResourceType(request: { principal: string; host: string; operation: AclOperationCode; resourceType: ResourceTypeCode }): boolean;
}

/** The value of an authorized-operations field that was not asked for (Kafka's Int.MinValue). */
export const AUTHORIZED_OPERATIONS_OMITTED = -2147483648;

/**
 * The operations an authorized-operations field reports per resource type (Kafka 3's
 * `AclEntry.supportedOperations`; Kafka 3.8+ adds DescribeConfigs and AlterConfigs for groups,
 * which Gregor has no configs for).
 */
export const SUPPORTED_OPERATIONS: Readonly<Partial<Record<ResourceTypeCode, readonly AclOperationCode[]>>> = Object.freeze({
  [ResourceType.TOPIC]: [AclOperation.READ, AclOperation.WRITE, AclOperation.CREATE, AclOperation.DESCRIBE, AclOperation.DELETE, AclOperation.ALTER, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS],
  [ResourceType.GROUP]: [AclOperation.READ, AclOperation.DESCRIBE, AclOperation.DELETE],
  [ResourceType.CLUSTER]: [AclOperation.CREATE, AclOperation.CLUSTER_ACTION, AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS, AclOperation.IDEMPOTENT_WRITE, AclOperation.ALTER, AclOperation.DESCRIBE],
  [ResourceType.TRANSACTIONAL_ID]: [AclOperation.DESCRIBE, AclOperation.WRITE],
});

export interface AuthorizingBroker {
  readonly authorizer: RequestAuthorizer | undefined;
}

/** Whether the caller may perform `operation` on the resource. */
export function isAuthorized(broker: AuthorizingBroker, context: RequestContext, operation: AclOperationCode, resourceType: ResourceTypeCode, resourceName: string): boolean {
  if (broker.authorizer === undefined || context.principal === undefined) return true;
  return broker.authorizer.authorize({ principal: context.principal, host: hostOf(context), operation, resourceType, resourceName });
}

/**
 * Kafka's authorized-operations bit field for a resource: bit `1 << code` set for each supported
 * operation the caller may perform (every supported one without an authorizer or principal).
 */
export function authorizedOperations(broker: AuthorizingBroker, context: RequestContext, resourceType: ResourceTypeCode, resourceName: string): number {
  let bits = 0;
  for (const operation of SUPPORTED_OPERATIONS[resourceType] ?? []) {
    if (isAuthorized(broker, context, operation, resourceType, resourceName)) bits |= 1 << operation;
  }
  return bits;
}

/** Whether the caller may perform `operation` on some resource of the type (KIP-679). */
export function isAuthorizedByResourceType(broker: AuthorizingBroker, context: RequestContext, operation: AclOperationCode, resourceType: ResourceTypeCode): boolean {
  if (broker.authorizer === undefined || context.principal === undefined) return true;
  return broker.authorizer.authorizeByResourceType({ principal: context.principal, host: hostOf(context), operation, resourceType });
}

export function isClusterAuthorized(broker: AuthorizingBroker, context: RequestContext, operation: AclOperationCode): boolean {
  return isAuthorized(broker, context, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** The client's address as ACLs name hosts: `127.0.0.1` (the context has `/127.0.0.1`). */
function hostOf(context: RequestContext): string {
  const host = context.clientHost ?? '';
  return host.startsWith('/') ? host.slice(1) : host;
}
