/**
 * fast-check arbitraries derived from the message descriptions: for one (fields, version) they
 * produce `[input, expected]` where `input` holds random values for every field (also for fields
 * absent in that version, which the encoder must ignore) and `expected` is what a decoder must
 * return: the present fields as given, the absent ones at their default.
 */
import fc from 'fast-check';
import type { FieldSpec, PrimitiveType } from '../src/spec.js';
import { inVersions } from '../src/spec.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

function primitiveArbitrary(type: PrimitiveType): fc.Arbitrary<unknown> {
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -32768, max: 32767 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 });
    case 'int64':
      return fc.maxSafeInteger();
    case 'float64':
      return fc.double({ noNaN: true });
    case 'string':
      return fc.string({ unit: 'grapheme', maxLength: 12 });
    case 'uuid':
      return fc.uuid();
    case 'bytes':
    case 'records':
      return fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes));
  }
}

/** The value a decoder gives a field that is absent in a version (independent of src/compile.ts). */
export function defaultValue(field: FieldSpec): unknown {
  const given = field.options.default;
  if (field.type.startsWith('[]')) return given === null ? null : [];
  if (field.type === 'struct') return Object.fromEntries((field.fields ?? []).map((inner) => [inner.name, defaultValue(inner)]));
  if (given !== undefined) return given;
  switch (field.type as PrimitiveType) {
    case 'bool':
      return false;
    case 'string':
      return '';
    case 'uuid':
      return ZERO_UUID;
    case 'bytes':
      return Buffer.alloc(0);
    case 'records':
      return null;
    default:
      return 0;
  }
}

function valueArbitrary(field: FieldSpec, version: number): fc.Arbitrary<[unknown, unknown]> {
  let base: fc.Arbitrary<[unknown, unknown]>;
  if (field.type === '[]struct') {
    base = fc.array(structArbitrary(field.fields ?? [], version), { maxLength: 3 }).map((pairs) => [pairs.map((p) => p[0]), pairs.map((p) => p[1])]);
  } else if (field.type === 'struct') {
    base = structArbitrary(field.fields ?? [], version);
  } else if (field.type.startsWith('[]')) {
    base = fc.array(primitiveArbitrary(field.type.slice(2) as PrimitiveType), { maxLength: 4 }).map((values) => [values, values]);
  } else {
    base = primitiveArbitrary(field.type as PrimitiveType).map((value) => [value, value]);
  }
  if (!inVersions(field.options.nullable, version)) return base;
  return fc.oneof({ weight: 1, arbitrary: fc.constant<[unknown, unknown]>([null, null]) }, { weight: 4, arbitrary: base });
}

export function structArbitrary(fields: readonly FieldSpec[], version: number): fc.Arbitrary<[Record<string, unknown>, Record<string, unknown>]> {
  const entries: Record<string, fc.Arbitrary<[unknown, unknown]>> = {};
  for (const field of fields) {
    if (inVersions(field.versions, version)) entries[field.name] = valueArbitrary(field, version);
    else {
      const fallback = defaultValue(field);
      // An absent field may hold anything in the input: the encoder must drop it.
      entries[field.name] = fc.oneof(fc.constant(fallback), fc.constant('ignored')).map((input) => [input, fallback]);
    }
  }
  return fc.record(entries).map((record) => {
    const input: Record<string, unknown> = {};
    const expected: Record<string, unknown> = {};
    for (const [name, [given, wanted]] of Object.entries(record)) {
      input[name] = given;
      expected[name] = wanted;
    }
    return [input, expected];
  });
}
