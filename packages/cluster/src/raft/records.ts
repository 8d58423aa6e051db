/**
 * The batches of the metadata log `__cluster_metadata-0` and of its snapshots, in Kafka's
 * RecordBatch v2 format: data batches (the state machine's opaque values, uncompressed, offsets
 * dense from the base offset) and KRaft's control batches, one control record each, whose key is
 * version i16 (0) + type i16 and whose value is the flexible encoding of the type's data message:
 * LEADER_CHANGE (2, a new leader's first record), SNAPSHOT_HEADER (3) and SNAPSHOT_FOOTER (4).
 * The batch's partitionLeaderEpoch is the raft epoch that wrote it. Pure functions.
 */
import {
  decodeDataMessage,
  encodeDataMessage,
  leaderChangeMessageFields,
  snapshotFooterRecordFields,
  snapshotHeaderRecordFields,
} from '@gregor/protocol';
import { type DecodedBatch, decodeBatch, encodeBatch } from '@gregor/records';
import { InvalidSnapshotError } from './errors.js';

export const METADATA_TOPIC = '__cluster_metadata';
export const METADATA_PARTITION = 0;
/** Kafka's fixed topic id of `__cluster_metadata` (`Uuid.METADATA_TOPIC_ID`, "AAAAAAAAAAAAAAAAAAAAAQ"). */
export const METADATA_TOPIC_ID = '00000000-0000-0000-0000-000000000001';

/** Kafka's `ControlRecordType` ids used by KRaft. */
export const ControlRecordType = Object.freeze({ leaderChange: 2, snapshotHeader: 3, snapshotFooter: 4 });
export type ControlRecordTypeId = (typeof ControlRecordType)[keyof typeof ControlRecordType];

const CONTROL_KEY_BYTES = 4;

function controlKey(type: number): Buffer {
  const key = Buffer.alloc(CONTROL_KEY_BYTES);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  return key;
}

interface BatchPlacement {
  baseOffset: number;
  epoch: number;
  timestampMs: number;
}

function controlBatch(type: ControlRecordTypeId, value: Buffer, placement: BatchPlacement): Buffer {
  return encodeBatch({
    baseOffset: placement.baseOffset,
    partitionLeaderEpoch: placement.epoch,
    isControl: true,
    timestamp: placement.timestampMs,
    records: [{ key: controlKey(type), value }],
  });
}

/** A batch of the state machine's values, as the leader writes it (offsets from `baseOffset`). */
export function dataBatch(values: readonly Buffer[], placement: BatchPlacement): Buffer {
  return encodeBatch({
    baseOffset: placement.baseOffset,
    partitionLeaderEpoch: placement.epoch,
    timestamp: placement.timestampMs,
    records: values.map((value) => ({ value })),
  });
}

/** The LeaderChange control batch a new leader writes first in its epoch (LeaderChangeMessage v0). */
export function leaderChangeBatch(leaderId: number, voters: readonly number[], grantingVoters: readonly number[], placement: BatchPlacement): Buffer {
  const value = encodeDataMessage(leaderChangeMessageFields, 0, {
    version: 0,
    leaderId,
    voters: voters.map((voterId) => ({ voterId })),
    grantingVoters: grantingVoters.map((voterId) => ({ voterId })),
  });
  return controlBatch(ControlRecordType.leaderChange, value, placement);
}

export function snapshotHeaderBatch(lastContainedLogTimestamp: number, placement: BatchPlacement): Buffer {
  return controlBatch(ControlRecordType.snapshotHeader, encodeDataMessage(snapshotHeaderRecordFields, 0, { version: 0, lastContainedLogTimestamp }), placement);
}

export function snapshotFooterBatch(placement: BatchPlacement): Buffer {
  return controlBatch(ControlRecordType.snapshotFooter, encodeDataMessage(snapshotFooterRecordFields, 0, { version: 0 }), placement);
}

export type ControlRecord =
  | { type: 'LeaderChange'; leaderId: number; voters: number[]; grantingVoters: number[] }
  | { type: 'SnapshotHeader'; lastContainedLogTimestamp: number }
  | { type: 'SnapshotFooter' }
  | { type: 'Unknown'; typeId: number };

/** Reads one control record (key and value); unknown types are reported, not rejected (Kafka skips them too). */
export function decodeControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < CONTROL_KEY_BYTES) throw new InvalidSnapshotError('control record key must hold version and type');
  const typeId = key.readInt16BE(2);
  const bytes = value ?? Buffer.alloc(0);
  switch (typeId) {
    case ControlRecordType.leaderChange: {
      const message = decodeDataMessage(leaderChangeMessageFields, 0, bytes, 'LeaderChangeMessage');
      return {
        type: 'LeaderChange',
        leaderId: message.leaderId,
        voters: message.voters.map((voter) => voter.voterId),
        grantingVoters: message.grantingVoters.map((voter) => voter.voterId),
      };
    }
    case ControlRecordType.snapshotHeader:
      return { type: 'SnapshotHeader', lastContainedLogTimestamp: decodeDataMessage(snapshotHeaderRecordFields, 0, bytes, 'SnapshotHeaderRecord').lastContainedLogTimestamp };
    case ControlRecordType.snapshotFooter:
      decodeDataMessage(snapshotFooterRecordFields, 0, bytes, 'SnapshotFooterRecord');
      return { type: 'SnapshotFooter' };
    default:
      return { type: 'Unknown', typeId };
  }
}

/** One batch of the metadata log or of a snapshot, as the state machine above receives it. */
export interface RaftBatch {
  baseOffset: number;
  lastOffset: number;
  /** The raft epoch of the leader that wrote the batch (its partitionLeaderEpoch). */
  epoch: number;
  /** The batch's max timestamp: when the leader appended it. */
  appendTimestamp: number;
  /** Bytes of the batch on disk. */
  sizeInBytes: number;
  /** A control batch (LeaderChange, snapshot framing): `records` is empty, `controlRecords` says what it held. */
  control: boolean;
  /** The record values of a data batch; `records[i]` is the record at offset `baseOffset + i`. */
  records: Buffer[];
  controlRecords: ControlRecord[];
}

/** Decodes a batch read from the log or a snapshot into a `RaftBatch` (values are copies, safe to keep). */
export function toRaftBatch(buffer: Buffer, position: number): RaftBatch {
  const batch: DecodedBatch = decodeBatch(buffer, position);
  const values: Buffer[] = [];
  const controlRecords: ControlRecord[] = [];
  for (const record of batch.records()) {
    if (batch.isControl) controlRecords.push(decodeControlRecord(record.key, record.value));
    else values.push(Buffer.from(record.value ?? Buffer.alloc(0)));
  }
  return {
    baseOffset: batch.baseOffset,
    lastOffset: batch.lastOffset,
    epoch: batch.partitionLeaderEpoch,
    appendTimestamp: batch.maxTimestamp,
    sizeInBytes: batch.sizeBytes,
    control: batch.isControl,
    records: values,
    controlRecords,
  };
}
