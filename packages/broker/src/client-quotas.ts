/**
 * Client quotas (KIP-546): which entities may carry quotas (user, client-id, both, or ip; a null
 * name is that type's default entity), which quota keys each takes (producer_byte_rate,
 * consumer_byte_rate, request_percentage, controller_mutation_rate; connection_creation_rate for
 * ip) and their checks, how an AlterClientQuotas entry changes the stored quotas, and which
 * entities a DescribeClientQuotas filter matches (Kafka's ClientQuotaControlManager and
 * ClientQuotasImage, with their error messages). Gregor stores and describes quotas but does not
 * enforce them: no request is throttled. Pure functions over ClientQuotaRecord lists.
 */
import { isIP } from 'node:net';
import { ErrorCode } from '@gregor/protocol';
import type { ClientQuotaRecord } from './topic-store.js';

export type QuotaEntity = ClientQuotaRecord['entity'];

/** Quota keys and their Kafka types (QuotaConfig): integral ones refuse fractions. */
const USER_AND_CLIENT_KEYS: Readonly<Record<string, 'long' | 'double'>> = {
  producer_byte_rate: 'long', consumer_byte_rate: 'long', request_percentage: 'double', controller_mutation_rate: 'double',
};
const IP_KEYS: Readonly<Record<string, 'int'>> = { connection_creation_rate: 'int' };

const ENTITY_TYPES = ['user', 'client-id', 'ip'] as const;

export interface QuotaProblem {
  errorCode: number;
  errorMessage: string;
}

/** The entity in a canonical order (user, client-id, ip), so equal entities compare equal. */
export function canonicalEntity(entity: QuotaEntity): QuotaEntity {
  return [...entity].sort((a, b) => ENTITY_TYPES.indexOf(a.entityType as 'user') - ENTITY_TYPES.indexOf(b.entityType as 'user'));
}

export function sameEntity(a: QuotaEntity, b: QuotaEntity): boolean {
  if (a.length !== b.length) return false;
  const left = canonicalEntity(a);
  const right = canonicalEntity(b);
  return left.every((part, index) => part.entityType === right[index]?.entityType && part.entityName === right[index]?.entityName);
}

/** Kafka's validateEntity and configKeysForEntityType: returns the quota keys the entity takes, or the problem. */
function entityKeys(entity: QuotaEntity): { keys: Readonly<Record<string, string>> } | QuotaProblem {
  const invalid = (errorMessage: string): QuotaProblem => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });
  if (entity.length === 0) return invalid('Invalid empty client quota entity');
  const types = new Set<string>();
  for (const { entityType } of entity) {
    if (types.has(entityType)) return invalid(`Invalid client quota entity, duplicate entity entry ${entityType}`);
    if (!(ENTITY_TYPES as readonly string[]).includes(entityType)) return invalid(`Unhandled client quota entity type: ${entityType}`);
    types.add(entityType);
  }
  if (types.has('ip')) {
    if (types.size > 1) return invalid('Invalid quota entity combination, IP entity shouldnot be combined with User or ClientId');
    const ip = entity[0]?.entityName ?? null;
    if (ip !== null && isIP(ip) === 0) return invalid(`${ip} is not a valid IP or resolvable host.`);
    return { keys: IP_KEYS };
  }
  return { keys: USER_AND_CLIENT_KEYS };
}

/** Kafka's validateQuotaKeyValue. */
function valueProblem(keys: Readonly<Record<string, string>>, key: string, value: number): QuotaProblem | null {
  const invalid = (errorMessage: string): QuotaProblem => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });
  const type = keys[key];
  if (type === undefined) return invalid(`Invalid configuration key ${key}`);
  if (!(value > 0)) return invalid(`Quota ${key} must be greater than 0`);
  if (type === 'int' && value > 2_147_483_647) return invalid(`Proposed value for ${key} is too large for an INT.`);
  if (type === 'long' && value > 2 ** 63) return invalid(`Proposed value for ${key} is too large for a LONG.`);
  if (type !== 'double' && Math.abs(value % 1) > 1e-6) return invalid(`${key} cannot be a fractional value.`);
  return null;
}

