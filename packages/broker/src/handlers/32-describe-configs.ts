/**
 * DescribeConfigs (API key 32), versions 0-4.
 * Topic resources (type 2) list every topic config Kafka defines that we honour, with its source
 * (TOPIC_CONFIG when the topic sets it, else DEFAULT_CONFIG / STATIC_BROKER_CONFIG), and the
 * broker synonym when includeSynonyms (v1+). Broker resources (type 4, name = our node id or empty)
 * list the broker settings under Kafka's dotted names. configurationKeys null means all.
 * Deviations: broker configs are reported as STATIC_BROKER_CONFIG (there are no dynamic
 * configs); documentation (v3+) is null; throttleTimeMs is 0.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import { brokerConfigDefaults, topicConfigDefinitions } from '../config.js';
import type { Body } from '../context.js';
import { topicConfigRecord } from '../replica-manager.js';

export const ResourceType = { topic: 2, broker: 4 } as const;
export const ConfigSource = { topicConfig: 1, staticBrokerConfig: 4, defaultConfig: 5 } as const;
const ConfigType = { boolean: 1, string: 2, int: 3, long: 5, list: 7 } as const;

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

export function handleDescribeConfigs(broker: Broker, _apiVersion: number, body: Body): Body {
  const includeSynonyms = body.includeSynonyms === true;
  const results = (body.resources ?? []).map((resource: Body) => {
    const keys: string[] | null = resource.configurationKeys ?? null;
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    if (resource.resourceType === ResourceType.topic) {
      if (broker.image.topic(resource.resourceName) === undefined) return { ...base, errorCode: ErrorCode.UNKNOWN_TOPIC_OR_PARTITION, errorMessage: `Topic ${resource.resourceName} does not exist`, configs: [] };
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs: describeTopicConfigs(broker, topicConfigRecord(broker.image, resource.resourceName), keys, includeSynonyms) };
    }
    if (resource.resourceType === ResourceType.broker) {
      if (resource.resourceName !== '' && resource.resourceName !== String(broker.nodeId)) {
        return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `This is broker ${broker.nodeId}`, configs: [] };
      }
      return { ...base, errorCode: ErrorCode.NONE, errorMessage: null, configs: describeBrokerConfigs(broker, keys) };
    }
    return { ...base, errorCode: ErrorCode.INVALID_REQUEST, errorMessage: `Unsupported resource type ${resource.resourceType}`, configs: [] };
  });
  return { throttleTimeMs: 0, results };
}

export function describeTopicConfigs(broker: Broker, topicConfigs: Readonly<Record<string, string>>, keys: readonly string[] | null, includeSynonyms: boolean): ConfigEntry[] {
  const names = Object.keys(topicConfigDefinitions).filter((name) => keys === null || keys.includes(name));
  return names.map((name) => {
    const definition = topicConfigDefinitions[name];
    const own = topicConfigs[name];
    const brokerValue = definition.brokerDefault(broker.config);
    const synonyms = [];
    if (own !== undefined) synonyms.push({ name, value: own, source: ConfigSource.topicConfig });
    if (definition.synonym !== undefined) synonyms.push({ name: definition.synonym, value: brokerValue, source: ConfigSource.defaultConfig });
    return {
      name,
      value: own ?? brokerValue,
      readOnly: false,
      isDefault: own === undefined,
      configSource: own === undefined ? ConfigSource.defaultConfig : ConfigSource.topicConfig,
      isSensitive: false,
      synonyms: includeSynonyms ? synonyms : [],
      configType: ConfigType[definition.type === 'boolean' ? 'boolean' : definition.type],
      documentation: null,
    };
  });
}

/** `autoCreateTopicsEnable` → `auto.create.topics.enable`. */
export function kafkaConfigName(camelCase: string): string {
  return camelCase.replace(/[A-Z]/g, (letter) => `.${letter.toLowerCase()}`);
}

function describeBrokerConfigs(broker: Broker, keys: readonly string[] | null): ConfigEntry[] {
  const entries: ConfigEntry[] = [];
  for (const [field, value] of Object.entries(broker.config)) {
    const name = kafkaConfigName(field);
    if (keys !== null && !keys.includes(name)) continue;
    const isDefault = value === (brokerConfigDefaults as unknown as Record<string, unknown>)[field];
    const type = typeof value === 'boolean' ? ConfigType.boolean : typeof value === 'number' ? ConfigType.long : ConfigType.string;
    entries.push({
      name, value: String(value), readOnly: true, isDefault,
      configSource: isDefault ? ConfigSource.defaultConfig : ConfigSource.staticBrokerConfig,
      isSensitive: false, synonyms: [], configType: type, documentation: null,
    });
  }
  return entries;
}
