import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeAssignment, decodeSubscription, encodeAssignment, encodeSubscription } from '../src/consumer-protocol.js';

const topicPartitions = fc.array(fc.record({ topic: fc.string({ maxLength: 20 }), partitions: fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 10 }) }), { maxLength: 5 });

describe('consumer protocol', () => {
  it('round-trips a version 3 subscription', () => {
    fc.assert(
      fc.property(
        fc.record({
          topics: fc.array(fc.string({ maxLength: 30 }), { maxLength: 5 }),
          userData: fc.option(fc.uint8Array({ maxLength: 20 }).map((a) => Buffer.from(a)), { nil: null }),
          ownedPartitions: topicPartitions,
          generationId: fc.integer({ min: -1, max: 1 << 30 }),
          rackId: fc.option(fc.string({ maxLength: 10 }), { nil: null }),
        }),
        (subscription) => {
          expect(decodeSubscription(encodeSubscription(subscription))).toEqual({ version: 3, ...subscription });
        },
      ),
    );
  });

  it('decodes a version 0 subscription as kafkajs writes it', () => {
    // version 0, topics ['a', 'bc'], userData empty bytes
    const bytes = Buffer.from([0, 0, 0, 0, 0, 2, 0, 1, 0x61, 0, 2, 0x62, 0x63, 0, 0, 0, 0]);
    expect(decodeSubscription(bytes)).toEqual({ version: 0, topics: ['a', 'bc'], userData: Buffer.alloc(0), ownedPartitions: [], generationId: -1, rackId: null });
  });

  it('round-trips an assignment', () => {
    fc.assert(
      fc.property(topicPartitions, (assignedPartitions) => {
        expect(decodeAssignment(encodeAssignment({ assignedPartitions, userData: null }))).toEqual({ assignedPartitions, userData: null });
      }),
    );
  });

  it('treats an empty assignment buffer as no partitions', () => {
    expect(decodeAssignment(Buffer.alloc(0))).toEqual({ assignedPartitions: [], userData: null });
  });

  it('rejects a truncated subscription with a typed error', () => {
    const bytes = encodeSubscription({ topics: ['topic'], userData: null, ownedPartitions: [], generationId: -1, rackId: null });
    expect(() => decodeSubscription(bytes.subarray(0, 7))).toThrow(expect.objectContaining({ code: 'MALFORMED_PAYLOAD' }));
  });
});