/**
 * Applies one AlterClientQuotas entry (`remove` ops delete a key) to `quotas`; returns the new
 * list, or the problem (nothing changes then).
 */
export function alterClientQuota(quotas: readonly ClientQuotaRecord[], entity: QuotaEntity, ops: readonly { key: string; value: number; remove: boolean }[]): ClientQuotaRecord[] | QuotaProblem {
  const checked = entityKeys(entity);
  if ('errorCode' in checked) return checked;
  const { keys } = checked;
  const seen = new Set<string>();
  for (const op of ops) {
    if (seen.has(op.key)) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Duplicate quota key ${op.key} not updating quota for this entity` };
    seen.add(op.key);
    if (!op.remove) {
      const problem = valueProblem(keys, op.key, op.value);
      if (problem !== null) return problem;
    }
  }
  const index = quotas.findIndex((quota) => sameEntity(quota.entity, entity));
  const values = { ...(index < 0 ? {} : quotas[index]?.values) };
  for (const op of ops) {
    if (op.remove) delete values[op.key];
    else values[op.key] = op.value;
  }
  const next = quotas.filter((_, position) => position !== index);
  if (Object.keys(values).length > 0) next.push({ entity: canonicalEntity(entity), values });
  return next;
}

/** One DescribeClientQuotas filter component: matchType 0 exact name, 1 the default entity, 2 any name. */
export interface QuotaFilterComponent {
  entityType: string;
  matchType: number;
  match: string | null;
}

/** Kafka's ClientQuotasImage.describe: the entities matching the filter, or the problem. */
export function describeClientQuotas(quotas: readonly ClientQuotaRecord[], components: readonly QuotaFilterComponent[], strict: boolean): ClientQuotaRecord[] | QuotaProblem {
  const invalid = (errorMessage: string, errorCode: number = ErrorCode.INVALID_REQUEST): QuotaProblem => ({ errorCode, errorMessage });
  const exact = new Map<string, string | null>();
  const anyName = new Set<string>();
  for (const component of components) {
    const { entityType, matchType, match } = component;
    if (entityType === '') return invalid('Invalid empty entity type.');
    if (exact.has(entityType) || anyName.has(entityType)) return invalid(`Entity type ${entityType} cannot appear more than once in the filter.`);
    if (!(ENTITY_TYPES as readonly string[]).includes(entityType)) return invalid(`Unsupported entity type ${entityType}`, ErrorCode.UNSUPPORTED_VERSION);
    if (matchType === 0) {
      if (match === null) return invalid('Request specified MATCH_TYPE_EXACT, but set match string to null.');
      exact.set(entityType, match);
    } else if (matchType === 1) {
      if (match !== null) return invalid('Request specified MATCH_TYPE_DEFAULT, but also specified a match string.');
      exact.set(entityType, null);
    } else if (matchType === 2) {
      if (match !== null) return invalid('Request specified MATCH_TYPE_SPECIFIED, but also specified a match string.');
      anyName.add(entityType);
    } else {
      return invalid(`Unknown match type ${matchType}`);
    }
  }
  const uses = (type: string) => exact.has(type) || anyName.has(type);
  if (uses('ip') && (uses('user') || uses('client-id'))) {
    return invalid('Invalid entity filter component combination. IP filter component should not be used with user or clientId filter component.');
  }
  return quotas.filter(({ entity }) => {
    if (strict && entity.length !== exact.size + anyName.size) return false;
    for (const [type, name] of exact) if (!entity.some((part) => part.entityType === type && part.entityName === name)) return false;
    for (const type of anyName) if (!entity.some((part) => part.entityType === type)) return false;
    return true;
  });
}
