/**
 * How AlterConfigs (replace a resource's dynamic configs) and IncrementalAlterConfigs (KIP-339:
 * SET, DELETE, APPEND, SUBTRACT per config) change a topic or a broker resource, as Kafka's
 * ConfigAdminManager (request checks) and ConfigurationControlManager (the new set of configs)
 * do: a resource named twice in one request fails both times, a config named twice fails the
 * resource, null values are refused except for DELETE, APPEND and SUBTRACT apply to list configs
 * only (starting from the config's default when it is not set), a broker resource must name this
 * broker or be '' (the cluster-wide defaults). The new set is then checked and applied by the
 * Broker (alterTopicConfigs, alterBrokerConfigs). Errors are Kafka's codes and messages.
 * Single-threaded: handlers call it from the event loop.
 */
import { ErrorCode } from '@gregor/protocol';
import { brokerConfigsByName } from './broker-config-table.js';
import type { Broker } from './broker.js';
import { topicConfigsByName } from './topic-config-table.js';
import { topicNameProblem } from './topics.js';

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
 * Applies each resource's change. `incremental` selects IncrementalAlterConfigs' semantics
 * (otherwise the given configs replace the resource's own configs, as legacy AlterConfigs).
 */
export function alterConfigs(broker: Broker, resources: readonly ResourceChange[], incremental: boolean, validateOnly: boolean): ResourceOutcome[] {
  const seen = new Map<string, number>();
  for (const resource of resources) {
    const key = `${resource.resourceType}\u0000${resource.resourceName}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  }
  return resources.map((resource) => {
    const outcome = (errorCode: number, errorMessage: string | null): ResourceOutcome => ({ errorCode, errorMessage, resourceType: resource.resourceType, resourceName: resource.resourceName });
    if ((seen.get(`${resource.resourceType}\u0000${resource.resourceName}`) ?? 0) > 1) return outcome(ErrorCode.INVALID_REQUEST, 'Each resource must appear at most once.');
    const problem = requestProblem(resource, incremental);
    if (problem !== null) return outcome(ErrorCode.INVALID_REQUEST, problem);
    const result = alterResource(broker, resource, incremental, validateOnly);
    return outcome(result.errorCode, result.errorMessage);
  });
}

function requestProblem(resource: ResourceChange, incremental: boolean): string | null {
  const names = resource.configs.map((config) => config.name);
  if (new Set(names).size !== names.length) return 'Error due to duplicate config keys';
  const nulls = resource.configs.filter((config) => config.value === null && !(incremental && config.configOperation === ConfigOperation.DELETE)).map((config) => config.name);
  if (nulls.length > 0) return `Null value not supported for : ${nulls.join(', ')}`;
  const unknownOperation = resource.configs.find((config) => incremental && !Object.values(ConfigOperation).includes(config.configOperation as 0));
  if (unknownOperation !== undefined) return `Unknown operations type ${unknownOperation.configOperation}`;
  return null;
}

function alterResource(broker: Broker, resource: ResourceChange, incremental: boolean, validateOnly: boolean): { errorCode: number; errorMessage: string | null } {
  if (resource.resourceType === TOPIC) {
    if (resource.resourceName === '') return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Default topic resources are not allowed.' };
    const nameProblem = topicNameProblem(resource.resourceName);
    if (nameProblem !== null) return { errorCode: ErrorCode.INVALID_TOPIC_EXCEPTION, errorMessage: nameProblem };
    const topic = broker.topics.get(resource.resourceName);
    if (topic === undefined) return { errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${resource.resourceName} does not exist` };
    const next = newConfigs(topic.configs, resource, incremental, (name) => topicListDefault(name));
    if (typeof next === 'string') return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: next };
    return broker.alterTopicConfigs(resource.resourceName, next, validateOnly);
  }
  if (resource.resourceType === BROKER) {
    if (resource.resourceName !== '') {
      if (!/^[+-]?\d+$/.test(resource.resourceName)) return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Node id must be an integer, but it is: ${resource.resourceName}` };
      if (Number(resource.resourceName) !== broker.nodeId) {
        return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unexpected broker id, expected ${broker.nodeId}, but received ${resource.resourceName}` };
      }
    }
    const storedName = resource.resourceName === '' ? '' : String(broker.nodeId);
    const next = newConfigs(broker.dynamicBrokerConfigs(storedName), resource, incremental, (name) => brokerListDefault(name));
    if (typeof next === 'string') return { errorCode: ErrorCode.INVALID_CONFIG, errorMessage: next };
    return broker.alterBrokerConfigs(storedName, next, validateOnly);
  }
  if (resource.resourceType === BROKER_LOGGER && incremental) {
    return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: 'Gregor has no log4j loggers to change' };
  }
  return { errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unknown resource type ${resource.resourceType}` };
}

/**
 * The resource's configs after the change, or an INVALID_CONFIG message. `listDefault` gives a
 * list config's default (undefined: the config is not a list), which APPEND and SUBTRACT start
 * from when the config is not set.
 */
function newConfigs(
  current: Readonly<Record<string, string>>, resource: ResourceChange, incremental: boolean, listDefault: (name: string) => string | undefined,
): Record<string, string> | string {
  if (!incremental) {
    const replaced: Record<string, string> = {};
    for (const config of resource.configs) replaced[config.name] = config.value as string;
    return replaced;
  }
  const next: Record<string, string> = { ...current };
  for (const config of resource.configs) {
    const { name, value } = config;
    switch (config.configOperation) {
      case ConfigOperation.SET:
        next[name] = value as string;
        break;
      case ConfigOperation.DELETE:
        delete next[name];
        break;
      default: {
        const operation = config.configOperation === ConfigOperation.APPEND ? 'APPEND' : 'SUBTRACT';
        const base = next[name] ?? listDefault(name);
        if (listDefault(name) === undefined) return `Can't ${operation} to key ${name} because its type is not LIST.`;
        const items = (base ?? '').split(',').filter((item) => item !== '');
        const given = (value as string).split(',');
        const result = operation === 'APPEND' ? [...items, ...given.filter((item) => !items.includes(item))] : items.filter((item) => !given.includes(item));
        next[name] = result.join(',');
      }
    }
  }
  return next;
}

function topicListDefault(name: string): string | undefined {
  const definition = topicConfigsByName.get(name);
  return definition?.type === 'list' ? definition.default : undefined;
}

function brokerListDefault(name: string): string | undefined {
  const definition = brokerConfigsByName.get(name);
  return definition?.type === 'list' ? (definition.default ?? '') : undefined;
}
