/**
 * Kafka's "data" messages: structs that are not requests or responses but are stored inside
 * records (KRaft's control records, its metadata records, the quorum-state file's schema). They
 * are described as field lists like the APIs and encoded with the same derived codecs, in the
 * flexible encoding (compact types, tagged fields) when the description says so, with no version
 * prefix: the version is known from the context (a record's key or frame). Pure functions.
 */
import { Reader, Writer } from './codec.js';
import { asDecodeError, compileStruct, type StructCodec } from './compile.js';
import { ProtocolDecodeError } from './errors.js';
import type { Body, BodyInput, FieldSpec } from './spec.js';

const codecs = new WeakMap<readonly FieldSpec[], Map<number, StructCodec>>();

function codecOf(fields: readonly FieldSpec[], version: number, flexible: boolean): StructCodec {
  let byVersion = codecs.get(fields);
  if (!byVersion) codecs.set(fields, (byVersion = new Map()));
  const key = version * 2 + (flexible ? 1 : 0);
  let codec = byVersion.get(key);
  if (!codec) byVersion.set(key, (codec = compileStruct(fields, version, flexible)));
  return codec;
}

export interface DataMessageOptions {
  /** Flexible encoding (compact types, tagged fields); default true, as every KRaft record. */
  flexible?: boolean;
}

/** Encodes `value` as the struct `fields` in `version`; missing fields are written as their defaults. */
export function encodeDataMessage<const F extends readonly FieldSpec[]>(fields: F, version: number, value: BodyInput<Body<F>>, options: DataMessageOptions = {}): Buffer {
  const writer = new Writer({ inlineBytesMax: Number.MAX_SAFE_INTEGER });
  codecOf(fields, version, options.flexible !== false).write(writer, value as Record<string, unknown>);
  return writer.finish();
}

/**
 * Decodes the struct `fields` in `version` from all of `bytes` (left-over bytes are an error).
 * Throws `ProtocolDecodeError` naming `name` and the field for malformed bytes.
 */
export function decodeDataMessage<const F extends readonly FieldSpec[]>(fields: F, version: number, bytes: Buffer, name: string, options: DataMessageOptions = {}): Body<F> {
  const reader = new Reader(bytes);
  try {
    const value = codecOf(fields, version, options.flexible !== false).read(reader);
    if (reader.remaining() !== 0) throw new ProtocolDecodeError(`${reader.remaining()} bytes left over`);
    return value as Body<F>;
  } catch (error) {
    throw asDecodeError(error).withContext(`${name} v${version}`);
  }
}
