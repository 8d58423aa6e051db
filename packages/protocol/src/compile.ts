/**
 * Derives a decoder and an encoder for one (message, version) from its description: a tree of
 * small closures built once and cached by the caller. Nothing here knows any particular API; the
 * layout of every message comes from the field lists in `messages/`.
 *
 * Decoding is defensive (the bytes are untrusted): every count and length is checked against the
 * bytes left before anything is allocated, and every failure is a `ProtocolDecodeError` whose
 * path names the field (`topics[1].partitions[0].records`).
 */
import assert from 'node:assert/strict';
import { Reader, Writer, ZERO_UUID } from './codec.js';
import { ProtocolDecodeError, ProtocolEncodeError } from './errors.js';
import { type FieldSpec, inVersions, type PrimitiveType } from './spec.js';

export interface StructCodec {
  read(reader: Reader): Record<string, any>;
  write(writer: Writer, value: Record<string, any> | undefined): void;
  /** Fewest bytes one encoded value can take (bounds array counts before allocation). */
  readonly minBytes: number;
  /** A value holding every field's default. */
  defaults(): Record<string, any>;
}

interface ValueCodec {
  read(reader: Reader): any;
  write(writer: Writer, value: any): void;
  minBytes: number;
}

interface CompiledField {
  name: string;
  codec: ValueCodec;
  defaultValue: () => any;
  tag: number | null;
}

const EMPTY_BUFFER = Buffer.alloc(0);

function primitiveDefault(type: PrimitiveType, given: unknown): any {
  if (given !== undefined) return given;
  switch (type) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return EMPTY_BUFFER;
    case 'records':
      return null;
    default:
      return 0;
  }
}

/** The default value of a field: its declared default, else Kafka's zero value for the type. */
function defaultFactory(field: FieldSpec, version: number, flexible: boolean): () => any {
  const given = field.options.default;
  if (field.type === '[]struct' || field.type.startsWith('[]')) {
    return given === null ? () => null : () => [];
  }
  if (field.type === 'struct') {
    const inner = compileStruct(field.fields ?? [], version, flexible);
    return () => inner.defaults();
  }
  const value = primitiveDefault(field.type as PrimitiveType, given);
  return () => value;
}

function fixed(bytes: number, read: (r: Reader) => any, write: (w: Writer, v: any) => void): ValueCodec {
  return { read, write, minBytes: bytes };
}

function checkNumber(value: any, min: number, max: number, type: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new ProtocolEncodeError(`${type} value ${String(value)} out of range`);
  }
  return value;
}

function primitiveCodec(type: PrimitiveType, compact: boolean, nullable: boolean): ValueCodec {
  switch (type) {
    case 'bool':
      return fixed(1, (r) => r.bool(), (w, v) => w.bool(Boolean(v)));
    case 'int8':
      return fixed(1, (r) => r.int8(), (w, v) => w.int8(checkNumber(v, -128, 127, type)));
    case 'int16':
      return fixed(2, (r) => r.int16(), (w, v) => w.int16(checkNumber(v, -32768, 32767, type)));
    case 'uint16':
      return fixed(2, (r) => r.uint16(), (w, v) => w.uint16(checkNumber(v, 0, 65535, type)));
    case 'int32':
      return fixed(4, (r) => r.int32(), (w, v) => w.int32(checkNumber(v, -(2 ** 31), 2 ** 31 - 1, type)));
    case 'int64':
      return fixed(8, (r) => r.int64(), (w, v) => w.int64(v));
    case 'float64':
      return fixed(8, (r) => r.float64(), (w, v) => w.float64(v));
    case 'uuid':
      return fixed(16, (r) => r.uuid(), (w, v) => w.uuid(v));
    case 'string':
      return stringCodec(compact, nullable);
    case 'bytes':
    case 'records':
      return bytesCodec(compact, nullable);
  }
}

function nullError(): ProtocolDecodeError {
  return new ProtocolDecodeError('null in a non-nullable field');
}

function stringCodec(compact: boolean, nullable: boolean): ValueCodec {
  return {
    minBytes: compact ? 1 : 2,
    read(r) {
      const length = r.length(compact, 2);
      if (length < 0) {
        if (!nullable) throw nullError();
        return null;
      }
      return r.utf8(length);
    },
    write(w, v) {
      if (v === null) {
        if (!nullable) throw new ProtocolEncodeError('null string in a non-nullable field');
        w.length(compact, 2, -1);
        return;
      }
      const text = String(v);
      const byteLength = Buffer.byteLength(text, 'utf8');
      if (!compact && byteLength > 0x7fff) throw new ProtocolEncodeError(`string of ${byteLength} bytes is too long`);
      w.length(compact, 2, byteLength);
      w.utf8(text, byteLength);
    },
  };
}

