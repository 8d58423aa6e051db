/**
 * The Admin's config and quota requests, in kafkajs's shapes where kafkajs has them
 * (describeConfigs, alterConfigs) and Kafka's Java Admin names otherwise (incrementalAlterConfigs,
 * describeClientQuotas, alterClientQuotas). Broker resources go to the broker they name (an empty
 * name, the cluster-wide defaults, to any broker); other resources to the controller, as kafkajs
 * does. Errors in a response become KafkaProtocolError.
 */
import { Api } from './api.js';
import type { Cluster } from './cluster.js';
import { throwIfError } from './errors.js';
import type { Body } from './transport.js';

/** kafkajs's ConfigResourceTypes. */
export const ConfigResourceTypes = { UNKNOWN: 0, TOPIC: 2, BROKER: 4, BROKER_LOGGER: 8 } as const;

/** Kafka's DescribeConfigsResponse.ConfigSource ids, as kafkajs exports them. */
export const ConfigSource = {
  UNKNOWN: 0, TOPIC_CONFIG: 1, DYNAMIC_BROKER_CONFIG: 2, DYNAMIC_DEFAULT_BROKER_CONFIG: 3, STATIC_BROKER_CONFIG: 4, DEFAULT_CONFIG: 5, DYNAMIC_BROKER_LOGGER_CONFIG: 6,
} as const;

/** Kafka's AlterConfigOp.OpType. */
export const AlterConfigOpTypes = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface ConfigResourceQuery {
  type: number;
  name: string;
  /** The configs to describe, in the order wanted; absent or empty: all. */
  configNames?: string[];
}

export interface ConfigEntryDescription {
  configName: string;
  configValue: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  configSynonyms: { configName: string; configValue: string | null; configSource: number }[];
  /** Kafka's config type id (KIP-569); 0 when the broker does not say. */
  configType: number;
  /** Set when `includeDocumentation` was asked for. */
  documentation: string | null;
}

export interface AlterableConfigResource {
  type: number;
  name: string;
  configEntries: { name: string; value: string | null }[];
}

export interface IncrementalConfigResource {
  type: number;
  name: string;
  configEntries: { name: string; value?: string | null; operation: keyof typeof AlterConfigOpTypes | number }[];
}

/** Sends each group of resources to the broker that must answer it; returns the responses' resources in order. */
async function perBroker<T extends { type: number; name: string }>(cluster: Cluster, resources: T[], send: (nodeId: number | undefined, group: T[]) => Promise<Body[]>): Promise<Body[]> {
  const groups = new Map<number | undefined, T[]>();
  for (const resource of resources) {
    const isBroker = (resource.type === ConfigResourceTypes.BROKER || resource.type === ConfigResourceTypes.BROKER_LOGGER) && resource.name !== '';
    const nodeId = isBroker ? Number(resource.name) : undefined;
    groups.set(nodeId, [...(groups.get(nodeId) ?? []), resource]);
  }
  const results: Body[] = [];
  for (const [nodeId, group] of groups) results.push(...(await send(nodeId, group)));
  return results;
}

export async function describeConfigs(cluster: Cluster, { resources, includeSynonyms = false, includeDocumentation = false }: { resources: ConfigResourceQuery[]; includeSynonyms?: boolean; includeDocumentation?: boolean }) {
  await cluster.connect();
  const results = await perBroker(cluster, resources, async (nodeId, group) => {
    const response = await cluster.request(Api.DescribeConfigs, {
      resources: group.map((r) => ({ resourceType: r.type, resourceName: r.name, configurationKeys: r.configNames === undefined || r.configNames.length === 0 ? null : r.configNames })),
      includeSynonyms,
      includeDocumentation,
    }, nodeId === undefined ? undefined : { nodeId });
    return response.results;
  });
  return {
    resources: results.map((r: Body) => {
      throwIfError(r.errorCode, `${r.resourceName}: ${r.errorMessage ?? ''}`);
      return {
        errorCode: r.errorCode as number,
        errorMessage: r.errorMessage as string | null,
        resourceType: r.resourceType as number,
        resourceName: r.resourceName as string,
        configEntries: (r.configs as Body[]).map((c: Body): ConfigEntryDescription => ({
          configName: c.name,
          configValue: c.value,
          readOnly: c.readOnly,
          isDefault: c.configSource === undefined || c.configSource < 0 ? c.isDefault : c.configSource === ConfigSource.DEFAULT_CONFIG,
          configSource: c.configSource,
          isSensitive: c.isSensitive,
          configSynonyms: (c.synonyms ?? []).map((s: Body) => ({ configName: s.name, configValue: s.value, configSource: s.source })),
          configType: c.configType ?? 0,
          documentation: c.documentation ?? null,
        })),
      };
    }),
  };
}

function outcomes(responses: Body[]) {
  return responses.map((r: Body) => {
    throwIfError(r.errorCode, `${r.resourceName}: ${r.errorMessage ?? ''}`);
    return { errorCode: r.errorCode as number, errorMessage: r.errorMessage as string | null, resourceType: r.resourceType as number, resourceName: r.resourceName as string };
  });
}

