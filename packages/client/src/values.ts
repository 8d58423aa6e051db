/**
 * Record values as users give them: Buffer, string (encoded UTF-8) or null; kafkajs-style headers
 * `{ name: value | value[] }`; and msgpackr helpers for structured values. Pure functions.
 */
import type { RecordHeader } from '@gregor/records';
import { Packr } from 'msgpackr';

export type Value = Buffer | string | null | undefined;

/** kafkajs's IHeaders: a header may repeat, given as an array. */
export type Headers = Record<string, Value | Value[]>;

export function toBuffer(value: Value): Buffer | null {
  if (value === null || value === undefined) return null;
  return typeof value === 'string' ? Buffer.from(value, 'utf8') : value;
}

/** Converts kafkajs headers to Kafka's ordered header list; null when there are none. */
export function toRecordHeaders(headers: Headers | undefined): RecordHeader[] | null {
  if (headers === undefined || headers === null) return null;
  let list: RecordHeader[] | null = null;
  for (const key in headers) {
    const value = headers[key];
    list ??= [];
    if (Array.isArray(value)) for (const v of value) list.push({ key, value: toBuffer(v) });
    else list.push({ key, value: toBuffer(value) });
  }
  return list;
}

/** Kafka's header list back into kafkajs's object shape; repeated keys become arrays. */
export function fromRecordHeaders(headers: readonly RecordHeader[]): Record<string, Buffer | null | (Buffer | null)[]> {
  const out: Record<string, Buffer | null | (Buffer | null)[]> = {};
  for (const { key, value } of headers) {
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else if (Array.isArray(previous)) previous.push(value);
    else out[key] = [previous, value];
  }
  return out;
}

const packr = new Packr({ useRecords: false });

/** Encodes any structured value with msgpack. */
export function encodeValue(value: unknown): Buffer {
  return packr.pack(value);
}

/** Decodes a msgpack value; null stays null (a tombstone). */
export function decodeValue<T = unknown>(buffer: Buffer | null): T | null {
  return buffer === null ? null : (packr.unpack(buffer) as T);
}

export interface Serializer<T> {
  serialize(value: T): Buffer;
  deserialize(buffer: Buffer | null): T | null;
}

export function msgpackSerializer<T = unknown>(): Serializer<T> {
  return { serialize: (value) => encodeValue(value), deserialize: (buffer) => decodeValue<T>(buffer) };
}
