/**
 * The checks Kafka applies before a config change is stored, with its error codes and messages:
 * a topic's complete set of configs (Kafka's LogConfig.validate: known names, values that parse
 * and pass their validator, min.compaction.lag.ms not above max.compaction.lag.ms with the broker
 * defaults filled in, no tiered storage), and a dynamic broker config change (Kafka's
 * DynamicBrokerConfig.validate: only dynamic configs, per-broker ones only for a named broker,
 * TLS keystores only per listener, values that parse). Pure functions.
 */
import { ErrorCode } from '@gregor/protocol';
import { brokerConfigsByName } from './broker-config-table.js';
import type { BrokerConfigView } from './broker-config-view.js';
import { ConfigValueError, normalizeConfigValue } from './config-types.js';
import { topicConfigsByName } from './topic-config-table.js';

export interface ConfigProblem {
  errorCode: number;
  message: string;
}

export type Checked = { configs: Record<string, string> } | ConfigProblem;

export function isProblem(result: Checked): result is ConfigProblem {
  return 'errorCode' in result;
}

/**
 * Checks a topic's complete set of own configs (after a change) and returns them as Kafka strings
 * (trimmed, lists without spaces, numbers canonical), or Kafka's INVALID_CONFIG.
 */
export function validateTopicConfigs(configs: Readonly<Record<string, string>>, view: BrokerConfigView): Checked {
  const normalized: Record<string, string> = {};
  for (const [name, raw] of Object.entries(configs)) {
    const definition = topicConfigsByName.get(name);
    if (definition === undefined) return { errorCode: ErrorCode.INVALID_CONFIG, message: `Unknown topic config name: ${name}` };
    try {
      normalized[name] = normalizeConfigValue(name, definition.type, raw, definition.validator);
    } catch (error) {
      if (error instanceof ConfigValueError) return { errorCode: ErrorCode.INVALID_CONFIG, message: error.message };
      throw error;
    }
  }
  const effective = (name: string): string => normalized[name] ?? view.topicDefault(topicConfigsByName.get(name) as NonNullable<ReturnType<typeof topicConfigsByName.get>>);
  const minLag = BigInt(effective('min.compaction.lag.ms'));
  const maxLag = BigInt(effective('max.compaction.lag.ms'));
  if (minLag > maxLag) {
    return { errorCode: ErrorCode.INVALID_CONFIG, message: `conflict topic config setting min.compaction.lag.ms (${minLag}) > max.compaction.lag.ms (${maxLag})` };
  }
  if (normalized['remote.storage.enable'] === 'true') {
    const message = view.value('remote.log.storage.system.enable').value === 'true'
      ? 'Gregor has no tiered storage: remote.storage.enable cannot be true'
      : 'Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.';
    return { errorCode: ErrorCode.INVALID_CONFIG, message };
  }
  return { configs: normalized };
}

/** The dynamic broker configs whose value may come from a secret and are changed per listener only. */
const LISTENER_ONLY_SECURITY_CONFIGS: ReadonlySet<string> = new Set([
  'ssl.keystore.type', 'ssl.keystore.location', 'ssl.keystore.password', 'ssl.key.password', 'ssl.truststore.type',
  'ssl.truststore.location', 'ssl.truststore.password', 'ssl.keystore.certificate.chain', 'ssl.keystore.key', 'ssl.truststore.certificates',
]);

/** Scala's Set toString, as Kafka's messages print the names. */
function scalaSet(names: readonly string[]): string {
  return `Set(${names.join(', ')})`;
}

/**
 * Checks the dynamic configs a broker resource would have after a change (`perBroker` false: the
 * cluster-wide defaults) and returns them normalized, or INVALID_CONFIG for an unknown name and
 * INVALID_REQUEST for what Kafka refuses (KAFKA-13609 keeps that code for values too).
 */
export function validateBrokerConfigs(configs: Readonly<Record<string, string>>, perBroker: boolean): Checked {
  const names = Object.keys(configs);
  const baseName = (name: string): string => /^listener\.name\.[^.]+\.(.+)$/.exec(name)?.[1] ?? name;
  const unknown = names.filter((name) => !brokerConfigsByName.has(baseName(name)));
  if (unknown.length > 0) return { errorCode: ErrorCode.INVALID_CONFIG, message: `Unknown config name: ${unknown.join(', ')}` };
  const notDynamic = names.filter((name) => {
    const definition = brokerConfigsByName.get(baseName(name));
    return definition?.mode === 'read-only' && definition.dynamicOnly !== true;
  });
  if (notDynamic.length > 0) return { errorCode: ErrorCode.INVALID_REQUEST, message: `Cannot update these configs dynamically: ${scalaSet(notDynamic)}` };
  const withoutListener = names.filter((name) => LISTENER_ONLY_SECURITY_CONFIGS.has(name));
  if (withoutListener.length > 0) {
    return { errorCode: ErrorCode.INVALID_REQUEST, message: `These security configs can be dynamically updated only per-listener using the listener prefix: ${scalaSet(withoutListener)}` };
  }
  const normalized: Record<string, string> = {};
  for (const name of names) {
    const definition = brokerConfigsByName.get(baseName(name));
    if (definition === undefined) continue;
    try {
      normalized[name] = normalizeConfigValue(name, definition.type, configs[name] as string, definition.validator);
    } catch (error) {
      if (error instanceof ConfigValueError) return { errorCode: ErrorCode.INVALID_REQUEST, message: error.message };
      throw error;
    }
  }
  if (!perBroker) {
    const perBrokerOnly = names.filter((name) => name.startsWith('listener.name.') || brokerConfigsByName.get(name)?.mode === 'per-broker');
    if (perBrokerOnly.length > 0) return { errorCode: ErrorCode.INVALID_REQUEST, message: `Cannot update these configs at default cluster level, broker id must be specified: ${scalaSet(perBrokerOnly)}` };
  }
  return { configs: normalized };
}
