/**
 * Mutation fuzz: valid frames of every API and version, damaged by bit flips, truncation, huge
 * or negative lengths and over-long varints, must decode or fail with the typed errors only.
 * GREGOR_FUZZ_ITERATIONS sets the mutations per (api, version, direction); CI uses the default.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  allSpecs,
  decodeRequest,
  decodeResponse,
  encodeRequest,
  encodeResponse,
  ProtocolDecodeError,
  Reader,
  UnsupportedVersionError,
} from '../src/index.js';
import { structArbitrary } from './arbitraries.js';

const iterations = Number(process.env.GREGOR_FUZZ_ITERATIONS ?? 12);

type Mutation = (frame: Buffer, random: () => number) => Buffer;

const at = (frame: Buffer, random: () => number) => Math.floor(random() * frame.length);

const mutations: Mutation[] = [
  (frame, random) => {
    const copy = Buffer.from(frame);
    const position = at(copy, random);
    copy[position] ^= 1 << Math.floor(random() * 8);
    return copy;
  },
  (frame, random) => frame.subarray(0, at(frame, random)),
  (frame, random) => {
    const copy = Buffer.from(frame);
    const position = Math.min(at(copy, random), Math.max(0, copy.length - 4));
    copy.writeInt32BE([0x7fffffff, -2, -1, 0x10000000][Math.floor(random() * 4)], position);
    return copy;
  },
  (frame, random) => {
    const copy = Buffer.from(frame);
    const position = Math.min(at(copy, random), Math.max(0, copy.length - 2));
    copy.writeInt16BE([0x7fff, -2, -1][Math.floor(random() * 3)], position);
    return copy;
  },
  (frame, random) => {
    const position = at(frame, random);
    return Buffer.concat([frame.subarray(0, position), Buffer.alloc(6, 0xff), frame.subarray(position)]);
  },
];

function assertOnlyTypedErrors(decode: () => unknown): void {
  try {
    decode();
  } catch (error) {
    if (!(error instanceof ProtocolDecodeError) && !(error instanceof UnsupportedVersionError)) throw error;
    expect(error.code === 'INVALID_REQUEST' || error.code === 'UNSUPPORTED_VERSION').toBe(true);
  }
}

describe('mutated frames of every API and version fail only with typed errors', () => {
  for (const spec of allSpecs()) {
    it(`${spec.name} v${spec.minVersion}-${spec.maxVersion}`, () => {
      for (let version = spec.minVersion; version <= spec.maxVersion; version++) {
        const seed = spec.apiKey * 100 + version;
        const [[request], [response]] = [
          fc.sample(structArbitrary(spec.request, version), { numRuns: 1, seed }),
          fc.sample(structArbitrary(spec.response, version), { numRuns: 1, seed }),
        ];
        const requestFrame = encodeRequest({ apiKey: spec.apiKey, apiVersion: version, correlationId: 1, clientId: 'fuzz' }, request[0]).subarray(4);
        const responseFrame = encodeResponse(spec.apiKey, version, 1, response[0]).subarray(4);
        const random = mulberry32(seed);
        for (let i = 0; i < iterations; i++) {
          const mutate = mutations[i % mutations.length];
          const badRequest = mutate(requestFrame, random);
          assertOnlyTypedErrors(() => decodeRequest(badRequest));
          const badResponse = mutate(responseFrame, random);
          assertOnlyTypedErrors(() => decodeResponse(spec.apiKey, version, badResponse));
        }
      }
    });
  }
});

describe('random bytes', () => {
  it('decode as a request, or as any response, only with typed errors', () => {
    const specs = allSpecs();
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat(), (bytes, pick) => {
        const frame = Buffer.from(bytes);
        assertOnlyTypedErrors(() => decodeRequest(frame));
        const spec = specs[pick % specs.length];
        assertOnlyTypedErrors(() => decodeResponse(spec.apiKey, spec.minVersion + (pick % (spec.maxVersion - spec.minVersion + 1)), frame));
      }),
      { numRuns: iterations * 50 },
    );
  });
});

describe('decoding untrusted lengths', () => {
  it('rejects an array count of 2^31-1 with 10 bytes left before allocating', () => {
    // Metadata v1 request: topics count 0x7fffffff, then 10 bytes.
    const frame = Buffer.concat([Buffer.from('00030001000000010000', 'hex'), Buffer.from('7fffffff', 'hex'), Buffer.alloc(10)]);
    expect(() => decodeRequest(frame)).toThrow(/array count 2147483647 exceeds the 10 bytes left/);
  });

  it('rejects a varint longer than 5 bytes', () => {
    expect(() => new Reader(Buffer.alloc(6, 0xff)).uvarint()).toThrow(ProtocolDecodeError);
    expect(() => new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x7f])).uvarint()).toThrow(/exceeds 32 bits/);
    expect(new Reader(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f])).uvarint()).toBe(0xffffffff);
  });

  it('names the api, version and field path of a truncated field', () => {
    const frame = encodeRequest(
      { apiKey: 0, apiVersion: 3, correlationId: 1, clientId: null },
      { acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records: Buffer.alloc(8) }] }] },
    ).subarray(4);
    const error = (() => {
      try {
        decodeRequest(frame.subarray(0, frame.length - 1));
      } catch (caught) {
        return caught as ProtocolDecodeError;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(ProtocolDecodeError);
    expect(error?.path).toBe('topicData[0].partitionData[0].records');
    expect(error?.message).toMatch(/^Produce v3 request, field topicData\[0\]\.partitionData\[0\]\.records: needs 8 bytes/);
    expect(error?.errorCode).toBe(42);
  });

  it('rejects null in a non-nullable field', () => {
    // Heartbeat v0 request whose groupId has length -1.
    const frame = Buffer.from('000c0000000000010000ffff0000000100000000', 'hex');
    expect(() => decodeRequest(frame)).toThrow(/groupId: null in a non-nullable field/);
  });
});

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
