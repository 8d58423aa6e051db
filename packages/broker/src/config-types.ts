/**
 * Kafka's config value semantics (its ConfigDef): the types a config may have, how a string value
 * parses (trimmed; booleans case-insensitive; integers as Java's parseInt/parseLong; lists split
 * on commas with the spaces around them), the validators Kafka attaches (at least, between, one
 * of, each of), and the string DescribeConfigs reports for a parsed value (Kafka's
 * ConfigDef.convertToString: a long as its decimal digits, whatever its size, a double as Java's
 * Double.toString, a list joined with commas). Values stay strings end to end, so Long.MAX_VALUE is
 * `9223372036854775807` and never a rounded JavaScript number. Error messages are Kafka's
 * ConfigException texts. Pure functions.
 */

/** Kafka's ConfigDef.Type, lowercased. */
export type ConfigType = 'boolean' | 'string' | 'int' | 'short' | 'long' | 'double' | 'list' | 'class' | 'password';

/** Kafka's validators, as data. `compressionLevel` is GZIP's "[1,...,9] or -1". */
export type ConfigValidator =
  | { atLeast: number | bigint }
  | { between: readonly [number, number] }
  | { oneOf: readonly string[]; caseInsensitive?: boolean }
  | { eachOf: readonly string[] }
  | { nonEmpty: true }
  | { gzipLevel: true }
  | { metadataVersion: readonly string[] };

/** DescribeConfigs' configType (KIP-569): Kafka's DescribeConfigsResponse.ConfigType ids. */
export const CONFIG_TYPE_IDS: Readonly<Record<ConfigType, number>> = {
  boolean: 1, string: 2, int: 3, short: 4, long: 5, double: 6, list: 7, class: 8, password: 9,
};

const RANGES: Readonly<Partial<Record<ConfigType, readonly [bigint, bigint]>>> = {
  short: [-32768n, 32767n],
  int: [-2147483648n, 2147483647n],
  long: [-9223372036854775808n, 9223372036854775807n],
};

/** Kafka's Long.MAX_VALUE as a string: the "no limit" of many long configs. */
export const LONG_MAX = '9223372036854775807';

/** A value Kafka's ConfigDef would refuse; `message` is Kafka's ConfigException text. */
export class ConfigValueError extends Error {
  constructor(readonly configName: string, readonly value: string | null, reason: string) {
    super(`Invalid value ${value} for configuration ${configName}: ${reason}`);
    this.name = 'ConfigValueError';
  }
}

const JAVA_INTEGER = /^[+-]?\d+$/;
const JAVA_DOUBLE = /^[+-]?(NaN|Infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[fFdD]?)$/;
const LIST_SEPARATOR = /\s*,\s*/;

/**
 * Parses `raw` as Kafka does for a config of `type`, applies `validator`, and returns the value as
 * DescribeConfigs reports it. Throws ConfigValueError with Kafka's message.
 */
export function normalizeConfigValue(name: string, type: ConfigType, raw: string, validator?: ConfigValidator): string {
  const trimmed = raw.trim();
  let normalized: string;
  switch (type) {
    case 'boolean': {
      const lower = trimmed.toLowerCase();
      if (lower !== 'true' && lower !== 'false') throw new ConfigValueError(name, raw, 'Expected value to be either true or false');
      normalized = lower;
      break;
    }
    case 'short':
    case 'int':
    case 'long': {
      const [min, max] = RANGES[type] as readonly [bigint, bigint];
      if (!JAVA_INTEGER.test(trimmed)) throw new ConfigValueError(name, raw, `Not a number of type ${type.toUpperCase()}`);
      const value = BigInt(trimmed);
      if (value < min || value > max) throw new ConfigValueError(name, raw, `Not a number of type ${type.toUpperCase()}`);
      normalized = value.toString();
      break;
    }
    case 'double': {
      if (!JAVA_DOUBLE.test(trimmed)) throw new ConfigValueError(name, raw, 'Not a number of type DOUBLE');
      normalized = javaDoubleToString(Number(trimmed.replace(/[fFdD]$/, '')));
      break;
    }
    case 'list':
      normalized = trimmed === '' ? '' : trimmed.split(LIST_SEPARATOR).join(',');
      break;
    case 'string':
    case 'class':
    case 'password':
      normalized = trimmed;
      break;
  }
  if (validator !== undefined) validate(name, type, normalized, validator);
  return normalized;
}