function bytesCodec(compact: boolean, nullable: boolean): ValueCodec {
  return {
    minBytes: compact ? 1 : 4,
    read(r) {
      const length = r.length(compact, 4);
      if (length < 0) {
        if (!nullable) throw nullError();
        return null;
      }
      return r.take(length);
    },
    write(w, v) {
      if (v === null) {
        if (!nullable) throw new ProtocolEncodeError('null bytes in a non-nullable field');
        w.length(compact, 4, -1);
        return;
      }
      if (!Buffer.isBuffer(v)) throw new ProtocolEncodeError('bytes field is not a Buffer');
      w.length(compact, 4, v.length);
      w.bytes(v);
    },
  };
}

function arrayCodec(element: ValueCodec, compact: boolean, nullable: boolean): ValueCodec {
  const elementBytes = Math.max(1, element.minBytes);
  return {
    minBytes: compact ? 1 : 4,
    read(r) {
      const count = r.length(compact, 4);
      if (count < 0) {
        if (!nullable) throw nullError();
        return null;
      }
      if (count > r.remaining() / elementBytes) {
        throw new ProtocolDecodeError(`array count ${count} exceeds the ${r.remaining()} bytes left`);
      }
      const values = new Array(count);
      for (let i = 0; i < count; i++) {
        try {
          values[i] = element.read(r);
        } catch (error) {
          throw asDecodeError(error).withOuterPath(`[${i}]`);
        }
      }
      return values;
    },
    write(w, v) {
      if (v === null || v === undefined) {
        if (v === null && !nullable) throw new ProtocolEncodeError('null array in a non-nullable field');
        if (v === null) {
          w.length(compact, 4, -1);
          return;
        }
        w.length(compact, 4, 0);
        return;
      }
      if (!Array.isArray(v)) throw new ProtocolEncodeError('array field is not an array');
      w.length(compact, 4, v.length);
      for (let i = 0; i < v.length; i++) element.write(w, v[i]);
    },
  };
}

export function asDecodeError(error: unknown): ProtocolDecodeError {
  if (error instanceof ProtocolDecodeError) return error;
  return new ProtocolDecodeError(error instanceof Error ? error.message : String(error));
}

function fieldCodec(field: FieldSpec, version: number, flexible: boolean): ValueCodec {
  const nullable = inVersions(field.options.nullable, version);
  if (field.type === 'struct') {
    assert(!nullable, `nullable struct ${field.name} is not supported by this notation`);
    return compileStruct(field.fields ?? [], version, flexible);
  }
  if (field.type === '[]struct') {
    return arrayCodec(compileStruct(field.fields ?? [], version, flexible), flexible, nullable);
  }
  if (field.type.startsWith('[]')) {
    return arrayCodec(primitiveCodec(field.type.slice(2) as PrimitiveType, flexible, false), flexible, nullable);
  }
  return primitiveCodec(field.type as PrimitiveType, flexible, nullable);
}

const structCache = new WeakMap<readonly FieldSpec[], Map<string, StructCodec>>();

/** The codec of a field list in one version; cached by (fields, version, flexible). */
export function compileStruct(fields: readonly FieldSpec[], version: number, flexible: boolean): StructCodec {
  let byVersion = structCache.get(fields);
  if (!byVersion) {
    byVersion = new Map();
    structCache.set(fields, byVersion);
  }
  const key = `${version}:${flexible}`;
  let codec = byVersion.get(key);
  if (!codec) {
    codec = buildStruct(fields, version, flexible);
    byVersion.set(key, codec);
  }
  return codec;
}

