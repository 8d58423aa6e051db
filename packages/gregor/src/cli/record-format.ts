/**
 * How `gregor consume` prints a record, three ways:
 *   - Kafka's console consumer (DefaultMessageFormatter) with its `--property` names:
 *     `print.timestamp`, `print.partition`, `print.offset`, `print.headers`, `print.key`,
 *     `print.value` (true by default), `key.separator` (tab), `line.separator` (newline),
 *     `headers.separator` (comma), `headers.key.separator` (colon), `null.literal` (null).
 *     Each printed field is followed by key.separator, as Kafka prints them.
 *   - kcat's `-f` format string: %t topic, %p partition, %o offset, %k key, %s value, %K and %S
 *     their lengths (-1 for null), %T timestamp, %h headers (k=v, comma separated), %%, and the
 *     escapes \n \t \\.
 *   - JSON, one object per line: { topic, partition, offset, timestamp, key, value, headers },
 *     keys, values and header values as UTF-8 text (null stays null), the shape `gregor produce
 *     --json` reads back.
 * Pure functions.
 */
import { CliError } from './args.js';

export interface PrintableRecord {
  topic: string;
  partition: number;
  offset: string;
  timestamp: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
}

export type RecordFormatter = (record: PrintableRecord) => string;

const FORMATTER_PROPERTIES = ['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key', 'print.value', 'key.separator', 'line.separator', 'headers.separator', 'headers.key.separator', 'null.literal'] as const;

/** Kafka's DefaultMessageFormatter; `properties` use Kafka's names (unknown names are a CliError). */
export function kafkaFormatter(properties: ReadonlyMap<string, string>): RecordFormatter {
  for (const name of properties.keys()) {
    if (!(FORMATTER_PROPERTIES as readonly string[]).includes(name)) throw new CliError(`unknown --property '${name}'; the formatter's properties are ${FORMATTER_PROPERTIES.join(', ')}`);
  }
  const flag = (name: string, fallback: boolean) => {
    const value = properties.get(name);
    if (value === undefined) return fallback;
    if (value !== 'true' && value !== 'false') throw new CliError(`--property ${name} must be true or false, got '${value}'`);
    return value === 'true';
  };
  const text = (name: string, fallback: string) => decodeEscapes(properties.get(name) ?? fallback);
  const printTimestamp = flag('print.timestamp', false);
  const printPartition = flag('print.partition', false);
  const printOffset = flag('print.offset', false);
  const printHeaders = flag('print.headers', false);
  const printKey = flag('print.key', false);
  const printValue = flag('print.value', true);
  const keySeparator = text('key.separator', '\t');
  const lineSeparator = text('line.separator', '\n');
  const headersSeparator = text('headers.separator', ',');
  const headersKeySeparator = text('headers.key.separator', ':');
  const nullLiteral = text('null.literal', 'null');
  const bytes = (value: Buffer | null) => (value === null ? nullLiteral : value.toString('utf8'));
  return (record) => {
    let line = '';
    // The consumer's messages (kafkajs's shape) do not carry the batch's timestamp type, so this
    // says CreateTime also for a topic with message.timestamp.type=LogAppendTime.
    if (printTimestamp) line += `CreateTime:${record.timestamp}${keySeparator}`;
    if (printPartition) line += `Partition:${record.partition}${keySeparator}`;
    if (printOffset) line += `Offset:${record.offset}${keySeparator}`;
    if (printHeaders) {
      const pairs = headerPairs(record.headers);
      line += `${pairs.length === 0 ? 'NO_HEADERS' : pairs.map(([key, value]) => `${key}${headersKeySeparator}${bytes(value)}`).join(headersSeparator)}${keySeparator}`;
    }
    if (printKey) line += `${bytes(record.key)}${keySeparator}`;
    if (printValue) line += bytes(record.value);
    return line + lineSeparator;
  };
}

/** kcat's -f format string. */
export function kcatFormatter(format: string): RecordFormatter {
  const parts: (string | ((record: PrintableRecord) => string))[] = [];
  let literal = '';
  for (let i = 0; i < format.length; i++) {
    const char = format[i] as string;
    if (char === '\\' && i + 1 < format.length) {
      const next = format[++i] as string;
      literal += { n: '\n', t: '\t', r: '\r', '\\': '\\' }[next] ?? `\\${next}`;
      continue;
    }
    if (char !== '%') {
      literal += char;
      continue;
    }
    const token = format[++i];
    if (token === '%') {
      literal += '%';
      continue;
    }
    const field = KCAT_FIELDS[token ?? ''];
    if (field === undefined) throw new CliError(`--format: unknown field '%${token ?? ''}'; the fields are ${Object.keys(KCAT_FIELDS).map((f) => `%${f}`).join(' ')} and %%`);
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push(field);
  }
  if (literal !== '') parts.push(literal);
  return (record) => parts.map((part) => (typeof part === 'string' ? part : part(record))).join('');
}

const KCAT_FIELDS: Record<string, (record: PrintableRecord) => string> = {
  t: (r) => r.topic,
  p: (r) => String(r.partition),
  o: (r) => r.offset,
  k: (r) => r.key?.toString('utf8') ?? '',
  s: (r) => r.value?.toString('utf8') ?? '',
  K: (r) => String(r.key?.length ?? -1),
  S: (r) => String(r.value?.length ?? -1),
  T: (r) => r.timestamp,
  h: (r) => headerPairs(r.headers).map(([key, value]) => `${key}=${value?.toString('utf8') ?? ''}`).join(','),
};

/** One JSON object per record, on one line. */
export function jsonFormatter(): RecordFormatter {
  const text = (value: Buffer | null) => (value === null ? null : value.toString('utf8'));
  return (record) =>
    `${JSON.stringify({
      topic: record.topic,
      partition: record.partition,
      offset: Number(record.offset),
      timestamp: Number(record.timestamp),
      key: text(record.key),
      value: text(record.value),
      headers: Object.fromEntries(Object.entries(record.headers).map(([key, value]) => [key, Array.isArray(value) ? value.map(text) : text(value)])),
    })}\n`;
}

/** Headers in order, a repeated key once per value. */
function headerPairs(headers: PrintableRecord['headers']): [string, Buffer | null][] {
  return Object.entries(headers).flatMap(([key, value]) => (Array.isArray(value) ? value.map((v): [string, Buffer | null] => [key, v]) : [[key, value] as [string, Buffer | null]]));
}

/** `\t`, `\n`, `\r` and `\\` in a property value, as Kafka's tools accept them. */
export function decodeEscapes(text: string): string {
  return text.replace(/\\([tnr\\])/g, (_, char: string) => ({ t: '\t', n: '\n', r: '\r', '\\': '\\' })[char] as string);
}
