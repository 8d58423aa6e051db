/**
 * DescribeConfigs' entries, as Kafka's ConfigHelper builds them: a topic config's value (the
 * topic's own setting, else its broker default), source and synonyms; a broker config's value,
 * source, synonyms, whether it may be changed dynamically (readOnly) and whether it is sensitive
 * (passwords are never returned); the config type (KIP-569) and, when asked, the documentation,
 * which says whether Gregor acts on the config. Values are Kafka's strings exactly. Pure functions
 * over a BrokerConfigView.
 */
import { type BrokerConfigDefinition, brokerConfigsByName, brokerConfigTable } from './broker-config-table.js';
import { type BrokerConfigView, type ConfigSetting, ConfigSource } from './broker-config-view.js';
import { brokerSettings } from './config-properties.js';
import { CONFIG_TYPE_IDS } from './config-types.js';
import { topicConfigDocumentation, topicConfigsByName, topicConfigTable, type TopicConfigDefinition } from './topic-config-table.js';

export interface ConfigEntry {
  name: string;
  value: string | null;
  readOnly: boolean;
  /** DescribeConfigs v0's flag: the value is the default. */
  isDefault: boolean;
  configSource: number;
  isSensitive: boolean;
  synonyms: { name: string; value: string | null; source: number }[];
  configType: number;
  documentation: string | null;
}

export interface DescribeOptions {
  includeSynonyms: boolean;
  includeDocumentation: boolean;
}

/** A topic config's effective value: the topic's own setting, else its broker default. */
export function topicConfigValue(name: string, overrides: Readonly<Record<string, string>>, view: BrokerConfigView): string {
  const own = overrides[name];
  if (own !== undefined) return own;
  const definition = topicConfigsByName.get(name);
  if (definition === undefined) throw new TypeError(`unknown topic config ${name}`);
  return view.topicDefault(definition);
}

/**
 * The names a DescribeConfigs resource asks for, in the order asked (each once), among `known`;
 * null or an empty list means all of `known` (Kafka treats empty like null).
 */
export function namesToDescribe(keys: readonly string[] | null, known: readonly string[]): string[] {
  if (keys === null || keys.length === 0) return [...known];
  const knownSet = new Set(known);
  return [...new Set(keys)].filter((key) => knownSet.has(key));
}

/** Every topic config, in Kafka's LogConfig order. */
export function topicConfigNames(): string[] {
  return topicConfigTable.map((definition) => definition.name);
}

export function describeTopicConfig(name: string, overrides: Readonly<Record<string, string>>, view: BrokerConfigView, options: DescribeOptions): ConfigEntry {
  const definition = topicConfigsByName.get(name) as TopicConfigDefinition;
  const own = overrides[name];
  const brokerSynonym = definition.brokerSynonyms[0]?.name;
  const synonyms: ConfigSetting[] = [
    ...(own === undefined ? [] : [{ name, value: own, source: ConfigSource.TOPIC_CONFIG }]),
    ...(brokerSynonym === undefined ? [] : view.synonymsOf(brokerSynonym)),
  ];
  const configSource = synonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
  return {
    name,
    value: own ?? view.topicDefault(definition),
    readOnly: false,
    isDefault: configSource === ConfigSource.DEFAULT_CONFIG,
    configSource,
    isSensitive: false,
    synonyms: options.includeSynonyms ? synonyms.map(({ name: synonymName, value, source }) => ({ name: synonymName, value, source })) : [],
    configType: CONFIG_TYPE_IDS[definition.type],
    documentation: options.includeDocumentation ? topicConfigDocumentation(definition) : null,
  };
}

/**
 * The broker configs DescribeConfigs lists for this broker: every one Kafka defines, plus the
 * internal and dynamic-only ones and listener overrides that are set, by name.
 */
export function brokerConfigNames(view: BrokerConfigView): string[] {
  const names = new Set(brokerConfigTable.filter((definition) => (definition.internal !== true && definition.dynamicOnly !== true) || view.isSet(definition.name)).map((definition) => definition.name));
  const { perBroker, clusterDefault } = view.dynamicConfigs;
  for (const name of [...Object.keys(perBroker), ...Object.keys(clusterDefault)]) names.add(name);
  return [...names].sort();
}

/**
 * One broker config. `perBroker` false describes the cluster-wide dynamic default (resource name
 * ''): then only dynamic defaults count, as Kafka's createBrokerConfigEntry.
 */
export function describeBrokerConfig(name: string, view: BrokerConfigView, perBroker: boolean, options: DescribeOptions): ConfigEntry {
  const definition = definitionOf(name);
  const isSensitive = definition?.type === 'password';
  const allSynonyms = view.synonymsOf(name).filter((synonym) => perBroker || synonym.source === ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
  const configSource = allSynonyms[0]?.source ?? ConfigSource.DEFAULT_CONFIG;
  const value = perBroker ? view.value(name).value : (view.dynamicConfigs.clusterDefault[name] ?? null);
  return {
    name,
    value: isSensitive ? null : value,
    readOnly: definition === undefined || (definition.mode === 'read-only' && definition.dynamicOnly !== true),
    isDefault: configSource === ConfigSource.DEFAULT_CONFIG,
    configSource,
    isSensitive,
    synonyms: options.includeSynonyms ? allSynonyms.map((synonym) => ({ name: synonym.name, value: isSensitive ? null : synonym.value, source: synonym.source })) : [],
    configType: definition === undefined ? 0 : CONFIG_TYPE_IDS[definition.type],
    documentation: options.includeDocumentation ? brokerConfigDocumentation(name) : null,
  };
}

/** The definition of a broker config, or of the setting a `listener.name.<listener>.` override overrides. */
function definitionOf(name: string): BrokerConfigDefinition | undefined {
  return brokerConfigsByName.get(name) ?? brokerConfigsByName.get(/^listener\.name\.[^.]+\.(.+)$/.exec(name)?.[1] ?? '');
}

/** The settings the node (not the broker) acts on: parsed and kept, for the node's wiring. */
const CLUSTER_WORK_SETTINGS: ReadonlySet<string> = new Set([
  'process.roles', 'controller.quorum.voters', 'controller.quorum.bootstrap.servers', 'listeners', 'advertised.listeners',
  'controller.listener.names', 'inter.broker.listener.name', 'listener.security.protocol.map',
]);

/** Our description of a broker config and whether Gregor acts on it. */
export function brokerConfigDocumentation(name: string): string {
  const definition = definitionOf(name);
  const doc = definition?.doc ?? 'A listener-specific override.';
  if (CLUSTER_WORK_SETTINGS.has(name)) return `${doc} Gregor parses and keeps it for running several brokers; a single broker does not act on it yet.`;
  if (brokerSettings[name] !== undefined) return doc;
  return `${doc} Gregor accepts, stores and reports this setting but does not act on it.`;
}
