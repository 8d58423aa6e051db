/**
 * Our compact notation for Kafka message descriptions, and the TypeScript types derived from it.
 *
 * One API is `api(name, key, { versions, flexibleFrom, request, response })`. A field is
 * `f(name, type, versions, options?)` for a primitive or an array of primitives (`'[]int32'`),
 * `s(name, versions, fields, options?)` for an array of structs and `o(name, versions, fields,
 * options?)` for a single nested struct. Versions are Kafka's strings: `'3+'`, `'0-4'`, `'none'`.
 * Options: `nullable` (versions in which null is allowed), `default` (value when absent), `tag`
 * (tag number of a tagged field, tagged in `taggedVersions`, by default the field's versions).
 * The facts are transcribed from apache/kafka `clients/src/main/resources/common/message/*.json`.
 */

export type PrimitiveType =
  | 'bool'
  | 'int8'
  | 'int16'
  | 'uint16'
  | 'int32'
  | 'int64'
  | 'float64'
  | 'string'
  | 'bytes'
  | 'records'
  | 'uuid';

export type FieldType = PrimitiveType | `[]${PrimitiveType}` | 'struct' | '[]struct';

export type DefaultValue = number | boolean | string | null;

export interface FieldOptions {
  readonly nullable?: string;
  readonly default?: DefaultValue;
  readonly tag?: number;
  readonly taggedVersions?: string;
}

export interface FieldSpec {
  readonly name: string;
  readonly type: FieldType;
  readonly versions: string;
  readonly options: FieldOptions;
  readonly fields?: readonly FieldSpec[];
}

export interface MessageSpec {
  readonly name: string;
  readonly apiKey: number;
  /** Versions we serve, inclusive. */
  readonly minVersion: number;
  readonly maxVersion: number;
  /** First flexible version (compact encodings and tagged fields), or null if none we serve is. */
  readonly flexibleFrom: number | null;
  readonly request: readonly FieldSpec[];
  readonly response: readonly FieldSpec[];
}

/** A primitive field or an array of primitives. */
export function f<const N extends string, const T extends PrimitiveType | `[]${PrimitiveType}`, const O extends FieldOptions = {}>(
  name: N,
  type: T,
  versions: string,
  options?: O,
): { readonly name: N; readonly type: T; readonly versions: string; readonly options: O } {
  return { name, type, versions, options: (options ?? {}) as O };
}

/** An array of structs. */
export function s<const N extends string, const F extends readonly FieldSpec[], const O extends FieldOptions = {}>(
  name: N,
  versions: string,
  fields: F,
  options?: O,
): { readonly name: N; readonly type: '[]struct'; readonly versions: string; readonly options: O; readonly fields: F } {
  return { name, type: '[]struct', versions, options: (options ?? {}) as O, fields };
}

/** A single nested struct. */
export function o<const N extends string, const F extends readonly FieldSpec[], const O extends FieldOptions = {}>(
  name: N,
  versions: string,
  fields: F,
  options?: O,
): { readonly name: N; readonly type: 'struct'; readonly versions: string; readonly options: O; readonly fields: F } {
  return { name, type: 'struct', versions, options: (options ?? {}) as O, fields };
}

export function api<const Q extends readonly FieldSpec[], const R extends readonly FieldSpec[]>(
  name: string,
  apiKey: number,
  definition: { versions: string; flexibleFrom: number | null; request: Q; response: R },
): MessageSpec & { readonly request: Q; readonly response: R } {
  const [minVersion, maxVersion] = parseVersions(definition.versions);
  return { name, apiKey, minVersion, maxVersion, flexibleFrom: definition.flexibleFrom, request: definition.request, response: definition.response };
}

/** `'3+'` → [3, 32767], `'0-4'` → [0, 4], `'5'` → [5, 5], `'none'` → [1, 0] (empty). */
export function parseVersions(versions: string): [number, number] {
  if (versions === 'none') return [1, 0];
  if (versions.endsWith('+')) return [Number(versions.slice(0, -1)), 0x7fff];
  const dash = versions.indexOf('-');
  if (dash < 0) return [Number(versions), Number(versions)];
  return [Number(versions.slice(0, dash)), Number(versions.slice(dash + 1))];
}

export function inVersions(versions: string | undefined, version: number): boolean {
  if (versions === undefined) return false;
  const [min, max] = parseVersions(versions);
  return version >= min && version <= max;
}

// ---- Types derived from the descriptions ----------------------------------------------------

type PrimitiveValue<T> = T extends 'bool'
  ? boolean
  : T extends 'int8' | 'int16' | 'uint16' | 'int32' | 'int64' | 'float64'
    ? number
    : T extends 'string' | 'uuid'
      ? string
      : T extends 'bytes'
        ? Buffer
        : T extends 'records'
          ? Buffer | null
          : never;

type FieldValue<D> = D extends { type: '[]struct'; fields: infer F extends readonly FieldSpec[] }
  ? Body<F>[]
  : D extends { type: 'struct'; fields: infer F extends readonly FieldSpec[] }
    ? Body<F>
    : D extends { type: `[]${infer P}` }
      ? PrimitiveValue<P>[]
      : D extends { type: infer P }
        ? PrimitiveValue<P>
        : never;

type MaybeNull<D, V> = D extends { options: { nullable: string } } ? V | null : V;

/** The decoded body of a message: every field of every version (absent ones hold their default). */
export type Body<F extends readonly FieldSpec[]> = {
  -readonly [D in F[number] as D['name']]: MaybeNull<D, FieldValue<D>>;
};

/** What an encoder accepts: any field may be left out (it is written as its default). */
export type BodyInput<T> = T extends Buffer
  ? T
  : T extends readonly (infer U)[]
    ? BodyInput<U>[]
    : T extends object
      ? { [K in keyof T]?: BodyInput<T[K]> }
      : T;
