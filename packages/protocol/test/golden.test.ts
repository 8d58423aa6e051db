import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  decodeDataMessage,
  decodeRequest,
  decodeResponse,
  encodeDataMessage,
  encodeRequest,
  encodeResponse,
  leaderChangeMessageFields,
  snapshotHeaderRecordFields,
} from '../src/index.js';

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ''), 'hex');

describe('golden bytes checked by hand against the protocol guide', () => {
  it('ApiVersions v0 request is the classic header v1 and an empty body', () => {
    const frame = encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 0, correlationId: 7, clientId: 'ab' }, {});
    expect(frame).toEqual(hex('0000000c 0012 0000 00000007 0002 6162'));
    expect(decodeRequest(frame.subarray(4)).body).toEqual({ clientSoftwareName: '', clientSoftwareVersion: '' });
  });

  it('ApiVersions v3 request uses header v2 (tagged fields) and compact strings', () => {
    const frame = encodeRequest(
      { apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 7, clientId: null },
      { clientSoftwareName: 'x', clientSoftwareVersion: '1' },
    );
    expect(frame).toEqual(hex('00000010 0012 0003 00000007 ffff 00 0278 0231 00'));
  });

  it('ApiVersions v0 response lists api keys with int32 array length', () => {
    const frame = encodeResponse(ApiKey.ApiVersions, 0, 7, { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] });
    expect(frame).toEqual(hex('00000010 00000007 0000 00000001 0012 0000 0003'));
  });

  it('ApiVersions v3 response keeps response header v0 but a flexible body', () => {
    const frame = encodeResponse(ApiKey.ApiVersions, 3, 7, { errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }], throttleTimeMs: 0 });
    expect(frame).toEqual(hex('00000013 00000007 0000 02 0012 0000 0003 00 00000000 00'));
    expect(decodeResponse(ApiKey.ApiVersions, 3, frame.subarray(4)).body.finalizedFeaturesEpoch).toBe(-1);
  });

  it('Metadata v1 request carries a nullable topic array', () => {
    const frame = encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 1, correlationId: 1, clientId: null }, { topics: [{ name: 't' }] });
    expect(frame).toEqual(hex('00000011 0003 0001 00000001 ffff 00000001 0001 74'));
    const all = encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 1, correlationId: 1, clientId: null }, { topics: null });
    expect(all).toEqual(hex('0000000e 0003 0001 00000001 ffff ffffffff'));
  });

  it('Fetch v12 response writes a tagged currentLeader only when it differs from its default', () => {
    const partition = { partitionIndex: 0, errorCode: 0, highWatermark: 5, records: null };
    const plain = encodeResponse(ApiKey.Fetch, 12, 1, { responses: [{ topic: 't', partitions: [partition] }] });
    const tagged = encodeResponse(ApiKey.Fetch, 12, 1, {
      responses: [{ topic: 't', partitions: [{ ...partition, currentLeader: { leaderId: 2, leaderEpoch: 3 } }] }],
    });
    // tagged-field section: count 1, tag 1, size 9 (two int32 + empty tag section).
    expect(tagged.length - plain.length).toBe(11);
    expect(tagged.includes(hex('01 01 09 00000002 00000003 00'))).toBe(true);
    const body = decodeResponse(ApiKey.Fetch, 12, tagged.subarray(4)).body;
    expect(body.responses[0].partitions[0].currentLeader).toEqual({ leaderId: 2, leaderEpoch: 3 });
  });

  it('JoinGroup v9 request: compact strings, null as 0, tagged-field sections per struct', () => {
    const body = {
      groupId: 'g',
      sessionTimeoutMs: 30000,
      rebalanceTimeoutMs: 60000,
      memberId: '',
      groupInstanceId: null,
      protocolType: 'consumer',
      protocols: [{ name: 'range', metadata: Buffer.from('x') }],
      reason: null,
    };
    const frame = encodeRequest({ apiKey: ApiKey.JoinGroup, apiVersion: 9, correlationId: 1, clientId: null }, body);
    const expected = hex('0000002c 000b 0009 00000001 ffff 00' + '0267 00007530 0000ea60 01 00 09636f6e73756d6572 02 0672616e6765 0278 00 00 00');
    expect(frame).toEqual(expected);
    // An unknown tagged field (tag 5, two bytes) in the body is skipped.
    const withTag = Buffer.concat([expected.subarray(4, expected.length - 1), hex('01 05 02 abcd')]);
    expect(decodeRequest(withTag, { strict: true }).body).toEqual(body);
  });

  it('JoinGroup v9 response carries skipAssignment and nullable protocolType', () => {
    const frame = encodeResponse(ApiKey.JoinGroup, 9, 1, {
      generationId: 1,
      protocolType: 'consumer',
      protocolName: 'range',
      leader: 'm',
      memberId: 'm',
      members: [{ memberId: 'm', groupInstanceId: null, metadata: Buffer.from('x') }],
    });
    const body = '00000000 0000 00000001 09636f6e73756d6572 0672616e6765 026d 00 026d 02 026d 00 0278 00 00';
    expect(frame.subarray(4)).toEqual(hex(`00000001 00 ${body}`));
  });

  it('int64 fields accept bigint and clamp Long.MAX_VALUE given as a number', () => {
    const frame = encodeResponse(ApiKey.InitProducerId, 0, 1, { producerId: 2n ** 62n as unknown as number });
    expect(frame.readBigInt64BE(14)).toBe(2n ** 62n);
    // biome-ignore lint/correctness/noPrecisionLoss: the literal is Long.MAX_VALUE as a client would send it; encoding clamps it.
    const max = encodeResponse(ApiKey.InitProducerId, 0, 1, { producerId: 9223372036854775807 });
    expect(max.readBigInt64BE(14)).toBe(2n ** 63n - 1n);
  });

  it('Vote v2 request (flexible from v0): compact strings and arrays, uuids, the preVote flag last', () => {
    const partition = { partitionIndex: 0, replicaEpoch: 5, replicaId: 1, lastOffsetEpoch: 4, lastOffset: 10, preVote: true };
    const frame = encodeRequest(
      { apiKey: ApiKey.Vote, apiVersion: 2, correlationId: 1, clientId: null },
      { clusterId: 'c', voterId: 2, topics: [{ topicName: '__cluster_metadata', partitions: [partition] }] },
    );
    const zeroUuid = '00'.repeat(16);
    const topic = `13 ${Buffer.from('__cluster_metadata').toString('hex')}`;
    const body = `0263 00000002 02 ${topic} 02 00000000 00000005 00000001 ${zeroUuid} ${zeroUuid} 00000004 000000000000000a 01 00 00 00`;
    expect(frame.subarray(4)).toEqual(hex(`0034 0002 00000001 ffff 00 ${body}`));
    const decoded = decodeRequest(frame.subarray(4), { strict: true }).body;
    expect(decoded.topics[0].partitions[0]).toMatchObject(partition);
    // v1 has no preVote field: the same body without it.
    const v1 = encodeRequest({ apiKey: ApiKey.Vote, apiVersion: 1, correlationId: 1, clientId: null }, decoded);
    expect(v1.length).toBe(frame.length - 1);
  });

  it('LeaderChangeMessage v0 and SnapshotHeaderRecord v0 as KRaft writes them in control records', () => {
    const value = encodeDataMessage(leaderChangeMessageFields, 0, { version: 0, leaderId: 1, voters: [{ voterId: 1 }, { voterId: 2 }, { voterId: 3 }], grantingVoters: [{ voterId: 1 }] });
    expect(value).toEqual(hex('0000 00000001 04 00000001 00 00000002 00 00000003 00 02 00000001 00 00'));
    expect(decodeDataMessage(leaderChangeMessageFields, 0, value, 'LeaderChangeMessage').grantingVoters).toEqual([{ voterId: 1, voterDirectoryId: '00000000-0000-0000-0000-000000000000' }]);
    const header = encodeDataMessage(snapshotHeaderRecordFields, 0, { version: 0, lastContainedLogTimestamp: 258 });
    expect(header).toEqual(hex('0000 0000000000000102 00'));
    expect(() => decodeDataMessage(snapshotHeaderRecordFields, 0, Buffer.concat([header, hex('00')]), 'SnapshotHeaderRecord')).toThrow(/SnapshotHeaderRecord v0: 1 bytes left over/);
  });

  it('BrokerHeartbeat v0 request: header v2, int64 epoch and offset, two bools, empty tag sections', () => {
    const frame = encodeRequest(
      { apiKey: ApiKey.BrokerHeartbeat, apiVersion: 0, correlationId: 1, clientId: null },
      { brokerId: 1, brokerEpoch: 5, currentMetadataOffset: 10, wantFence: false, wantShutDown: true },
    );
    expect(frame).toEqual(hex('00000022 003f 0000 00000001 ffff 00  00000001 0000000000000005 000000000000000a 00 01 00'));
  });

  it('AlterPartition v3 request: topic ids and the new ISR with broker epochs, nested compact arrays', () => {
    const topicId = '00000000-0000-0000-0000-000000000007';
    const frame = encodeRequest(
      { apiKey: ApiKey.AlterPartition, apiVersion: 3, correlationId: 1, clientId: null },
      {
        brokerId: 1,
        brokerEpoch: 5,
        topics: [{ topicId, partitions: [{ partitionIndex: 0, leaderEpoch: 2, newIsrWithEpochs: [{ brokerId: 1, brokerEpoch: 5 }], partitionEpoch: 3 }] }],
      },
    );
    const body = '00000001 0000000000000005 02 00000000000000000000000000000007 02 00000000 00000002 02 00000001 0000000000000005 00 00 00000003 00 00 00';
    expect(frame.subarray(4)).toEqual(hex(`0038 0003 00000001 ffff 00 ${body}`));
    const decoded = decodeRequest(frame.subarray(4)).body as { topics: Array<{ partitions: Array<{ newIsr: number[] }> }> };
    expect(decoded.topics[0].partitions[0].newIsr).toEqual([]);
  });
});
