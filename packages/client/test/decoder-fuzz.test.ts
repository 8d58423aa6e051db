/**
 * The client's decoders on damaged input fail only with typed errors: fetched record sets (several
 * batches, every codec, control and transactional batches) and whole Fetch responses, damaged by
 * bit flips, overwritten bytes, truncation and insertions, decode or throw RecordsError /
 * ProtocolDecodeError, never a RangeError or another untyped error, and every message field of
 * what does decode can be read. A broker that answers with garbage frames (too short for a
 * correlation id, random bytes) makes requests fail with KafkaClientError instead of crashing
 * the process.
 * GREGOR_FUZZ_ITERATIONS multiplies the runs (CI uses the default).
 */
import net from 'node:net';
import fc from 'fast-check';
import { ApiKey, decodeResponse, encodeResponse, ProtocolDecodeError } from '@gregor/protocol';
import { Compression, ControlRecordType, encodeBatch, encodeControlRecord, RecordsError } from '@gregor/records';
import { afterEach, describe, expect, it } from 'vitest';
import { mutate, mutation } from '../../records/test/mutations.js';
import { fetchedBatches } from '../src/consumer.js';
import { KafkaClientError } from '../src/errors.js';
import { TcpTransport } from '../src/tcp-transport.js';

const SCALE = Number(process.env.GREGOR_FUZZ_ITERATIONS ?? 1);
const DECOMPRESSED_BYTES_MAX = 256 * 1024;

const record = fc.record({
  key: fc.option(fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)), { nil: null }),
  value: fc.option(fc.uint8Array({ maxLength: 120 }).map((bytes) => Buffer.from(bytes)), { nil: null }),
  headers: fc.array(fc.record({ key: fc.string({ maxLength: 5 }), value: fc.option(fc.uint8Array({ maxLength: 8 }).map((bytes) => Buffer.from(bytes)), { nil: null }) }), { maxLength: 2 }),
  timestamp: fc.integer({ min: 0, max: 2 ** 42 }),
});

/** A record set as a Fetch returns it: data batches, now and then a transaction marker. */
const recordSet = fc
  .array(fc.record({ compression: fc.constantFrom(...Object.values(Compression)), records: fc.array(record, { minLength: 1, maxLength: 6 }), marker: fc.boolean() }), { minLength: 1, maxLength: 4 })
  .map((batches) => {
    let offset = 100;
    const parts: Buffer[] = [];
    for (const spec of batches) {
      parts.push(encodeBatch({ baseOffset: offset, compression: spec.compression, producerId: spec.marker ? 7 : -1, isTransactional: spec.marker, records: spec.records }));
      offset += spec.records.length;
      if (spec.marker) {
        const { key, value } = encodeControlRecord(ControlRecordType.commit, 0);
        parts.push(encodeBatch({ baseOffset: offset++, producerId: 7, isTransactional: true, isControl: true, timestamp: 1, records: [{ key, value }] }));
      }
    }
    return Buffer.concat(parts);
  });

/** Everything a consumer reads of a fetched record set, every field of every message. */
function consumeEverything(records: Buffer, verifyCrc: boolean): void {
  const aborted = [{ producerId: 7, firstOffset: 0 }];
  for (const part of fetchedBatches(0, records, aborted, DECOMPRESSED_BYTES_MAX, verifyCrc)) {
    for (const message of part.list) void [message.key?.length, message.value?.length, message.offset, message.timestamp, Object.keys(message.headers).length, message.size];
  }
}

function expectOnly(types: (abstract new (...args: never[]) => Error)[], work: () => void): void {
  try {
    work();
  } catch (error) {
    if (!types.some((type) => error instanceof type)) throw error;
  }
}

describe('the consumer decoding damaged record sets', () => {
  it('throws only RecordsError, with and without checking CRCs', () => {
    fc.assert(
      fc.property(recordSet, fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (records, mutations, verifyCrc) => {
        expectOnly([RecordsError], () => consumeEverything(mutate(records, mutations), verifyCrc));
      }),
      { numRuns: 400 * SCALE },
    );
  });

  it('decodes damaged Fetch responses, and the record sets in them, with typed errors only', () => {
    fc.assert(
      fc.property(recordSet, fc.constantFrom(4, 7, 11, 12, 13), fc.array(mutation, { minLength: 1, maxLength: 3 }), (records, version, mutations) => {
        const partition = { partitionIndex: 0, errorCode: 0, highWatermark: 200, lastStableOffset: 200, logStartOffset: 0, abortedTransactions: [], preferredReadReplica: -1, records };
        const response = { throttleTimeMs: 0, errorCode: 0, sessionId: 0, responses: [{ topic: 't', topicId: '5f0b2c3a-1d2e-4f5a-8b6c-7d8e9f0a1b2c', partitions: [partition] }] };
        const frame = mutate(encodeResponse(ApiKey.Fetch, version, 9, response).subarray(4), mutations);
        expectOnly([ProtocolDecodeError, RecordsError], () => {
          const { body } = decodeResponse(ApiKey.Fetch, version, frame);
          for (const topic of body.responses) for (const fetched of topic.partitions) if (fetched.records !== null) consumeEverything(fetched.records, true);
        });
      }),
      { numRuns: 300 * SCALE },
    );
  });
});

describe('a broker answering garbage frames', () => {
  let server: net.Server | null = null;
  afterEach(async () => {
    await new Promise<void>((resolve) => (server === null ? resolve() : server.close(() => resolve())));
    server = null;
  });

  it('fails the request with a typed error, whatever the frame holds', async () => {
    const frames = [Buffer.alloc(0), Buffer.from([0, 0, 0]), Buffer.from([0xff]), Buffer.alloc(40, 0xff), Buffer.from('00000001ffffffff', 'hex')];
    let next = 0;
    server = net.createServer((socket) => {
      const frame = frames[next++ % frames.length];
      socket.once('data', () => {
        const sized = Buffer.alloc(4 + frame.length);
        sized.writeInt32BE(frame.length, 0);
        frame.copy(sized, 4);
        socket.end(sized);
      });
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as net.AddressInfo;
    for (let attempt = 0; attempt < frames.length; attempt++) {
      const transport = new TcpTransport({ brokers: [`127.0.0.1:${port}`], requestTimeoutMs: 5000, connectionTimeoutMs: 5000 });
      const outcome = await transport.connect().then(() => null, (error: unknown) => error);
      await transport.close();
      expect(outcome).toBeInstanceOf(KafkaClientError);
    }
  });
});
