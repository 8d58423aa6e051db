/**
 * Dynamic configs of topics and brokers (Kafka's ConfigurationControlManager):
 * IncrementalAlterConfigs (KIP-339: SET, DELETE, APPEND, SUBTRACT one config at a time) and the
 * legacy AlterConfigs (replace a resource's whole set). Each change becomes ConfigRecords (a null
 * value deletes); the resource's resulting configs are checked by the injected validator, which
 * knows the broker's config table. Resource types other than TOPIC and BROKER are refused.
 */
import type { AlterConfigsRequest, AlterConfigsResponse, IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse } from '@gregor/protocol';
import { ErrorCode } from '@gregor/protocol';
import { ConfigResourceType, type MetadataRecordInput } from '../records.js';
import type { ControlContext, ControllerResult } from './context.js';
import { apiErrorOf, ControllerError } from './errors.js';
import type { ConfigResource } from './interfaces.js';
import { validateTopicName } from './topic-control.js';

/** Kafka's AlterConfigOp.OpType. */
export const ConfigOperation = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

type ResourceResult = IncrementalAlterConfigsResponse['responses'][number];

/** INVALID_REQUEST for a resource the controller does not keep; BROKER_ID_NOT_REGISTERED / UNKNOWN_TOPIC_OR_PARTITION for one that does not exist. */
function checkResource(context: ControlContext, resource: ConfigResource): void {
  if (resource.resourceType === ConfigResourceType.TOPIC) {
    if (resource.resourceName === '') throw new ControllerError('INVALID_REQUEST', 'Default topic resources are not allowed.');
    validateTopicName(resource.resourceName);
    if (context.image.topic(resource.resourceName) === undefined) {
      throw new ControllerError('UNKNOWN_TOPIC_OR_PARTITION', `The topic '${resource.resourceName}' does not exist.`);
    }
    return;
  }
  if (resource.resourceType === ConfigResourceType.BROKER) {
    if (resource.resourceName === '') return;
    if (!/^\d+$/.test(resource.resourceName)) throw new ControllerError('INVALID_REQUEST', 'Unable to parse broker name as a base 10 number.');
    const nodeId = Number(resource.resourceName);
    if (!context.image.brokers.has(nodeId) && nodeId !== context.config.nodeId) throw new ControllerError('BROKER_ID_NOT_REGISTERED', `No node with id ${nodeId} found.`);
    return;
  }
  throw new ControllerError('INVALID_REQUEST', `Unknown resource type ${resource.resourceType}`);
}

function configRecord(resource: ConfigResource, name: string, value: string | null): MetadataRecordInput {
  return { type: 'Config', resourceType: resource.resourceType, resourceName: resource.resourceName, name, value };
}

/** Validates the resource's configs after `changes` (name → new value, null: deleted). */
function validateChanges(context: ControlContext, resource: ConfigResource, changes: ReadonlyMap<string, string | null>): void {
  const current = context.image.configs.get(`${resource.resourceType}:${resource.resourceName}`) ?? new Map<string, string>();
  const next = new Map(current);
  for (const [name, value] of changes) {
    if (value === null) next.delete(name);
    else next.set(name, value);
  }
  const error = context.validator.validate(resource, next);
  if (error !== null) throw new ControllerError(error.errorCode, error.message);
}

/** A resource listed twice in one request gets INVALID_REQUEST for each occurrence (as Kafka's ControllerApis). */
function duplicateResources(resources: readonly ConfigResource[]): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const resource of resources) {
    const key = `${resource.resourceType}:${resource.resourceName}`;
    if (seen.has(key)) duplicates.add(key);
    seen.add(key);
  }
  return duplicates;
}

