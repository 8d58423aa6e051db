import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  decodeRequest,
  decodeRequestHeader,
  decodeResponse,
  encodeApiVersionsFallback,
  encodeRequest,
  encodeResponse,
  ErrorCode,
  servedApiVersions,
  UnsupportedVersionError,
} from '../src/index.js';

describe('request and response headers', () => {
  it('request header v1 for classic versions ends right after the client id', () => {
    const frame = encodeRequest({ apiKey: ApiKey.Heartbeat, apiVersion: 3, correlationId: 9, clientId: 'abc' }, {}).subarray(4);
    expect(decodeRequestHeader(frame)).toEqual({ header: { apiKey: 12, apiVersion: 3, correlationId: 9, clientId: 'abc' }, bodyOffset: 13 });
  });

  it('request header v2 for flexible versions adds an empty tagged-field section', () => {
    const frame = encodeRequest({ apiKey: ApiKey.Heartbeat, apiVersion: 4, correlationId: 9, clientId: 'abc' }, {}).subarray(4);
    expect(decodeRequestHeader(frame).bodyOffset).toBe(14);
    expect(frame[13]).toBe(0);
  });

  it('request header v2 skips tagged fields it does not know', () => {
    const frame = encodeRequest({ apiKey: ApiKey.Heartbeat, apiVersion: 4, correlationId: 9, clientId: null }, { groupId: 'g' }).subarray(4);
    const withTag = Buffer.concat([frame.subarray(0, 10), Buffer.from([1, 5, 2, 0xaa, 0xbb]), frame.subarray(11)]);
    const decoded = decodeRequest(withTag);
    expect(decoded.header.clientId).toBeNull();
    expect(decoded.body.groupId).toBe('g');
  });

  it('response header v1 has a tagged-field section, v0 and ApiVersions do not', () => {
    const classic = encodeResponse(ApiKey.Heartbeat, 3, 5, { errorCode: 0 });
    const flexible = encodeResponse(ApiKey.Heartbeat, 4, 5, { errorCode: 0 });
    expect(flexible.length - classic.length).toBe(2); // header tags + body tags
    expect(decodeResponse(ApiKey.Heartbeat, 4, flexible.subarray(4))).toEqual({ correlationId: 5, body: { throttleTimeMs: 0, errorCode: 0 } });
    const apiVersions = encodeResponse(ApiKey.ApiVersions, 3, 5, {});
    expect(apiVersions.readInt16BE(8)).toBe(0); // errorCode right after the correlation id
  });

  it('an unserved version is an UnsupportedVersionError carrying the api key and version', () => {
    const frame = Buffer.from('0012000900000007000000', 'hex'); // ApiVersions v9, client id '', no tags
    expect(() => decodeRequest(frame)).toThrow(UnsupportedVersionError);
    expect(decodeRequestHeader(frame)).toEqual({ header: { apiKey: 18, apiVersion: 9, correlationId: 7, clientId: '' }, bodyOffset: 11 });
    // Even without its tag section, the header of a newer ApiVersions can be read to answer it.
    expect(decodeRequestHeader(frame.subarray(0, 10)).header.correlationId).toBe(7);
  });
});

describe('bytes after the body', () => {
  it('are ignored by default, as Kafka does, and rejected when strict', () => {
    const frame = Buffer.concat([encodeRequest({ apiKey: ApiKey.Heartbeat, apiVersion: 0, correlationId: 1, clientId: null }, { groupId: 'g' }).subarray(4), Buffer.from([0])]);
    expect(decodeRequest(frame).body.groupId).toBe('g');
    expect(() => decodeRequest(frame, { strict: true })).toThrow(/1 bytes left over after the body/);
  });
});

describe('ApiVersions fallback for an unknown version', () => {
  it('answers in the v0 format with UNSUPPORTED_VERSION and the api list', () => {
    const frame = encodeApiVersionsFallback(42);
    const { correlationId, body } = decodeResponse(ApiKey.ApiVersions, 0, frame.subarray(4));
    expect(correlationId).toBe(42);
    expect(body.errorCode).toBe(ErrorCode.UNSUPPORTED_VERSION);
    expect(body.apiKeys).toEqual(servedApiVersions());
    expect(body.apiKeys).toContainEqual({ apiKey: 18, minVersion: 0, maxVersion: 3 });
  });
});
