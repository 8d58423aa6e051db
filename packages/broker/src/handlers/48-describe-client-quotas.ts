/**
 * DescribeClientQuotas (API key 48), versions 0-1 (KIP-546).
 * Answers the stored quotas of the entities matching the filter: each component names an entity
 * type (user, client-id, ip) and matches one name (0), the default entity (1) or any name (2);
 * strict requires the entity to have exactly those types. INVALID_REQUEST for a malformed filter,
 * UNSUPPORTED_VERSION for an unknown entity type (as Kafka).
 * Deviations: quotas are stored and described but not enforced (no request is throttled);
 * throttleTimeMs is 0.
 * Authorization: DescribeConfigs on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type DescribeClientQuotasRequest, type DescribeClientQuotasResponseInput } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import { describeClientQuotas } from '../client-quotas.js';
import type { RequestContext } from '../context.js';
import type { Entry } from './types.js';

type EntryAnswer = Entry<DescribeClientQuotasResponseInput['entries']>;

export function handleDescribeClientQuotas(broker: Broker, _apiVersion: number, request: DescribeClientQuotasRequest, context: RequestContext = {}): DescribeClientQuotasResponseInput {
  if (!isClusterAuthorized(broker, context, AclOperation.DESCRIBE_CONFIGS)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entries: null };
  const matched = describeClientQuotas(broker.clientQuotas, request.components, request.strict);
  if ('errorCode' in matched) return { throttleTimeMs: 0, errorCode: matched.errorCode, errorMessage: matched.errorMessage, entries: null };
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    errorMessage: null,
    entries: matched.map((quota): EntryAnswer => ({ entity: quota.entity, values: Object.entries(quota.values).map(([key, value]): Entry<EntryAnswer['values']> => ({ key, value })) })),
  };
}
