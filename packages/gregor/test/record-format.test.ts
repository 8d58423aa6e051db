/**
 * How `gregor produce` reads lines and `gregor consume` prints records: Kafka's console producer
 * and consumer properties, kcat's format string, and JSON lines that go round trip.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliError } from '../src/cli/args.js';
import { parseIsoDuration } from '../src/cli/duration.js';
import { jsonFormatter, kafkaFormatter, kcatFormatter, type PrintableRecord } from '../src/cli/record-format.js';
import { jsonLineParser, kafkaLineParser, LineFormatError } from '../src/cli/record-parse.js';

const record = (overrides: Partial<PrintableRecord> = {}): PrintableRecord => ({
  topic: 'orders',
  partition: 2,
  offset: '41',
  timestamp: '1700000000000',
  key: Buffer.from('user-1'),
  value: Buffer.from('hello'),
  headers: { trace: Buffer.from('abc'), seen: [Buffer.from('a'), null] },
  ...overrides,
});

describe("Kafka's console producer line format", () => {
  it('splits headers, key and value at their separators, with the null marker', () => {
    const parse = kafkaLineParser(new Map([['parse.key', 'true'], ['key.separator', ':'], ['parse.headers', 'true'], ['null.marker', 'NULL']]));
    expect(parse('h1:v1,h2:NULL\tk:value:with:colons', 1)).toEqual({ key: 'k', value: 'value:with:colons', headers: { h1: 'v1', h2: null } });
    expect(parse('\tNULL:NULL', 2)).toEqual({ key: null, value: null });
    expect(() => parse('no delimiter', 3)).toThrow(LineFormatError);
    expect(() => parse('no delimiter', 3)).toThrow("line 3 has no headers delimiter '\\t'");
  });

  it('takes a line without separator as the value with ignore.error=true, and refuses unknown properties', () => {
    expect(kafkaLineParser(new Map([['parse.key', 'true'], ['ignore.error', 'true']]))('whole line', 1)).toEqual({ key: null, value: 'whole line' });
    expect(kafkaLineParser(new Map())('k\tv', 1)).toEqual({ key: null, value: 'k\tv' });
    expect(() => kafkaLineParser(new Map([['parse.keys', 'true']]))).toThrow(CliError);
    expect(() => kafkaLineParser(new Map([['headers.delimiter', ','], ['headers.separator', ',']]))).toThrow('may not be equal');
  });
});

describe("Kafka's console consumer output", () => {
  it('prints the fields Kafka prints, each followed by key.separator', () => {
    const all = kafkaFormatter(new Map(['print.timestamp', 'print.partition', 'print.offset', 'print.headers', 'print.key'].map((name) => [name, 'true'])));
    expect(all(record())).toBe('CreateTime:1700000000000\tPartition:2\tOffset:41\ttrace:abc,seen:a,seen:null\tuser-1\thello\n');
    const custom = kafkaFormatter(new Map([['print.key', 'true'], ['key.separator', ' => '], ['print.value', 'false'], ['null.literal', '-']]));
    expect(custom(record({ key: null }))).toBe('- => \n');
    expect(kafkaFormatter(new Map([['print.headers', 'true']]))(record({ headers: {} }))).toBe('NO_HEADERS\thello\n');
    expect(() => kafkaFormatter(new Map([['print.keys', 'true']]))).toThrow(CliError);
    expect(() => kafkaFormatter(new Map([['print.key', 'yes']]))).toThrow('must be true or false');
  });

  it("prints kcat's format string", () => {
    expect(kcatFormatter('%t/%p@%o %k=%s (%K,%S) %T [%h] 100%%\\n')(record())).toBe('orders/2@41 user-1=hello (6,5) 1700000000000 [trace=abc,seen=a,seen=] 100%\n');
    expect(kcatFormatter('%k|%S\\t')(record({ key: null, value: null }))).toBe('|-1\t');
    expect(() => kcatFormatter('%z')).toThrow("unknown field '%z'");
  });
});

describe('JSON lines', () => {
  it('reads back what it prints: keys, values and headers (with repeats and nulls), partition, timestamp', () => {
    const text = fc.string({ unit: fc.constantFrom('a', 'é', '"', '\\', '\n', '\t', ' ', '{', '0') });
    const printable = fc.record({
      partition: fc.nat({ max: 100 }),
      offset: fc.nat().map(String),
      timestamp: fc.nat({ max: 2 ** 42 }).map(String),
      key: fc.option(text.map((t) => Buffer.from(t)), { nil: null }),
      value: fc.option(text.map((t) => Buffer.from(t)), { nil: null }),
      headers: fc.dictionary(text.filter((k) => k !== '' && k !== '__proto__'), fc.oneof(fc.option(text.map((t) => Buffer.from(t)), { nil: null }), fc.array(fc.option(text.map((t) => Buffer.from(t)), { nil: null }), { minLength: 2, maxLength: 3 }))),
    });
    const format = jsonFormatter();
    const parse = jsonLineParser();
    fc.assert(
      fc.property(printable, (fields) => {
        const line = format({ topic: 't', ...fields });
        expect(line.endsWith('\n') && !line.slice(0, -1).includes('\n')).toBe(true);
        const parsed = parse(line.slice(0, -1), 1);
        const asText = (value: Buffer | null) => (value === null ? null : value.toString('utf8'));
        expect(parsed).toEqual({
          key: asText(fields.key),
          value: asText(fields.value),
          headers: Object.fromEntries(Object.entries(fields.headers).map(([k, v]) => [k, Array.isArray(v) ? v.map(asText) : asText(v)])),
          partition: fields.partition,
          timestamp: Number(fields.timestamp),
        });
      }),
    );
  });

  it('sends any other JSON value as its text, and names what is wrong with a line', () => {
    const parse = jsonLineParser();
    expect(parse('{"value":{"a":[1,2]},"key":7}', 1)).toEqual({ key: '7', value: '{"a":[1,2]}' });
    expect(() => parse('[1,2]', 4)).toThrow('line 4: expected an object with at least "value"');
    expect(() => parse('{"value":"v","partiton":1}', 5)).toThrow('unknown field "partiton"');
    expect(() => parse('{"value":"v","partition":-1}', 6)).toThrow('"partition" must be an integer at least 0');
  });
});

describe('ISO-8601 durations (--by-duration)', () => {
  it('reads what java.time.Duration.parse reads', () => {
    expect(parseIsoDuration('PT30M')).toBe(1_800_000);
    expect(parseIsoDuration('P1DT2H3M4.5S')).toBe(86_400_000 + 7_200_000 + 180_000 + 4_500);
    expect(parseIsoDuration('-PT1H')).toBe(-3_600_000);
    expect(parseIsoDuration('pt1h')).toBe(3_600_000);
    for (const bad of ['P', 'PT', '1H', 'PT1X', 'P1W', '']) expect(parseIsoDuration(bad), bad).toBeUndefined();
  });
});
