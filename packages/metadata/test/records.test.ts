import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  decodeMetadataRecord, encodeMetadataRecord, type MetadataRecordInput, metadataRecord, metadataRecordDescriptions, MetadataError,
} from '../src/index.js';

const uuid = fc.uuid({ version: 4 }).map((value) => value.toLowerCase());
const ids = fc.array(fc.integer({ min: 0, max: 1000 }), { maxLength: 5 });
const name = fc.string({ minLength: 1, maxLength: 20 });

/** One arbitrary input per record type Gregor knows. */
const recordInput: fc.Arbitrary<MetadataRecordInput> = fc.oneof(
  fc.record({
    type: fc.constant('RegisterBroker' as const),
    brokerId: fc.integer({ min: 0, max: 2 ** 31 - 1 }),
    incarnationId: uuid,
    brokerEpoch: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
    endPoints: fc.array(fc.record({ name, host: name, port: fc.integer({ min: 0, max: 65535 }), securityProtocol: fc.integer({ min: 0, max: 3 }) }), { maxLength: 3 }),
    rack: fc.option(name, { nil: null }),
    fenced: fc.boolean(),
    inControlledShutdown: fc.boolean(),
  }),
  fc.record({ type: fc.constant('Topic' as const), name, topicId: uuid }),
  fc.record({
    type: fc.constant('Partition' as const),
    partitionId: fc.integer({ min: 0, max: 1000 }),
    topicId: uuid,
    replicas: ids,
    isr: ids,
    removingReplicas: ids,
    addingReplicas: ids,
    leader: fc.integer({ min: -1, max: 1000 }),
    leaderRecoveryState: fc.integer({ min: 0, max: 1 }),
    leaderEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    partitionEpoch: fc.integer({ min: -1, max: 2 ** 31 - 1 }),
    eligibleLeaderReplicas: fc.option(ids, { nil: null }),
    lastKnownElr: fc.option(ids, { nil: null }),
  }),
  fc.record({
    type: fc.constant('PartitionChange' as const),
    partitionId: fc.integer({ min: 0, max: 1000 }),
    topicId: uuid,
    isr: fc.option(ids, { nil: null }),
    leader: fc.integer({ min: -2, max: 1000 }),
    replicas: fc.option(ids, { nil: null }),
    removingReplicas: fc.option(ids, { nil: null }),
    addingReplicas: fc.option(ids, { nil: null }),
    leaderRecoveryState: fc.integer({ min: -1, max: 1 }),
    eligibleLeaderReplicas: fc.option(ids, { nil: null }),
    lastKnownElr: fc.option(ids, { nil: null }),
  }),
  fc.record({ type: fc.constant('Config' as const), resourceType: fc.constantFrom(2, 4), resourceName: fc.string(), name, value: fc.option(fc.string(), { nil: null }) }),
  fc.record({ type: fc.constant('FenceBroker' as const), id: fc.nat(), epoch: fc.nat() }),
  fc.record({ type: fc.constant('UnfenceBroker' as const), id: fc.nat(), epoch: fc.nat() }),
  fc.record({ type: fc.constant('RemoveTopic' as const), topicId: uuid }),
  fc.record({ type: fc.constant('ProducerIds' as const), brokerId: fc.nat(), brokerEpoch: fc.nat(), nextProducerId: fc.nat() }),
  fc.record({ type: fc.constant('BrokerRegistrationChange' as const), brokerId: fc.nat(), brokerEpoch: fc.nat(), fenced: fc.integer({ min: -1, max: 1 }), inControlledShutdown: fc.integer({ min: 0, max: 1 }) }),
  fc.record({ type: fc.constant('FeatureLevel' as const), name, featureLevel: fc.integer({ min: 0, max: 100 }) }),
  fc.record({
    type: fc.constant('ClientQuota' as const),
    entity: fc.array(fc.record({ entityType: name, entityName: fc.option(name, { nil: null }) }), { minLength: 1, maxLength: 2 }),
    key: name,
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    remove: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('AccessControlEntry' as const),
    id: uuid,
    resourceType: fc.integer({ min: 0, max: 7 }),
    resourceName: name,
    patternType: fc.integer({ min: 0, max: 4 }),
    principal: name,
    host: name,
    operation: fc.integer({ min: 0, max: 14 }),
    permissionType: fc.integer({ min: 0, max: 3 }),
  }),
  fc.record({ type: fc.constant('RemoveAccessControlEntry' as const), id: uuid }),
  fc.record({
    type: fc.constant('UserScramCredential' as const),
    name,
    mechanism: fc.integer({ min: 1, max: 2 }),
    salt: fc.uint8Array({ maxLength: 32 }).map((bytes) => Buffer.from(bytes)),
    storedKey: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    serverKey: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
    iterations: fc.integer({ min: 4096, max: 100000 }),
  }),
  fc.record({ type: fc.constant('RemoveUserScramCredential' as const), name, mechanism: fc.integer({ min: 1, max: 2 }) }),
  fc.record({ type: fc.constant('UnregisterBroker' as const), brokerId: fc.nat(), brokerEpoch: fc.nat() }),
  fc.constant({ type: 'NoOp' as const }),
);