function buildStruct(fields: readonly FieldSpec[], version: number, flexible: boolean): StructCodec {
  const regular: CompiledField[] = [];
  const tagged: CompiledField[] = [];
  const absent: CompiledField[] = [];
  for (const field of fields) {
    const present = inVersions(field.versions, version);
    const isTagged = flexible && field.options.tag !== undefined && inVersions(field.options.taggedVersions ?? field.versions, version);
    const compiled: CompiledField = {
      name: field.name,
      codec: present ? fieldCodec(field, version, flexible) : (undefined as unknown as ValueCodec),
      defaultValue: defaultFactory(field, version, flexible),
      tag: isTagged ? (field.options.tag as number) : null,
    };
    if (!present) absent.push(compiled);
    else if (isTagged) tagged.push(compiled);
    else regular.push(compiled);
  }
  tagged.sort((a, b) => (a.tag as number) - (b.tag as number));
  const taggedByTag = new Map(tagged.map((field) => [field.tag as number, field]));
  const minBytes = regular.reduce((sum, field) => sum + field.codec.minBytes, flexible ? 1 : 0);
  const all = new Map([...regular, ...tagged, ...absent].map((field) => [field.name, field]));
  const inOrder = fields.map((field) => all.get(field.name) as CompiledField);
  const regularSet = new Set(regular);
  const defaults = (): Record<string, any> => {
    const value: Record<string, any> = {};
    for (const field of inOrder) value[field.name] = field.defaultValue();
    return value;
  };

  return {
    minBytes,
    defaults,
    read(reader) {
      const value: Record<string, any> = {};
      let current = '';
      try {
        for (const field of inOrder) {
          current = field.name;
          value[field.name] = regularSet.has(field) ? field.codec.read(reader) : field.defaultValue();
        }
        current = '';
        if (flexible) readTaggedFields(reader, taggedByTag, value);
      } catch (error) {
        const decodeError = asDecodeError(error);
        throw current === '' ? decodeError : decodeError.withOuterPath(current);
      }
      return value;
    },
    write(writer, value) {
      const source = value ?? {};
      for (const field of regular) {
        const fieldValue = source[field.name];
        try {
          field.codec.write(writer, fieldValue === undefined ? field.defaultValue() : fieldValue);
        } catch (error) {
          if (error instanceof ProtocolEncodeError) throw new ProtocolEncodeError(`${field.name}: ${error.message}`);
          throw error;
        }
      }
      if (flexible) writeTaggedFields(writer, tagged, source);
    },
  };
}

function readTaggedFields(reader: Reader, byTag: Map<number, CompiledField>, value: Record<string, any>): void {
  const count = reader.uvarint();
  if (count > reader.remaining() / 2) throw new ProtocolDecodeError(`tagged field count ${count} exceeds the bytes left`);
  let previousTag = -1;
  for (let i = 0; i < count; i++) {
    const tag = reader.uvarint();
    if (tag <= previousTag) throw new ProtocolDecodeError(`tagged field ${tag} out of order`);
    previousTag = tag;
    const size = reader.uvarint();
    reader.need(size);
    const field = byTag.get(tag);
    if (!field) {
      reader.skip(size);
      continue;
    }
    const end = reader.offset + size;
    const outerEnd = reader.end;
    reader.end = end;
    try {
      value[field.name] = field.codec.read(reader);
      if (reader.offset !== end) throw new ProtocolDecodeError(`tagged field ${tag} has ${end - reader.offset} bytes left over`);
    } catch (error) {
      throw asDecodeError(error).withOuterPath(field.name);
    } finally {
      reader.end = outerEnd;
    }
  }
}

/** Kafka writes a tagged field only when it differs from its default; nested structs compare by value. */
function isDefault(value: any, defaultValue: any): boolean {
  if (value === undefined || value === defaultValue) return true;
  if (value === null || defaultValue === null || typeof value !== 'object' || typeof defaultValue !== 'object') return false;
  if (Array.isArray(value)) return Array.isArray(defaultValue) && value.length === 0 && defaultValue.length === 0;
  if (Buffer.isBuffer(value)) return Buffer.isBuffer(defaultValue) && value.equals(defaultValue);
  for (const key of Object.keys(defaultValue)) {
    if (!isDefault(value[key], defaultValue[key])) return false;
  }
  return true;
}

function writeTaggedFields(writer: Writer, tagged: CompiledField[], source: Record<string, any>): void {
  const present = tagged.filter((field) => !isDefault(source[field.name], field.defaultValue()));
  writer.uvarint(present.length);
  for (const field of present) {
    const inner = new Writer({ inlineBytesMax: Number.MAX_SAFE_INTEGER });
    field.codec.write(inner, source[field.name]);
    const bytes = inner.finish();
    writer.uvarint(field.tag as number);
    writer.uvarint(bytes.length);
    writer.bytes(bytes);
  }
}
