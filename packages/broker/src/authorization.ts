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
import { type AclOperationCode, CLUSTER_RESOURCE_NAME, ResourceType, type ResourceTypeCode } from '@gregor/protocol';
import type { RequestContext } from './context.js';

/** What decides (the StandardAuthorizer has this shape). */
export interface RequestAuthorizer {
  authorize(request: { principal: string; host: string; operation: AclOperationCode; resourceType: ResourceTypeCode; resourceName: string }): boolean;
}

export interface AuthorizingBroker {
  readonly authorizer: RequestAuthorizer | undefined;
}

/** Whether the caller may perform `operation` on the resource. */
export function isAuthorized(broker: AuthorizingBroker, context: RequestContext, operation: AclOperationCode, resourceType: ResourceTypeCode, resourceName: string): boolean {
  if (broker.authorizer === undefined || context.principal === undefined) return true;
  return broker.authorizer.authorize({ principal: context.principal, host: hostOf(context), operation, resourceType, resourceName });
}

export function isClusterAuthorized(broker: AuthorizingBroker, context: RequestContext, operation: AclOperationCode): boolean {
  return isAuthorized(broker, context, operation, ResourceType.CLUSTER, CLUSTER_RESOURCE_NAME);
}

/** The client's address as ACLs name hosts: `127.0.0.1` (the context has `/127.0.0.1`). */
function hostOf(context: RequestContext): string {
  const host = context.clientHost ?? '';
  return host.startsWith('/') ? host.slice(1) : host;
}
