/**
 * Every broker config's current value as a Kafka string and where it comes from, in Kafka's order
 * of precedence (KIP-226): a dynamic config of this broker, the dynamic cluster default, the
 * static config the broker started with (`staticBrokerConfigs`, or a BrokerConfig field given in
 * code), then the default. Topic configs take their default from their broker synonyms through it
 * (Kafka's KafkaConfig.extractLogConfigMap), so a topic's value and the log's behaviour come from
 * one place. Applying dynamic configs also updates the typed BrokerConfig fields Gregor acts on.
 * The dynamic configs themselves are stored by the TopicStore; this class holds them in memory.
 * Single-threaded: the broker calls it from the event loop.
 */
import { type BrokerConfigDefinition, brokerConfigsByName } from './broker-config-table.js';
import { type BrokerConfig, brokerConfigDefaults } from './config.js';
import { brokerSettings, brokerSettingValue } from './config-properties.js';
import { javaDoubleToString, longConfigString } from './config-types.js';
import type { TopicConfigDefinition } from './topic-config-table.js';

/** DescribeConfigs' configSource ids (Kafka's DescribeConfigsResponse.ConfigSource). */
export const ConfigSource = {
  TOPIC_CONFIG: 1,
  DYNAMIC_BROKER_CONFIG: 2,
  DYNAMIC_DEFAULT_BROKER_CONFIG: 3,
  STATIC_BROKER_CONFIG: 4,
  DEFAULT_CONFIG: 5,
} as const;

export interface ConfigSetting {
  name: string;
  value: string | null;
  source: number;
}

/** The dynamic broker configs: this broker's own and the cluster-wide defaults (resource name ''). */
export interface DynamicBrokerConfigs {
  perBroker: Readonly<Record<string, string>>;
  clusterDefault: Readonly<Record<string, string>>;
}

/**
 * Kafka's DynamicBrokerConfig.brokerConfigSynonyms: the names that set the same broker config, in
 * precedence order (`log.retention.ms` over `.minutes` over `.hours`).
 */
export function brokerConfigSynonyms(name: string): string[] {
  const groups = [
    ['log.roll.ms', 'log.roll.hours'],
    ['log.roll.jitter.ms', 'log.roll.jitter.hours'],
    ['log.retention.ms', 'log.retention.minutes', 'log.retention.hours'],
  ];
  if (name === 'log.flush.interval.ms') return ['log.flush.interval.ms', 'log.flush.scheduler.interval.ms'];
  const listener = /^listener\.name\.[^.]+\.(.+)$/.exec(name);
  if (listener !== null) return [name, listener[1] as string];
  return groups.find((group) => group.includes(name)) ?? [name];
}

/** For each BrokerConfig field Gregor acts on, the Kafka name that reports a value given in code. */
const primaryNameOfField: ReadonlyMap<keyof BrokerConfig, string> = (() => {
  const primary = new Map<keyof BrokerConfig, string>();
  for (const [name, setting] of Object.entries(brokerSettings)) {
    const current = primary.get(setting.field);
    if (current === undefined || (setting.rank ?? 0) > (brokerSettings[current]?.rank ?? 0)) primary.set(setting.field, name);
  }
  return primary;
})();

export class BrokerConfigView {
  private dynamic: DynamicBrokerConfigs = { perBroker: {}, clusterDefault: {} };
  /**
   * settingsOf and topicDefault answers, by name: they depend only on the static config and the
   * dynamic configs, so they are kept until applyDynamic (produce reads topic configs per request).
   */
  private readonly settingsCache = new Map<string, ConfigSetting[]>();
  private readonly topicDefaultCache = new Map<string, string>();

  /**
   * `config` is the broker's live BrokerConfig (its fields follow the dynamic configs);
   * `staticConfig` a copy of what the broker was opened with.
   */
  constructor(
    private readonly config: BrokerConfig,
    private readonly staticConfig: Readonly<BrokerConfig>,
  ) {}

  get dynamicConfigs(): DynamicBrokerConfigs {
    return this.dynamic;
  }

  /** Replaces the dynamic configs and brings the typed fields they set up to date. */
  applyDynamic(dynamic: DynamicBrokerConfigs): void {
    this.dynamic = { perBroker: { ...dynamic.perBroker }, clusterDefault: { ...dynamic.clusterDefault } };
    this.settingsCache.clear();
    this.topicDefaultCache.clear();
    const merged: Record<string, string> = { ...this.dynamic.clusterDefault, ...this.dynamic.perBroker };
    const fields = new Map<keyof BrokerConfig, { rank: number; value: unknown }>();
    for (const [name, value] of Object.entries(merged)) {
      const setting = brokerSettings[name];
      if (setting === undefined) continue;
      const rank = setting.rank ?? 0;
      if ((fields.get(setting.field)?.rank ?? Number.NEGATIVE_INFINITY) <= rank) fields.set(setting.field, { rank, value: brokerSettingValue(name, value) });
    }
    const live = this.config as unknown as Record<string, unknown>;
    for (const field of primaryNameOfField.keys()) {
      live[field] = fields.has(field) ? fields.get(field)?.value : (this.staticConfig as unknown as Record<string, unknown>)[field];
    }
  }

