/**
 * `gregor dump-log --offsets-decoder`: the records of `__consumer_offsets` in words, as Kafka's
 * kafka-dump-log --offsets-decoder prints them: the key as {"type": key version, "data": ...}
 * (version 0/1: an offset commit's group, topic and partition; 2: a group's metadata), the payload
 * as {"version", "data"} (the committed offset, or the group's generation, leader and members with
 * their subscriptions and assignments decoded), and `<DELETE>` for a tombstone. Pure function.
 */
import { decodeGroupMetadataValue, decodeOffsetCommitValue, decodeOffsetsTopicKey } from '@gregor/broker';
import { decodeAssignment, decodeSubscription } from '@gregor/client';

export function describeOffsetsRecord(record: { key: Buffer | null; value: Buffer | null }): { key: string; payload: string } | null {
  if (record.key === null || record.key.length < 2) return null;
  try {
    const keyVersion = record.key.readInt16BE(0);
    const key = decodeOffsetsTopicKey(record.key);
    const keyText = JSON.stringify({ type: String(keyVersion), data: key.kind === 'offset' ? { group: key.groupId, topic: key.topic, partition: key.partition } : { group: key.groupId } });
    if (record.value === null) return { key: keyText, payload: '<DELETE>' };
    const valueVersion = record.value.readInt16BE(0);
    const data = key.kind === 'offset' ? decodeOffsetCommitValue(record.value) : groupData(record.value);
    return { key: keyText, payload: JSON.stringify({ version: String(valueVersion), data }) };
  } catch (error) {
    return { key: `0x${record.key.toString('hex')}`, payload: `(not a __consumer_offsets record: ${(error as Error).message})` };
  }
}

function groupData(value: Buffer) {
  const group = decodeGroupMetadataValue(value);
  const consumer = group.protocolType === 'consumer';
  return {
    protocolType: group.protocolType,
    generation: group.generation,
    protocol: group.protocol,
    leader: group.leader,
    currentStateTimestamp: group.currentStateTimestamp,
    members: group.members.map((member) => ({
      memberId: member.memberId,
      groupInstanceId: member.groupInstanceId,
      clientId: member.clientId,
      clientHost: member.clientHost,
      rebalanceTimeout: member.rebalanceTimeoutMs,
      sessionTimeout: member.sessionTimeoutMs,
      subscription: consumer ? decodeOrHex(() => decodeSubscription(member.subscription).topics, member.subscription) : member.subscription.toString('hex'),
      assignment: consumer ? decodeOrHex(() => decodeAssignment(member.assignment).assignedPartitions, member.assignment) : member.assignment.toString('hex'),
    })),
  };
}

function decodeOrHex(decode: () => unknown, bytes: Buffer): unknown {
  try {
    return decode();
  } catch {
    return bytes.toString('hex');
  }
}
