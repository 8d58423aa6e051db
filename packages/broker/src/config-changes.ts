/**
 * AlterConfigs (replace a resource's dynamic configs) and IncrementalAlterConfigs (KIP-339: SET,
 * DELETE, APPEND, SUBTRACT per config) as a broker handles them (Kafka's ConfigAdminManager
 * preprocessing): the request-level checks are the broker's — a resource named twice in one request
 * fails both times, a config named twice fails the resource, null values are refused except for
 * DELETE, an unknown operation is refused, a default topic resource or an illegal topic name is
 * refused, a broker resource must name this broker or be '' (the cluster-wide defaults), broker
 * loggers do not exist — and the rest is forwarded to the controller in the client's version. The
 * controller computes the new set, checks it against the config tables (the same rules, through
 * `controllerConfigValidator`) and commits it; the broker applies it when its metadata image
 * brings it (topic configs on the topic's logs, broker configs on the settings Gregor acts on and
 * every topic's defaults). Errors are Kafka's codes and messages.
 * Single-threaded: handlers call it from the event loop.
 */
import { AclOperation, type ApiKey, ErrorCode, ResourceType } from '@gregor/protocol';
import { isAuthorized, isClusterAuthorized } from './authorization.js';
import type { Broker } from './broker.js';
import type { RequestContext } from './context.js';
import { forwardToController } from './controller-forwarding.js';
import { topicNameProblem } from './topics.js';

/** The two APIs that change configs; the controller answers both with a `responses` list. */
export type AlterConfigsApiKey = typeof ApiKey.AlterConfigs | typeof ApiKey.IncrementalAlterConfigs;

/** Kafka's AlterConfigOp.OpType ids. */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ResourceChange {
  resourceType: number;
  resourceName: string;
  configs: { name: string; value: string | null; configOperation?: number }[];
}

export interface ResourceOutcome {
  errorCode: number;
  errorMessage: string | null;
  resourceType: number;
  resourceName: string;
}

const TOPIC = 2;
const BROKER = 4;
const BROKER_LOGGER = 8;

/**
 * alterConfigs for the resources the request's principal may change (AlterConfigs on the topic, or
 * on the cluster for a broker resource); the others are answered TOPIC_AUTHORIZATION_FAILED or
 * CLUSTER_AUTHORIZATION_FAILED. Answers keep the request's order.
 */
export async function alterAuthorizedConfigs(
  broker: Broker, context: RequestContext, apiKey: AlterConfigsApiKey, apiVersion: number, resources: readonly ResourceChange[], incremental: boolean, validateOnly: boolean,
): Promise<ResourceOutcome[]> {
  const refusal = (resource: ResourceChange): number | null => {
    if (resource.resourceType === TOPIC) {
      return isAuthorized(broker, context, AclOperation.ALTER_CONFIGS, ResourceType.TOPIC, resource.resourceName) ? null : ErrorCode.TOPIC_AUTHORIZATION_FAILED;
    }
    return isClusterAuthorized(broker, context, AclOperation.ALTER_CONFIGS) ? null : ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
  };
  const refusals = resources.map(refusal);
  const allowed = resources.filter((_, index) => refusals[index] === null);
  const answered = allowed.length === 0 ? [] : await alterConfigs(broker, apiKey, apiVersion, allowed, incremental, validateOnly);
  let next = 0;
  return resources.map((resource, index) => {
    const errorCode = refusals[index];
    if (errorCode === null) return answered[next++];
    return { errorCode, errorMessage: null, resourceType: resource.resourceType, resourceName: resource.resourceName };
  });
}

/**
 * Answers each resource: the broker's own refusals at once, the others with the controller's
 * answer for them (REQUEST_TIMED_OUT when it gives none). `apiKey` and `apiVersion` are the
 * client's (AlterConfigs or IncrementalAlterConfigs), forwarded as they came.
 */
export async function alterConfigs(
  broker: Broker, apiKey: AlterConfigsApiKey, apiVersion: number, resources: readonly ResourceChange[], incremental: boolean, validateOnly: boolean,
): Promise<ResourceOutcome[]> {
  const seen = new Map<string, number>();
  for (const resource of resources) {
    const key = `${resource.resourceType}\u0000${resource.resourceName}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  const outcomes = new Map<ResourceChange, ResourceOutcome>();
  const outcome = (resource: ResourceChange, errorCode: number, errorMessage: string | null): ResourceOutcome => ({ errorCode, errorMessage, resourceType: resource.resourceType, resourceName: resource.resourceName });
  for (const resource of resources) {
    if ((seen.get(`${resource.resourceType}\u0000${resource.resourceName}`) ?? 0) > 1) {
      outcomes.set(resource, outcome(resource, ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.'));
      continue;
    }
    const problem = requestProblem(resource, incremental) ?? resourceProblem(broker, resource, incremental);
    if (problem !== null) outcomes.set(resource, outcome(resource, problem.errorCode, problem.errorMessage));
  }
  const forwarded = resources.filter((resource) => !outcomes.has(resource));
  if (forwarded.length > 0) {
    const response = await forwardToController(broker, apiKey, apiVersion, { resources: forwarded, validateOnly });
    const answers: ResourceOutcome[] = response?.responses ?? [];
    for (const resource of forwarded) {
      const answer = answers.find((entry) => entry.resourceType === resource.resourceType && entry.resourceName === resource.resourceName);
      outcomes.set(resource, answer === undefined
        ? outcome(resource, ErrorCode.REQUEST_TIMED_OUT, 'The controller did not answer')
        : outcome(resource, answer.errorCode, answer.errorMessage ?? null));
    }
  }
  return resources.map((resource) => outcomes.get(resource) as ResourceOutcome);
}

function requestProblem(resource: ResourceChange, incremental: boolean): { errorCode: number; errorMessage: string } | null {
  const invalid = (errorMessage: string) => ({ errorCode: ErrorCode.INVALID_REQUEST, errorMessage });
  const names = resource.configs.map((config) => config.name);
  if (new Set(names).size !== names.length) return invalid('Error due to duplicate config keys');
  const nulls = resource.configs.filter((config) => config.value === null && !(incremental && config.configOperation === ConfigOperation.DELETE)).map((config) => config.name);
  if (nulls.length > 0) return invalid(`Null value not supported for : ${nulls.join(', ')}`);
  const unknownOperation = resource.configs.find((config) => incremental && !Object.values(ConfigOperation).includes(config.configOperation as 0));
  if (unknownOperation !== undefined) return invalid(`Unknown operations type ${unknownOperation.configOperation}`);
  return null;
}

function resourceProblem(broker: Broker, resource: ResourceChange, incremental: boolean): { errorCode: number; errorMessage: string } | null {
  if (resource.resourceType === TOPIC) {
    if (resource.resourceName === '') return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Default topic resources are not allowed.' };
    const nameProblem = topicNameProblem(resource.resourceName);
    if (nameProblem !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
    return null;
  }
  if (resource.resourceType === BROKER) {
    if (resource.resourceName === '') return null;
    if (!/^[+-]?\d+$/.test(resource.resourceName)) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Node id must be an integer, but it is: ${resource.resourceName}` };
    if (Number(resource.resourceName) !== broker.nodeId) {
      return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId}, but received ${resource.resourceName}` };
    }
    return null;
  }
  if (resource.resourceType === BROKER_LOGGER && incremental) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Gregor has no log4j loggers to change' };
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown resource type ${resource.resourceType}` };
}
