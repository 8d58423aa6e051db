/**
 * Interoperability with record-batch code we did not write: kafkajs 2.2.4's encoder and decoder
 * (gzip is its only built-in codec) and @platformatic/kafka 1.35.0's (gzip, raw snappy and lz4
 * frames through its own WebAssembly codecs).
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { Compression, decodeBatch, encodeBatch, isBatchCrcValid } from '@gregor/records';

const require = createRequire(import.meta.url);
type KafkajsEncoder = { buffer: Buffer };
const { RecordBatch: kafkajsRecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch: (input: Record<string, unknown>) => Promise<KafkajsEncoder> };
const kafkajsRecord = require('kafkajs/src/protocol/recordBatch/record/v0') as (input: Record<string, unknown>) => unknown;
const kafkajsBatchDecoder = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (decoder: unknown) => Promise<{ records: { offset: string; timestamp: string; key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }[] }>;
const KafkajsDecoder = require('kafkajs/src/protocol/decoder') as new (buffer: Buffer) => unknown;

interface PlatformaticBatch {
  firstOffset: bigint;
  records: { offsetDelta: number; timestampDelta: bigint; key: Buffer | null; value: Buffer | null; headers: [Buffer, Buffer][] }[];
}
interface Platformatic {
  createRecordsBatch(messages: Record<string, unknown>[], options: Record<string, unknown>): { buffer: Buffer };
  readRecordsBatch(reader: unknown): PlatformaticBatch;
  Reader: { from(buffer: Buffer): unknown };
}
const platformatic = (await import(require.resolve('@platformatic/kafka'))) as Platformatic;

const timestamp = 1_700_000_000_000;
const messages = Array.from({ length: 20 }, (_, index) => ({
  key: Buffer.from(`key-${index}`),
  value: Buffer.from(JSON.stringify({ id: index, text: 'interop '.repeat(index) })),
  timestamp: timestamp + index,
}));

describe('kafkajs', () => {
  for (const [name, compression] of [['uncompressed', Compression.none], ['gzip', Compression.gzip]] as const) {
    it(`batches it encodes (${name}) decode here with every field`, async () => {
      const records = messages.map((message, index) => kafkajsRecord({ offsetDelta: index, timestampDelta: index, key: message.key, value: message.value, headers: { trace: Buffer.from(`t${index}`) } }));
      const encoder = await kafkajsRecordBatch({ compression, firstTimestamp: timestamp, maxTimestamp: timestamp + 19, lastOffsetDelta: 19, records });
      const batch = encoder.buffer;
      expect(isBatchCrcValid(batch, 0)).toBe(true);
      const decoded = [...decodeBatch(batch).records()];
      expect(decoded.map((record) => record.value)).toEqual(messages.map((message) => message.value));
      expect(decoded.map((record) => record.timestamp)).toEqual(messages.map((message) => message.timestamp));
      expect(decoded[3].headers).toEqual([{ key: 'trace', value: Buffer.from('t3') }]);
    });

    it(`batches encoded here (${name}) decode in kafkajs`, async () => {
      const batch = encodeBatch({ compression, baseOffset: 40, records: messages.map((message) => ({ ...message, headers: [{ key: 'h', value: Buffer.from('v') }] })) });
      const decoded = await kafkajsBatchDecoder(new KafkajsDecoder(batch));
      expect(decoded.records.map((record) => record.offset)).toEqual(messages.map((_, index) => String(40 + index)));
      expect(decoded.records.map((record) => record.timestamp)).toEqual(messages.map((message) => String(message.timestamp)));
      expect(decoded.records.map((record) => record.value)).toEqual(messages.map((message) => message.value));
      expect(decoded.records[0].headers.h).toEqual(Buffer.from('v'));
    });
  }
});

describe('@platformatic/kafka', () => {
  for (const [name, compression] of [['none', Compression.none], ['gzip', Compression.gzip], ['snappy', Compression.snappy], ['lz4', Compression.lz4]] as const) {
    it(`batches it encodes (${name}) decode here`, () => {
      const input = messages.map((message) => ({ ...message, timestamp: BigInt(message.timestamp), headers: new Map([[Buffer.from('h'), Buffer.from('v')]]) }));
      const batch = Buffer.from(platformatic.createRecordsBatch(input, { compression: name }).buffer);
      expect(isBatchCrcValid(batch, 0)).toBe(true);
      const decoded = [...decodeBatch(batch).records()];
      expect(decoded.map((record) => record.value)).toEqual(messages.map((message) => message.value));
      expect(decoded.map((record) => record.key)).toEqual(messages.map((message) => message.key));
      expect(decoded[0].headers).toEqual([{ key: 'h', value: Buffer.from('v') }]);
    });

    // @platformatic/kafka 1.35.0 cannot read the xerial snappy framing that Kafka's Java producer
    // (and ours) write, so snappy is checked from its side only.
    if (compression === Compression.snappy) continue;
    it(`batches encoded here (${name}) decode in @platformatic/kafka`, () => {
      const batch = encodeBatch({ compression, records: messages });
      const decoded = platformatic.readRecordsBatch(platformatic.Reader.from(batch));
      expect(decoded.records.map((record) => record.value)).toEqual(messages.map((message) => message.value));
      expect(decoded.records.map((record) => Number(record.timestampDelta))).toEqual(messages.map((_, index) => index));
    });
  }
});
