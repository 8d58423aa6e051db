import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allSpecs, decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '../src/index.js';
import { structArbitrary } from './arbitraries.js';

const runs = Number(process.env.GREGOR_ROUNDTRIP_RUNS ?? 15);

describe('every API and version round-trips values derived from its description', () => {
  for (const spec of allSpecs()) {
    for (let version = spec.minVersion; version <= spec.maxVersion; version++) {
      it(`${spec.name} v${version} request decodes to what was encoded`, () => {
        fc.assert(
          fc.property(structArbitrary(spec.request, version), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }), ([input, expected], correlationId) => {
            const frame = encodeRequest({ apiKey: spec.apiKey, apiVersion: version, correlationId, clientId: 'c' }, input);
            expect(frame.readInt32BE(0)).toBe(frame.length - 4);
            const decoded = decodeRequest(frame.subarray(4), { strict: true });
            expect(decoded.header).toEqual({ apiKey: spec.apiKey, apiVersion: version, correlationId, clientId: 'c' });
            expect(decoded.body).toEqual(expected);
          }),
          { numRuns: runs },
        );
      });
      it(`${spec.name} v${version} response decodes to what was encoded`, () => {
        fc.assert(
          fc.property(structArbitrary(spec.response, version), fc.integer({ min: 0, max: 2 ** 31 - 1 }), ([input, expected], correlationId) => {
            const frame = encodeResponse(spec.apiKey, version, correlationId, input);
            expect(frame.readInt32BE(0)).toBe(frame.length - 4);
            const decoded = decodeResponse(spec.apiKey, version, frame.subarray(4), { strict: true });
            expect(decoded.correlationId).toBe(correlationId);
            expect(decoded.body).toEqual(expected);
          }),
          { numRuns: runs },
        );
      });
    }
  }
});
