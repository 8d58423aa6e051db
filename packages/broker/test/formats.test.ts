import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeOffsetCommitValue, decodeOffsetsTopicKey, encodeOffsetCommitKey, encodeOffsetCommitValue,
  javaStringHashCode, parseProperties, partitionForGroup, randomClusterId, topicNameProblem,
} from '@gregor/broker';
import { decodeGroupMetadataValue, encodeGroupMetadataKey, encodeGroupMetadataValue } from '@gregor/broker';
import { seededRandom } from './helpers.js';

describe('__consumer_offsets record formats', () => {
  it('writes OffsetCommitKey v1 and OffsetCommitValue v3 byte for byte', () => {
    expect(encodeOffsetCommitKey('g', 't', 5).toString('hex')).toBe('0001' + '000167' + '000174' + '00000005');
    const value = encodeOffsetCommitValue({ offset: 42, leaderEpoch: 3, metadata: 'm', commitTimestamp: 1000 });
    expect(value.toString('hex')).toBe('0003' + '000000000000002a' + '00000003' + '00016d' + '00000000000003e8');
    expect(decodeOffsetsTopicKey(encodeOffsetCommitKey('g', 't', 5))).toEqual({ kind: 'offset', groupId: 'g', topic: 't', partition: 5 });
    expect(decodeOffsetCommitValue(value)).toEqual({ offset: 42, leaderEpoch: 3, metadata: 'm', commitTimestamp: 1000 });
  });

  it('reads OffsetCommitValue v1 (with expireTimestamp, no leader epoch)', () => {
    const v1 = Buffer.from('0001' + '0000000000000007' + '0000' + '0000000000000064' + '00000000000000c8', 'hex');
    expect(decodeOffsetCommitValue(v1)).toEqual({ offset: 7, leaderEpoch: -1, metadata: '', commitTimestamp: 100 });
  });

  it('round-trips GroupMetadataValue v3 and refuses truncated values with a typed error', () => {
    expect(decodeOffsetsTopicKey(encodeGroupMetadataKey('grp'))).toEqual({ kind: 'group', groupId: 'grp' });
    const member = fc.record({
      memberId: fc.string(), groupInstanceId: fc.option(fc.string()), clientId: fc.string(), clientHost: fc.string(),
      rebalanceTimeoutMs: fc.nat(), sessionTimeoutMs: fc.nat(),
      subscription: fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)),
      assignment: fc.uint8Array({ maxLength: 20 }).map((bytes) => Buffer.from(bytes)),
    });
    const group = fc.record({
      protocolType: fc.string(), generation: fc.nat(), protocol: fc.option(fc.string()), leader: fc.option(fc.string()),
      currentStateTimestamp: fc.nat(), members: fc.array(member, { maxLength: 4 }),
    });
    fc.assert(fc.property(group, (stored) => {
      const encoded = encodeGroupMetadataValue(stored);
      expect(decodeGroupMetadataValue(encoded)).toEqual(stored);
      if (encoded.length > 2) expect(() => decodeGroupMetadataValue(encoded.subarray(0, encoded.length - 1))).toThrow(expect.objectContaining({ code: 'CORRUPT_OFFSETS_RECORD' }));
    }));
  });
});

describe('identifiers', () => {
  it('hashes group ids as Java\'s String.hashCode and places them as Kafka does', () => {
    expect(javaStringHashCode('hello')).toBe(99162322);
    expect(javaStringHashCode('Aa')).toBe(javaStringHashCode('BB'));
    expect(javaStringHashCode('polygenelubricants')).toBe(-2147483648);
    expect(partitionForGroup('polygenelubricants', 50)).toBe(0);
    expect(partitionForGroup('hello', 50)).toBe(99162322 % 50);
  });

  it('makes 22-character base64url cluster ids that do not start with a dash', () => {
    const random = seededRandom(7);
    for (let index = 0; index < 100; index++) expect(randomClusterId(random)).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
  });

  it('parses Java properties as meta.properties uses them', () => {
    expect(parseProperties('#c\nversion=1\n node.id = 4\ncluster.id=abc\n')).toEqual(new Map([['version', '1'], ['node.id', '4'], ['cluster.id', 'abc']]));
  });

  it('checks topic names as Kafka does', () => {
    expect(topicNameProblem('a.b_c-1')).toBeNull();
    for (const bad of ['', '.', '..', 'a b', 'ü', 'x'.repeat(250)]) expect(topicNameProblem(bad)).not.toBeNull();
    expect(topicNameProblem('x'.repeat(249))).toBeNull();
  });
});