function validate(name: string, type: ConfigType, value: string, validator: ConfigValidator): void {
  if ('atLeast' in validator) {
    if (compare(type, value, validator.atLeast) < 0) throw new ConfigValueError(name, value, `Value must be at least ${validator.atLeast}`);
  } else if ('between' in validator) {
    const [min, max] = validator.between;
    if (compare(type, value, min) < 0) throw new ConfigValueError(name, value, `Value must be at least ${min}`);
    if (compare(type, value, max) > 0) throw new ConfigValueError(name, value, `Value must be no more than ${max}`);
  } else if ('oneOf' in validator) {
    const candidate = validator.caseInsensitive === true ? value.toLowerCase() : value;
    const valid = validator.caseInsensitive === true ? validator.oneOf.map((item) => item.toLowerCase()) : validator.oneOf;
    if (!valid.includes(candidate)) throw new ConfigValueError(name, value, `String must be one of${validator.caseInsensitive === true ? ' (case insensitive)' : ''}: ${validator.oneOf.join(', ')}`);
  } else if ('eachOf' in validator) {
    const items = value === '' ? [] : value.split(',');
    for (const item of items) if (!validator.eachOf.includes(item)) throw new ConfigValueError(name, item, `String must be one of: ${validator.eachOf.join(', ')}`);
  } else if ('nonEmpty' in validator) {
    if (value === '') throw new ConfigValueError(name, value, 'String must be non-empty');
  } else if ('metadataVersion' in validator) {
    // Kafka's MetadataVersion.fromVersionString: `3.9.1` is looked up as `3.9`, `0.10.2.1` as `0.10.2`.
    const segments = value.split('.');
    const kept = value.startsWith('0.') ? 3 : 2;
    const key = kept >= segments.length ? value : segments.slice(0, kept).join('.');
    if (!validator.metadataVersion.includes(key)) throw new ConfigValueError(name, value, `Version ${value} is not a valid version`);
  } else if ('gzipLevel' in validator) {
    const level = Number(value);
    if (level > 9 || (level < 1 && level !== -1)) throw new ConfigValueError(name, value, 'Value must be between 1 and 9 or equal to -1');
  }
}

/** Compares a normalized numeric value with a bound: exact for integers of any size. */
function compare(type: ConfigType, value: string, bound: number | bigint): number {
  if (type === 'double') {
    const number = Number(value);
    return number < Number(bound) ? -1 : number > Number(bound) ? 1 : 0;
  }
  const integer = BigInt(value);
  const limit = BigInt(bound);
  return integer < limit ? -1 : integer > limit ? 1 : 0;
}

/**
 * Java's Double.toString: plain decimal with at least one fraction digit for magnitudes in
 * [10^-3, 10^7), otherwise `d.dddE±n`; both built from the shortest digits that round-trip.
 */
export function javaDoubleToString(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? 'Infinity' : '-Infinity';
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0';
  const magnitude = Math.abs(value);
  if (magnitude >= 1e-3 && magnitude < 1e7) {
    const text = String(value);
    return text.includes('.') ? text : `${text}.0`;
  }
  const [mantissa, exponent] = value.toExponential().split('e');
  const digits = (mantissa as string).includes('.') ? (mantissa as string) : `${mantissa}.0`;
  return `${digits}E${Number(exponent)}`;
}

/**
 * A config's string as a JavaScript number for the code that acts on it: integers beyond 2^53
 * (Long.MAX_VALUE as "no limit") become Number.MAX_SAFE_INTEGER, which every caller treats as
 * "never" as Kafka treats Long.MAX_VALUE.
 */
export function configNumber(value: string): number {
  const number = Number(value);
  if (Number.isInteger(number) && !Number.isSafeInteger(number)) return number > 0 ? Number.MAX_SAFE_INTEGER : Number.MIN_SAFE_INTEGER;
  return number;
}

/** The reverse of configNumber for a long: Number.MAX_SAFE_INTEGER and above report as Long.MAX_VALUE. */
export function longConfigString(value: number): string {
  return value >= Number.MAX_SAFE_INTEGER ? LONG_MAX : String(value);
}