/** kafkajs's alterConfigs: replaces each resource's dynamic configs with the given ones. */
export async function alterConfigs(cluster: Cluster, { resources, validateOnly = false }: { resources: AlterableConfigResource[]; validateOnly?: boolean }) {
  await cluster.connect();
  const responses = await perBroker(cluster, resources, async (nodeId, group) => {
    const response = await cluster.request(Api.AlterConfigs, {
      resources: group.map((r) => ({ resourceType: r.type, resourceName: r.name, configs: r.configEntries.map((c) => ({ name: c.name, value: c.value })) })),
      validateOnly,
    }, nodeId === undefined ? undefined : { nodeId });
    return response.responses;
  });
  return { resources: outcomes(responses) };
}

/** Kafka's Admin.incrementalAlterConfigs: SET, DELETE, APPEND or SUBTRACT single configs. */
export async function incrementalAlterConfigs(cluster: Cluster, { resources, validateOnly = false }: { resources: IncrementalConfigResource[]; validateOnly?: boolean }) {
  await cluster.connect();
  const responses = await perBroker(cluster, resources, async (nodeId, group) => {
    const response = await cluster.request(Api.IncrementalAlterConfigs, {
      resources: group.map((r) => ({
        resourceType: r.type,
        resourceName: r.name,
        configs: r.configEntries.map((c) => ({ name: c.name, value: c.value ?? null, configOperation: typeof c.operation === 'number' ? c.operation : AlterConfigOpTypes[c.operation] })),
      })),
      validateOnly,
    }, nodeId === undefined ? undefined : { nodeId });
    return response.responses;
  });
  return { resources: outcomes(responses) };
}

export interface QuotaEntityPart {
  entityType: 'user' | 'client-id' | 'ip' | string;
  /** null: the default entity of that type. */
  entityName: string | null;
}

/** Kafka's Admin.describeClientQuotas: `matchType` 0 exact name, 1 default entity, 2 any name. */
export async function describeClientQuotas(cluster: Cluster, { components, strict = false }: { components: { entityType: string; matchType: number; match?: string | null }[]; strict?: boolean }) {
  const response = await cluster.request(Api.DescribeClientQuotas, { components: components.map((c) => ({ entityType: c.entityType, matchType: c.matchType, match: c.match ?? null })), strict });
  throwIfError(response.errorCode, response.errorMessage);
  return (response.entries ?? []).map((entry: Body) => ({
    entity: entry.entity.map((part: Body): QuotaEntityPart => ({ entityType: part.entityType, entityName: part.entityName })),
    values: Object.fromEntries(entry.values.map((value: Body) => [value.key, value.value])) as Record<string, number>,
  }));
}

/** Kafka's Admin.alterClientQuotas: each op sets a quota, or removes it with `remove: true` (or `value: null`). */
export async function alterClientQuotas(cluster: Cluster, { entries, validateOnly = false }: { entries: { entity: QuotaEntityPart[]; ops: { key: string; value?: number | null; remove?: boolean }[] }[]; validateOnly?: boolean }) {
  const response = await cluster.request(Api.AlterClientQuotas, {
    entries: entries.map((entry) => ({
      entity: entry.entity,
      ops: entry.ops.map((op) => ({ key: op.key, value: op.value ?? 0, remove: op.remove === true || op.value === null || op.value === undefined })),
    })),
    validateOnly,
  });
  return response.entries.map((entry: Body) => {
    throwIfError(entry.errorCode, entry.errorMessage);
    return { entity: entry.entity as QuotaEntityPart[], errorCode: entry.errorCode as number };
  });
}

/** Kafka's Admin.describeLogDirs: each broker's log directories with the size of each partition. */
export async function describeLogDirs(cluster: Cluster, { topics }: { topics?: { topic: string; partitions: number[] }[] } = {}) {
  await cluster.refreshMetadata([]);
  const described = [];
  for (const { nodeId } of cluster.brokers) {
    const response = await cluster.request(Api.DescribeLogDirs, { topics: topics === undefined ? null : topics.map((t) => ({ topic: t.topic, partitions: t.partitions })) }, { nodeId });
    throwIfError(response.errorCode);
    described.push({
      broker: nodeId,
      logDirs: response.results.map((result: Body) => {
        throwIfError(result.errorCode, result.logDir);
        return {
          logDir: result.logDir as string,
          totalBytes: result.totalBytes as number,
          usableBytes: result.usableBytes as number,
          topics: result.topics.map((t: Body) => ({
            topic: t.name as string,
            partitions: t.partitions.map((p: Body) => ({ partition: p.partitionIndex as number, size: p.partitionSize as number, offsetLag: p.offsetLag as number, isFuture: p.isFutureKey as boolean })),
          })),
        };
      }),
    });
  }
  return described;
}