describe('metadata records', () => {
  it('decode what they encode, for every record type', () => {
    fc.assert(
      fc.property(recordInput, (input) => {
        expect(decodeMetadataRecord(encodeMetadataRecord(input))).toEqual(metadataRecord(input));
      }),
      { numRuns: 2000 },
    );
  });

  it('describe every type Gregor writes with a distinct Kafka apiKey', () => {
    const keys = Object.values(metadataRecordDescriptions).map((description) => description.apiKey);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('encode a TopicRecord byte for byte as Kafka does (frame 1, type 2, version 0, compact string, uuid, no tags)', () => {
    const bytes = encodeMetadataRecord({ type: 'Topic', name: 'foo', topicId: '00000000-0000-0000-0000-000000000001' });
    expect(bytes.toString('hex')).toBe(`010200${'04666f6f'}${'00'.repeat(15)}0100`);
  });

  it('write a PartitionChangeRecord that changes only the ISR with the ISR as its only tagged field', () => {
    const bytes = encodeMetadataRecord({ type: 'PartitionChange', partitionId: 0, topicId: '00000000-0000-0000-0000-000000000001', isr: [1, 2] });
    // frame, type 5, version 0, partitionId 0, uuid, then one tagged field: tag 0, size 9, compact array of 2 ints.
    expect(bytes.toString('hex')).toBe(`010500${'00000000'}${'00'.repeat(15)}01${'01'}${'00'}${'09'}${'03'}${'00000001'}${'00000002'}`);
    const decoded = decodeMetadataRecord(bytes);
    expect(decoded).toMatchObject({ type: 'PartitionChange', isr: [1, 2], leader: -2, replicas: null, leaderRecoveryState: -1 });
  });

  it('write the eligible leader replicas of a PartitionChangeRecord as tagged fields 6 and 7 (KIP-966)', () => {
    const bytes = encodeMetadataRecord({ type: 'PartitionChange', partitionId: 0, topicId: '00000000-0000-0000-0000-000000000001', eligibleLeaderReplicas: [3], lastKnownElr: [] });
    // Two tagged fields: tag 6, size 5, compact array of one int; tag 7, size 1, an empty compact array.
    expect(bytes.toString('hex')).toBe(`010500${'00000000'}${'00'.repeat(15)}01${'02'}${'06'}${'05'}${'02'}${'00000003'}${'07'}${'01'}${'01'}`);
    expect(decodeMetadataRecord(bytes)).toMatchObject({ type: 'PartitionChange', isr: null, eligibleLeaderReplicas: [3], lastKnownElr: [] });
  });

  it('refuse bad bytes, unknown types and versions, and trailing garbage with a typed error', () => {
    const good = encodeMetadataRecord({ type: 'Topic', name: 'foo', topicId: '00000000-0000-0000-0000-000000000001' });
    const cases: [Buffer, string][] = [
      [Buffer.from([0x00, 0x02, 0x00]), 'CORRUPT_METADATA_RECORD'],
      [Buffer.from([0x01, 0x63, 0x00]), 'UNKNOWN_METADATA_RECORD'],
      [Buffer.from([0x01, 0x02, 0x07]), 'UNKNOWN_METADATA_RECORD'],
      [good.subarray(0, good.length - 3), 'CORRUPT_METADATA_RECORD'],
      [Buffer.concat([good, Buffer.from([0])]), 'CORRUPT_METADATA_RECORD'],
      [Buffer.alloc(0), 'CORRUPT_METADATA_RECORD'],
    ];
    for (const [bytes, code] of cases) {
      let thrown: unknown;
      try {
        decodeMetadataRecord(bytes);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(MetadataError);
      expect((thrown as MetadataError).code).toBe(code);
      expect((thrown as MetadataError).retriable).toBe(false);
    }
  });

  it('never throw anything but MetadataError on mutated bytes', () => {
    fc.assert(
      fc.property(recordInput, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 4 }), (input, flips) => {
        const bytes = Buffer.from(encodeMetadataRecord(input));
        for (const [at, value] of flips) bytes[at % bytes.length] = value;
        try {
          decodeMetadataRecord(bytes);
        } catch (error) {
          expect(error).toBeInstanceOf(MetadataError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
