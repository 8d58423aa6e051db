/**
 * Control records (in batches with the control flag): Kafka's transaction markers. The key is
 * version i16 (0) + type i16 (0 ABORT, 1 COMMIT); the value of an end-transaction marker is
 * version i16 (0) + coordinatorEpoch i32. Pure functions.
 */
import { CorruptRecordError } from './errors.js';

export const ControlRecordType = { abort: 0, commit: 1 } as const;
export type ControlRecordTypeValue = (typeof ControlRecordType)[keyof typeof ControlRecordType];

export const CONTROL_RECORD_KEY_BYTES = 4;
export const END_TRANSACTION_MARKER_VALUE_BYTES = 6;

export interface ControlRecord {
  version: number;
  type: number;
  /** The coordinator epoch of an abort/commit marker; null for other control types. */
  coordinatorEpoch: number | null;
}

/** Key and value of an end-transaction marker (`type` abort or commit). */
export function encodeControlRecord(type: ControlRecordTypeValue, coordinatorEpoch: number): { key: Buffer; value: Buffer } {
  const key = Buffer.alloc(CONTROL_RECORD_KEY_BYTES);
  key.writeInt16BE(0, 0);
  key.writeInt16BE(type, 2);
  const value = Buffer.alloc(END_TRANSACTION_MARKER_VALUE_BYTES);
  value.writeInt16BE(0, 0);
  value.writeInt32BE(coordinatorEpoch, 2);
  return { key, value };
}

/** Reads a control record's key (and the marker value for abort/commit). */
export function decodeControlRecord(key: Buffer | null, value: Buffer | null): ControlRecord {
  if (key === null || key.length < CONTROL_RECORD_KEY_BYTES) throw new CorruptRecordError('control record key must hold version and type');
  const version = key.readInt16BE(0);
  const type = key.readInt16BE(2);
  if (type !== ControlRecordType.abort && type !== ControlRecordType.commit) return { version, type, coordinatorEpoch: null };
  if (value === null || value.length < END_TRANSACTION_MARKER_VALUE_BYTES) throw new CorruptRecordError('end-transaction marker value must hold version and coordinator epoch');
  return { version, type, coordinatorEpoch: value.readInt32BE(2) };
}