  /** The static value of `name`: given at start as a Kafka string, or as a BrokerConfig field in code. */
  private staticValue(name: string): string | undefined {
    const asGiven = this.staticConfig.staticBrokerConfigs[name];
    if (asGiven !== undefined) return asGiven;
    const fieldName = name === 'broker.id' ? 'node.id' : name;
    const setting = brokerSettings[fieldName];
    if (setting === undefined || primaryNameOfField.get(setting.field) !== fieldName) return undefined;
    // A field set from Kafka-named settings is reported under the names given, not here.
    const given = Object.entries(brokerSettings).some(([other, candidate]) => candidate.field === setting.field && this.staticConfig.staticBrokerConfigs[other] !== undefined);
    const value = (this.staticConfig as unknown as Record<string, unknown>)[setting.field];
    if (given || value === (brokerConfigDefaults as unknown as Record<string, unknown>)[setting.field]) return undefined;
    return fieldString(fieldName, value);
  }

  /** The default of `name`: Kafka's, or Gregor's where Gregor runs differently (node.id 0). */
  private defaultValue(definition: BrokerConfigDefinition): string | null {
    if (definition.default === null) return null;
    const fieldName = definition.name === 'broker.id' ? 'node.id' : definition.name;
    const setting = brokerSettings[fieldName];
    if (setting === undefined || primaryNameOfField.get(setting.field) !== fieldName) return definition.default;
    return fieldString(fieldName, (brokerConfigDefaults as unknown as Record<string, unknown>)[setting.field]);
  }

  /**
   * Where `name` is set, highest precedence first (dynamic for this broker, cluster default,
   * static, default); empty for a name no definition or setting knows.
   */
  settingsOf(name: string): ConfigSetting[] {
    const cached = this.settingsCache.get(name);
    if (cached !== undefined) return cached;
    const settings: ConfigSetting[] = [];
    const perBroker = this.dynamic.perBroker[name];
    if (perBroker !== undefined) settings.push({ name, value: perBroker, source: ConfigSource.DYNAMIC_BROKER_CONFIG });
    const clusterDefault = this.dynamic.clusterDefault[name];
    if (clusterDefault !== undefined) settings.push({ name, value: clusterDefault, source: ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG });
    const staticValue = this.staticValue(name);
    if (staticValue !== undefined) settings.push({ name, value: staticValue, source: ConfigSource.STATIC_BROKER_CONFIG });
    const definition = brokerConfigsByName.get(name);
    if (definition !== undefined) {
      const defaultValue = this.defaultValue(definition);
      if (defaultValue !== null) settings.push({ name, value: defaultValue, source: ConfigSource.DEFAULT_CONFIG });
    }
    this.settingsCache.set(name, settings);
    return settings;
  }

  /** The value of broker config `name` (null when unset without a default) and its source. */
  value(name: string): ConfigSetting {
    return this.settingsOf(name)[0] ?? { name, value: null, source: ConfigSource.DEFAULT_CONFIG };
  }

  /** Whether `name` is set anywhere but its default (Kafka reports internal settings only then). */
  isSet(name: string): boolean {
    return this.settingsOf(name).some((setting) => setting.source !== ConfigSource.DEFAULT_CONFIG);
  }

  /**
   * Kafka's ConfigHelper.configSynonyms: every setting of `name`'s synonym group, grouped by
   * source in precedence order (dynamic broker, dynamic default, static, default), starting at the
   * first one named `name` (so lower-precedence synonyms that were overridden do not show).
   */
  synonymsOf(name: string): ConfigSetting[] {
    const group = brokerConfigSynonyms(name);
    const all = group.flatMap((synonym) => this.settingsOf(synonym));
    const ordered = [ConfigSource.DYNAMIC_BROKER_CONFIG, ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG, ConfigSource.STATIC_BROKER_CONFIG, ConfigSource.DEFAULT_CONFIG]
      .flatMap((source) => all.filter((setting) => setting.source === source));
    const first = ordered.findIndex((setting) => setting.name === name);
    return first < 0 ? [] : ordered.slice(first);
  }

  /**
   * A topic config's value when the topic does not set it: the first of its broker synonyms that
   * has a value (set or defaulted), converted to the topic's unit, else the topic config's own
   * default (Kafka's extractLogConfigMap).
   */
  topicDefault(definition: TopicConfigDefinition): string {
    let value = this.topicDefaultCache.get(definition.name);
    if (value === undefined) {
      value = this.computeTopicDefault(definition);
      this.topicDefaultCache.set(definition.name, value);
    }
    return value;
  }

  private computeTopicDefault(definition: TopicConfigDefinition): string {
    for (const synonym of definition.brokerSynonyms) {
      const { value } = this.value(synonym.name);
      if (value === null) continue;
      if (synonym.factor === undefined) return value;
      const number = Number(value);
      return number < 0 ? '-1' : String(number * synonym.factor);
    }
    return definition.default;
  }
}

/** A BrokerConfig field value as the Kafka string of setting `name`. */
function fieldString(name: string, value: unknown): string {
  const setting = brokerSettings[name];
  const definition = brokerConfigsByName.get(name);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    const unit = setting?.scale !== undefined && value >= 0 ? value / setting.scale : value;
    if (definition?.type === 'double') return javaDoubleToString(unit);
    return definition?.type === 'long' ? longConfigString(unit) : String(unit);
  }
  return String(value);
}
