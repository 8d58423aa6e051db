/**
 * AlterClientQuotas (API key 49), versions 0-1 (KIP-546).
 * Sets (or with remove, deletes) quotas of user, client-id, user+client-id or ip entities (a null
 * name is the type's default entity), checked as Kafka's controller checks them (known entity
 * types and combinations, keys valid for the entity, values above 0 and whole for integral keys:
 * INVALID_REQUEST otherwise). Each entry succeeds or fails alone; validateOnly changes nothing.
 * Quotas are stored in the data dir and survive restarts.
 * Deviations: quotas are not enforced (no request is throttled); an ip entity must be an IP
 * address (Gregor does not resolve host names); throttleTimeMs is 0.
 * Authorization: AlterConfigs on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
 */
import { AclOperation, ErrorCode, type AlterClientQuotasRequest, type AlterClientQuotasResponseInput } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import { alterClientQuota, sameEntity } from '../client-quotas.js';
import type { RequestContext } from '../context.js';
import type { Entry } from './types.js';

type EntryAnswer = Entry<AlterClientQuotasResponseInput['entries']>;

export function handleAlterClientQuotas(broker: Broker, _apiVersion: number, request: AlterClientQuotasRequest, context: RequestContext = {}): AlterClientQuotasResponseInput {
  if (!isClusterAuthorized(broker, context, AclOperation.ALTER_CONFIGS)) {
    return { throttleTimeMs: 0, entries: request.entries.map((entry): EntryAnswer => ({ errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, errorMessage: null, entity: entry.entity })) };
  }
  let quotas = broker.clientQuotas;
  const entries = request.entries.map((entry, index) => {
    const answer = (errorCode: number, errorMessage: string | null): EntryAnswer => ({ errorCode, errorMessage, entity: entry.entity });
    if (request.entries.some((other, position) => position !== index && sameEntity(other.entity, entry.entity))) {
      return answer(ErrorCode.INVALID_REQUEST, 'Ignoring duplicate entity');
    }
    const next = alterClientQuota(quotas, entry.entity, entry.ops);
    if ('errorCode' in next) return answer(next.errorCode, next.errorMessage);
    quotas = next;
    return answer(ErrorCode.NONE, null);
  });
  if (request.validateOnly) return { throttleTimeMs: 0, entries };
  // One file holds every quota: if the disk refuses it, none of the changes is made.
  const stored = broker.setClientQuotas(quotas);
  if (stored !== ErrorCode.NONE) {
    return { throttleTimeMs: 0, entries: entries.map((entry) => (entry.errorCode === ErrorCode.NONE ? { ...entry, errorCode: stored, errorMessage: 'The quotas could not be written to disk' } : entry)) };
  }
  return { throttleTimeMs: 0, entries };
}
