/**
 * How `gregor produce` turns a line of input into a record, two ways:
 *   - Kafka's console producer (LineMessageReader) with its `--property` names: `parse.key`,
 *     `key.separator` (tab), `parse.headers`, `headers.delimiter` (tab), `headers.separator`
 *     (comma), `headers.key.separator` (colon), `null.marker`, `ignore.error`. A line is
 *     `[headers<headers.delimiter>][key<key.separator>]value`; a missing separator is an error
 *     naming the line unless ignore.error=true (the part is then absent). Kafka compiles
 *     headers.separator as a regular expression; here it is a plain string.
 *   - JSON lines: `{"value": ..., "key": ..., "headers": {"k": "v"}, "partition": 0,
 *     "timestamp": 1700000000000}`, everything but `value` optional. A string is sent as its UTF-8
 *     bytes, `null` as Kafka's null, any other JSON value as its JSON text. This reads back what
 *     `gregor consume --json` prints.
 * Pure functions.
 */
import { CliError } from './args.js';
import { decodeEscapes } from './record-format.js';

export interface ParsedRecord {
  key: string | null;
  value: string | null;
  headers?: Record<string, string | null | (string | null)[]>;
  partition?: number;
  timestamp?: number;
}

export type LineParser = (line: string, lineNumber: number) => ParsedRecord;

/** A line that cannot become a record; the message names the line. */
export class LineFormatError extends Error {
  readonly code = 'INVALID_INPUT_LINE';
  readonly retriable = false;
}

const READER_PROPERTIES = ['parse.key', 'key.separator', 'parse.headers', 'headers.delimiter', 'headers.separator', 'headers.key.separator', 'null.marker', 'ignore.error'] as const;

export function kafkaLineParser(properties: ReadonlyMap<string, string>): LineParser {
  for (const name of properties.keys()) {
    if (!(READER_PROPERTIES as readonly string[]).includes(name)) throw new CliError(`unknown --property '${name}'; the line reader's properties are ${READER_PROPERTIES.join(', ')}`);
  }
  const flag = (name: string) => properties.get(name)?.trim().toLowerCase() === 'true';
  const text = (name: string, fallback: string) => decodeEscapes(properties.get(name) ?? fallback);
  const parseKey = flag('parse.key');
  const parseHeaders = flag('parse.headers');
  const ignoreError = flag('ignore.error');
  const keySeparator = text('key.separator', '\t');
  const headersDelimiter = text('headers.delimiter', '\t');
  const headersSeparator = text('headers.separator', ',');
  const headersKeySeparator = text('headers.key.separator', ':');
  const nullMarker = properties.has('null.marker') ? text('null.marker', '') : undefined;
  const distinct: [string, string, string, string][] = [
    ['headers.delimiter', headersDelimiter, 'headers.separator', headersSeparator],
    ['headers.delimiter', headersDelimiter, 'headers.key.separator', headersKeySeparator],
    ['headers.separator', headersSeparator, 'headers.key.separator', headersKeySeparator],
    ['null.marker', nullMarker ?? '\u0000none', 'key.separator', keySeparator],
  ];
  for (const [a, valueA, b, valueB] of distinct) if (valueA === valueB) throw new CliError(`--property ${a} and ${b} may not be equal`);
  if (keySeparator === '' || headersDelimiter === '') throw new CliError('--property key.separator and headers.delimiter may not be empty');

  const part = (enabled: boolean, line: string, start: number, demarcation: string, name: string, lineNumber: number): string | null => {
    if (!enabled) return null;
    const index = line.indexOf(demarcation, start);
    if (index >= 0) return line.slice(start, index);
    if (ignoreError) return null;
    throw new LineFormatError(`line ${lineNumber} has no ${name} '${printable(demarcation)}': '${line}' (--property ignore.error=true sends such lines without it)`);
  };
  const nullable = (value: string) => (value === nullMarker ? null : value);
  return (line, lineNumber) => {
    const headerText = part(parseHeaders, line, 0, headersDelimiter, 'headers delimiter', lineNumber);
    const headerEnd = headerText === null ? 0 : headerText.length + headersDelimiter.length;
    const key = part(parseKey, line, headerEnd, keySeparator, 'key separator', lineNumber);
    const keyEnd = key === null ? 0 : key.length + keySeparator.length;
    const record: ParsedRecord = { key: key === null ? null : nullable(key), value: nullable(line.slice(headerEnd + keyEnd)) };
    if (headerText !== null && headerText !== nullMarker && headerText !== '') {
      const headers: Record<string, string | null | (string | null)[]> = {};
      for (const pair of headerText.split(headersSeparator)) {
        const at = pair.indexOf(headersKeySeparator);
        if (at < 0 && !ignoreError) throw new LineFormatError(`line ${lineNumber}: header '${pair}' has no key separator '${printable(headersKeySeparator)}'`);
        const name = at < 0 ? pair : pair.slice(0, at);
        if (name === nullMarker) throw new LineFormatError(`line ${lineNumber}: a header key may not be the null marker '${nullMarker}'`);
        addHeader(headers, name, at < 0 ? null : nullable(pair.slice(at + headersKeySeparator.length)));
      }
      record.headers = headers;
    }
    return record;
  };
}

export function jsonLineParser(): LineParser {
  return (line, lineNumber) => {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch (error) {
      throw new LineFormatError(`line ${lineNumber} is not JSON (${(error as Error).message}): '${line}'`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed) || !('value' in parsed)) {
      throw new LineFormatError(`line ${lineNumber}: expected an object with at least "value", such as {"key":"k","value":"v"}: '${line}'`);
    }
    const object = parsed as Record<string, unknown>;
    for (const name of Object.keys(object)) {
      if (!['key', 'value', 'headers', 'partition', 'timestamp', 'topic', 'offset'].includes(name)) throw new LineFormatError(`line ${lineNumber}: unknown field "${name}" (the fields are key, value, headers, partition, timestamp)`);
    }
    const record: ParsedRecord = { key: jsonBytes(object.key), value: jsonBytes(object.value) };
    if (object.headers !== undefined && object.headers !== null) {
      if (typeof object.headers !== 'object' || Array.isArray(object.headers)) throw new LineFormatError(`line ${lineNumber}: "headers" must be an object such as {"trace":"abc"}`);
      const headers: Record<string, string | null | (string | null)[]> = {};
      for (const [name, value] of Object.entries(object.headers as Record<string, unknown>)) {
        if (Array.isArray(value)) for (const item of value) addHeader(headers, name, jsonBytes(item));
        else addHeader(headers, name, jsonBytes(value));
      }
      record.headers = headers;
    }
    if (object.partition !== undefined && object.partition !== null) {
      if (!Number.isInteger(object.partition) || (object.partition as number) < 0) throw new LineFormatError(`line ${lineNumber}: "partition" must be an integer at least 0`);
      record.partition = object.partition as number;
    }
    if (object.timestamp !== undefined && object.timestamp !== null) {
      if (!Number.isSafeInteger(object.timestamp)) throw new LineFormatError(`line ${lineNumber}: "timestamp" must be milliseconds since the epoch`);
      record.timestamp = object.timestamp as number;
    }
    return record;
  };
}

function jsonBytes(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function addHeader(headers: Record<string, string | null | (string | null)[]>, name: string, value: string | null): void {
  const existing = headers[name];
  if (existing === undefined) headers[name] = value;
  else if (Array.isArray(existing)) existing.push(value);
  else headers[name] = [existing, value];
}

function printable(text: string): string {
  return text.replace(/\t/g, '\\t').replace(/\n/g, '\\n');
}
