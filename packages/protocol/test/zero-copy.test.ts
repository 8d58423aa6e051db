import { describe, expect, it } from 'vitest';
import { ApiKey, decodeRequest, decodeResponse, encodeRequest, encodeRequestParts, encodeResponseParts, INLINE_BYTES_MAX_DEFAULT } from '../src/index.js';

describe('record sets are neither copied on encode nor on decode', () => {
  const records = Buffer.alloc(64 * 1024, 5);

  it('leaves a large Fetch record set as its own chunk, and the size prefix counts it', () => {
    const body = { responses: [{ topic: 't', partitions: [{ partitionIndex: 0, highWatermark: 1, records }] }] };
    const parts = encodeResponseParts(ApiKey.Fetch, 12, 3, body);
    expect(parts).toContain(records);
    const total = parts.reduce((sum, part) => sum + part.length, 0);
    expect(parts[0].readInt32BE(0)).toBe(total - 4);
    const frame = Buffer.concat(parts).subarray(4);
    expect(decodeResponse(ApiKey.Fetch, 12, frame).body.responses[0].partitions[0].records).toEqual(records);
  });

  it('leaves a large Produce record set as its own chunk on the client side', () => {
    const body = { acks: 1, timeoutMs: 1, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] };
    const parts = encodeRequestParts({ apiKey: ApiKey.Produce, apiVersion: 7, correlationId: 1, clientId: null }, body);
    expect(parts).toContain(records);
  });

  it('copies a record set at or under inlineBytesMax into the header chunk', () => {
    const small = Buffer.alloc(INLINE_BYTES_MAX_DEFAULT, 1);
    const parts = encodeResponseParts(ApiKey.Fetch, 12, 3, { responses: [{ topic: 't', partitions: [{ records: small }] }] });
    expect(parts).toHaveLength(1);
  });

  it('decodes a record set as a view into the frame', () => {
    const frame = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 1, clientId: null }, {
      acks: 1,
      topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
    }).subarray(4);
    const decoded = decodeRequest(frame).body.topicData[0].partitionData[0].records as Buffer;
    expect(decoded.buffer).toBe(frame.buffer);
    expect(decoded.equals(records)).toBe(true);
  });
});