/** IncrementalAlterConfigs. With validateOnly the same checks run and nothing is written. */
export function incrementalAlterConfigs(context: ControlContext, request: IncrementalAlterConfigsRequest): ControllerResult<IncrementalAlterConfigsResponse> {
  const records: MetadataRecordInput[] = [];
  const responses: ResourceResult[] = [];
  const duplicates = duplicateResources(request.resources);
  for (const entry of request.resources) {
    const resource = { resourceType: entry.resourceType, resourceName: entry.resourceName };
    try {
      if (duplicates.has(`${resource.resourceType}:${resource.resourceName}`)) throw new ControllerError('INVALID_REQUEST', 'Duplicate resource.');
      checkResource(context, resource);
      const changes = new Map<string, string | null>();
      const current = context.image.configs.get(`${resource.resourceType}:${resource.resourceName}`);
      for (const config of entry.configs) {
        if (changes.has(config.name)) throw new ControllerError('INVALID_REQUEST', `Error due to duplicate config keys: ${config.name}`);
        changes.set(config.name, nextValue(context, resource, current?.get(config.name) ?? null, config));
      }
      validateChanges(context, resource, changes);
      for (const [name, value] of changes) {
        // Broker configs are written even when unchanged, so brokers reload them (KAFKA-14136).
        if (value !== (current?.get(name) ?? null) || resource.resourceType === ConfigResourceType.BROKER) records.push(configRecord(resource, name, value));
      }
      responses.push({ errorCode: ErrorCode.NONE, errorMessage: null, ...resource });
    } catch (error) {
      const { errorCode, message } = apiErrorOf(error);
      responses.push({ errorCode, errorMessage: message, ...resource });
    }
  }
  return { records: request.validateOnly ? [] : records, response: { throttleTimeMs: 0, responses } };
}

function nextValue(
  context: ControlContext,
  resource: ConfigResource,
  currentValue: string | null,
  config: IncrementalAlterConfigsRequest['resources'][number]['configs'][number],
): string | null {
  switch (config.configOperation) {
    case ConfigOperation.SET:
      if (config.value === null) throw new ControllerError('INVALID_CONFIG', `Null value not supported for : ${config.name}`);
      return config.value;
    case ConfigOperation.DELETE:
      return null;
    case ConfigOperation.APPEND:
    case ConfigOperation.SUBTRACT: {
      if (!context.validator.isList(resource.resourceType, config.name)) {
        const operation = config.configOperation === ConfigOperation.APPEND ? 'APPEND' : 'SUBTRACT';
        throw new ControllerError('INVALID_CONFIG', `Can't ${operation} to key ${config.name} because its type is not LIST.`);
      }
      const base = currentValue ?? context.validator.defaultValue(resource.resourceType, config.name) ?? '';
      const parts = base.split(',').filter((part) => part.length > 0);
      const operands = (config.value ?? '').split(',');
      if (config.configOperation === ConfigOperation.APPEND) {
        for (const value of operands) if (!parts.includes(value)) parts.push(value);
      } else {
        for (const value of operands) {
          const index = parts.indexOf(value);
          if (index >= 0) parts.splice(index, 1);
        }
      }
      return parts.join(',');
    }
    default:
      throw new ControllerError('INVALID_REQUEST', `Unknown config operation ${config.configOperation}`);
  }
}

/** AlterConfigs (legacy): each resource's dynamic configs become exactly the given ones. */
export function alterConfigs(context: ControlContext, request: AlterConfigsRequest): ControllerResult<AlterConfigsResponse> {
  const records: MetadataRecordInput[] = [];
  const responses: AlterConfigsResponse['responses'] = [];
  const duplicates = duplicateResources(request.resources);
  for (const entry of request.resources) {
    const resource = { resourceType: entry.resourceType, resourceName: entry.resourceName };
    try {
      if (duplicates.has(`${resource.resourceType}:${resource.resourceName}`)) throw new ControllerError('INVALID_REQUEST', 'Duplicate resource.');
      checkResource(context, resource);
      const current = context.image.configs.get(`${resource.resourceType}:${resource.resourceName}`) ?? new Map<string, string>();
      const changes = new Map<string, string | null>();
      for (const config of entry.configs) {
        if (changes.has(config.name)) throw new ControllerError('INVALID_REQUEST', `Error due to duplicate config keys: ${config.name}`);
        if (config.value === null && resource.resourceType === ConfigResourceType.TOPIC) {
          throw new ControllerError('INVALID_CONFIG', `Null value not supported for topic configs: ${config.name}`);
        }
        changes.set(config.name, config.value);
      }
      const explicit = [...changes].filter(([name, value]) => value !== (current.get(name) ?? null) || resource.resourceType === ConfigResourceType.BROKER);
      // Configs the request does not name are deleted.
      const implicit = [...current.keys()].filter((name) => !changes.has(name));
      for (const name of implicit) changes.set(name, null);
      validateChanges(context, resource, changes);
      for (const [name, value] of explicit) records.push(configRecord(resource, name, value));
      for (const name of implicit) records.push(configRecord(resource, name, null));
      responses.push({ errorCode: ErrorCode.NONE, errorMessage: null, ...resource });
    } catch (error) {
      const { errorCode, message } = apiErrorOf(error);
      responses.push({ errorCode, errorMessage: message, ...resource });
    }
  }
  return { records: request.validateOnly ? [] : records, response: { throttleTimeMs: 0, responses } };
}
