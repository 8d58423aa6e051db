/**
 * The broker's decoders on damaged bytes fail only with typed errors: `__consumer_offsets` keys and
 * values (BrokerError), producer-state snapshots (BrokerError CORRUPT_SNAPSHOT), the producer id
 * block file (reported as a problem, never thrown). And the produce path stores nothing a reader
 * cannot decode: any damaged batch is either refused with an error code or, if accepted, reads
 * back whole, every record of it.
 * GREGOR_FUZZ_ITERATIONS multiplies the runs (CI uses the default).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mutate, mutation } from '../../records/test/mutations.js';
import { ErrorCode } from '@gregor/protocol';
import { Compression, decodeBatch, encodeBatch, forEachBatch } from '@gregor/records';
import {
  BrokerError, decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsTopicKey, encodeGroupMetadataKey, encodeGroupMetadataValue,
  encodeOffsetCommitKey, encodeOffsetCommitValue, ProducerStateManager,
} from '@gregor/broker';
import { formatBlock, parseBlock } from '../src/producer-id-block-file.js';
import { createTopic, openTestBroker, produce, type TestBroker } from './helpers.js';

const SCALE = Number(process.env.GREGOR_FUZZ_ITERATIONS ?? 1);
const mutations = fc.array(mutation, { minLength: 1, maxLength: 4 });

function expectOnly(type: abstract new (...args: never[]) => Error, work: () => void): void {
  try {
    work();
  } catch (error) {
    if (!(error instanceof type)) throw error;
  }
}

const text = fc.string({ maxLength: 12 });
const offsetsRecord = fc.oneof(
  fc.record({ groupId: text, topic: text, partition: fc.nat(100), offset: fc.nat(1e9), leaderEpoch: fc.integer({ min: -1, max: 9 }), metadata: text }).map((commit) => ({
    key: encodeOffsetCommitKey(commit.groupId, commit.topic, commit.partition),
    value: encodeOffsetCommitValue({ offset: commit.offset, leaderEpoch: commit.leaderEpoch, metadata: commit.metadata, commitTimestamp: 1_700_000_000_000 }),
  })),
  fc.record({ groupId: text, members: fc.array(fc.record({ memberId: text, clientId: text, subscription: fc.uint8Array({ maxLength: 20 }), assignment: fc.uint8Array({ maxLength: 20 }) }), { maxLength: 3 }) }).map((group) => ({
    key: encodeGroupMetadataKey(group.groupId),
    value: encodeGroupMetadataValue({
      protocolType: 'consumer', generation: 3, protocol: 'range', leader: group.members[0]?.memberId ?? null, currentStateTimestamp: 1_700_000_000_000,
      members: group.members.map((member) => ({ ...member, groupInstanceId: null, clientHost: '/127.0.0.1', rebalanceTimeoutMs: 1000, sessionTimeoutMs: 1000, subscription: Buffer.from(member.subscription), assignment: Buffer.from(member.assignment) })),
    }),
  })),
);

describe('the broker decoding damaged state', () => {
  it('reads damaged __consumer_offsets keys and values with BrokerError only', () => {
    fc.assert(
      fc.property(offsetsRecord, mutations, mutations, ({ key, value }, keyChanges, valueChanges) => {
        const badKey = mutate(key, keyChanges);
        const badValue = mutate(value, valueChanges);
        expectOnly(BrokerError, () => decodeOffsetsTopicKey(badKey));
        expectOnly(BrokerError, () => decodeOffsetCommitValue(badValue));
        expectOnly(BrokerError, () => decodeGroupMetadataValue(badValue));
      }),
      { numRuns: 500 * SCALE },
    );
  });

  it('loads damaged producer-state snapshots with BrokerError only', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ producerId: fc.nat(1e6), epoch: fc.nat(5), sequence: fc.nat(1000), count: fc.integer({ min: 1, max: 5 }) }), { maxLength: 5 }), mutations, (producers, changes) => {
        const state = new ProducerStateManager(5);
        for (const [index, producer] of producers.entries()) state.update({ producerId: producer.producerId, producerEpoch: producer.epoch, baseSequence: producer.sequence, lastOffsetDelta: producer.count - 1 }, index * 10, 1000);
        expectOnly(BrokerError, () => new ProducerStateManager(5).loadSnapshot(mutate(state.encodeSnapshot(), changes), 'x.snapshot', 1000, 86_400_000));
      }),
      { numRuns: 500 * SCALE },
    );
  });

  it('reads a damaged producer id block file as damaged, or as the block it says, never throwing', () => {
    fc.assert(
      fc.property(fc.nat(1e9), mutations, (first, changes) => {
        const parsed = parseBlock(mutate(formatBlock(0, first, first + 999), changes));
        if (typeof parsed === 'number') expect(Number.isSafeInteger(parsed)).toBe(true);
        else expect(parsed.problem).toEqual(expect.any(String));
      }),
      { numRuns: 500 * SCALE },
    );
  });
});

describe('the produce path', () => {
  let test: TestBroker;
  beforeAll(async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
  });
  afterAll(async () => {
    await test.broker.close();
  });

  const producedBatch = fc
    .record({
      compression: fc.constantFrom(Compression.none, Compression.none, Compression.gzip, Compression.lz4),
      values: fc.array(fc.option(fc.uint8Array({ maxLength: 60 }).map((bytes) => Buffer.from(bytes)), { nil: null }), { minLength: 1, maxLength: 6 }),
      withHeader: fc.boolean(),
    })
    .map(({ compression, values, withHeader }) => encodeBatch({
      compression,
      timestamp: 1_700_000_000_000,
      records: values.map((value) => ({ key: null, value, headers: withHeader ? [{ key: 'h', value: Buffer.from('v') }] : [] })),
    }));

  it('refuses a damaged batch or stores one whose every record reads back', async () => {
    await fc.assert(
      fc.asyncProperty(producedBatch, mutations, fc.boolean(), async (original, changes, fixCrc) => {
        const damaged = mutate(original, changes);
        // Damage made after the CRC was computed (a buggy producer) as well as in transit.
        if (fixCrc && damaged.length >= 61 && damaged.readInt32BE(8) + 12 === damaged.length) {
          const { writeBatchCrc } = await import('@gregor/records');
          writeBatchCrc(damaged, 0, damaged.length);
        }
        const partition = test.broker.partition('t', 0)!;
        const before = partition.logEndOffset;
        const answer = await produce(test.broker, 't', 0, damaged);
        if (answer!.errorCode !== ErrorCode.NONE) {
          expect(partition.logEndOffset).toBe(before);
          return;
        }
        const { records } = partition.log.read(before, { maxBytes: 1024 * 1024, minOneBatch: true });
        forEachBatch(records, (position) => {
          const batch = decodeBatch(records, position);
          for (const record of batch.records()) void [record.key, record.value, record.headers.length];
        });
      }),
      { numRuns: 400 * SCALE },
    );
  });
});
