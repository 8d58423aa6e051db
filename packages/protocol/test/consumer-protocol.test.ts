import { createRequire } from 'node:module';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consumerProtocolAssignmentFields,
  consumerProtocolSubscriptionFields,
  decodeConsumerProtocolAssignment,
  decodeConsumerProtocolSubscription,
  encodeConsumerProtocolAssignment,
  encodeConsumerProtocolSubscription,
  ProtocolDecodeError,
} from '../src/index.js';
import { structArbitrary } from './arbitraries.js';

const require = createRequire(import.meta.url);

describe('consumer protocol subscription and assignment', () => {
  for (let version = 0; version <= 3; version++) {
    it(`subscription v${version} and assignment v${version} round-trip`, () => {
      fc.assert(
        fc.property(structArbitrary(consumerProtocolSubscriptionFields, version), structArbitrary(consumerProtocolAssignmentFields, version), (subscription, assignment) => {
          expect(decodeConsumerProtocolSubscription(encodeConsumerProtocolSubscription(subscription[0], version))).toEqual({ version, subscription: subscription[1] });
          expect(decodeConsumerProtocolAssignment(encodeConsumerProtocolAssignment(assignment[0], version))).toEqual({ version, assignment: assignment[1] });
        }),
        { numRuns: 30 },
      );
    });
  }

  it('reads kafkajs member metadata and assignments (v0 and v1)', () => {
    const { MemberMetadata, MemberAssignment } = require('kafkajs/src/consumer/assignerProtocol.js');
    const metadata = MemberMetadata.encode({ version: 1, topics: ['a', 'b'], userData: Buffer.from('u') });
    expect(decodeConsumerProtocolSubscription(metadata).subscription).toMatchObject({ topics: ['a', 'b'], userData: Buffer.from('u') });
    const assignment = MemberAssignment.encode({ version: 0, assignment: { a: [0, 2] }, userData: Buffer.alloc(0) });
    expect(decodeConsumerProtocolAssignment(assignment).assignment.assignedPartitions).toEqual([{ topic: 'a', partitions: [0, 2] }]);
  });

  it('reads a newer version as the newest it knows', () => {
    const bytes = encodeConsumerProtocolSubscription({ topics: ['t'], rackId: 'r' }, 3);
    bytes.writeInt16BE(9, 0);
    expect(decodeConsumerProtocolSubscription(Buffer.concat([bytes, Buffer.from([1, 2, 3])]))).toMatchObject({ version: 9, subscription: { topics: ['t'], rackId: 'r' } });
  });

  it('rejects truncated bytes with a typed error', () => {
    expect(() => decodeConsumerProtocolAssignment(Buffer.from([0, 0, 0, 0, 0, 5]))).toThrow(ProtocolDecodeError);
  });
});
