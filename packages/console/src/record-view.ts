/**
 * How the console shows a record's bytes: keys, values and header values as JSON, text or hex
 * (base64 on request), each cut at `fieldBytesMax` and marked `truncated`, so one huge value cannot
 * make an answer huge. `auto` picks JSON for an object or array, text for valid UTF-8, hex for the
 * rest. The same views go to the REST answers and to the live tail.
 */
import type { FetchedMessage } from './partition-fetcher.js';

export const FIELD_FORMATS = ['auto', 'text', 'json', 'hex', 'base64'] as const;
export type FieldFormat = (typeof FIELD_FORMATS)[number];

export interface FieldView {
  encoding: 'null' | 'json' | 'text' | 'hex' | 'base64';
  /** The parsed JSON value, the text, or the hex / base64 string; null for a null field. */
  data: unknown;
  /** Size of the whole field in bytes (before any cut). */
  size: number;
  truncated: boolean;
}

export interface RecordView {
  partition: number;
  offset: number;
  timestamp: number;
  key: FieldView;
  value: FieldView;
  headers: { key: string; value: FieldView }[];
  /** Bytes of key, value and headers as stored (what counts against the answer's byte budget). */
  sizeBytes: number;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

function asText(bytes: Buffer): string | null {
  try {
    return utf8.decode(bytes);
  } catch {
    return null;
  }
}

export function viewField(bytes: Buffer | null, format: FieldFormat, fieldBytesMax: number): FieldView {
  if (bytes === null) return { encoding: 'null', data: null, size: 0, truncated: false };
  const truncated = bytes.length > fieldBytesMax;
  const shown = truncated ? bytes.subarray(0, fieldBytesMax) : bytes;
  const view = (encoding: FieldView['encoding'], data: unknown): FieldView => ({ encoding, data, size: bytes.length, truncated });
  if (format === 'hex') return view('hex', shown.toString('hex'));
  if (format === 'base64') return view('base64', shown.toString('base64'));
  const text = asText(shown);
  if (text === null) return view('hex', shown.toString('hex'));
  if ((format === 'json' || format === 'auto') && !truncated) {
    const trimmed = text.trimStart();
    // auto: only objects and arrays count as JSON, so a key "42" stays text.
    if (format === 'json' || trimmed.startsWith('{') || trimmed.startsWith('[')) {
      try {
        return view('json', JSON.parse(text));
      } catch {
        // Not JSON: shown as text.
      }
    }
  }
  return view('text', text);
}

type Headers = FetchedMessage['headers'];

function headerList(headers: Headers): { key: string; value: Buffer | null }[] {
  const list: { key: string; value: Buffer | null }[] = [];
  for (const [key, value] of Object.entries(headers)) {
    if (Array.isArray(value)) for (const v of value) list.push({ key, value: v as Buffer | null });
    else list.push({ key, value: value as Buffer | null });
  }
  return list;
}

export function viewRecord(partition: number, message: FetchedMessage, format: FieldFormat, fieldBytesMax: number): RecordView {
  const headers = headerList(message.headers);
  let sizeBytes = (message.key?.length ?? 0) + (message.value?.length ?? 0);
  for (const h of headers) sizeBytes += Buffer.byteLength(h.key) + (h.value?.length ?? 0);
  return {
    partition,
    offset: message.offsetNumber,
    timestamp: message.timestampMs,
    key: viewField(message.key, format, fieldBytesMax),
    value: viewField(message.value, format, fieldBytesMax),
    headers: headers.map((h) => ({ key: h.key, value: viewField(h.value, format, fieldBytesMax) })),
    sizeBytes,
  };
}

/** What a record filter looks at, without building the view first (most scanned records are dropped). */
export interface RecordFilter {
  /** Exact key, compared as bytes with the key's UTF-8. */
  key: Buffer | null;
  /** Case-insensitive text searched in the key, the value, and header keys and values. */
  search: string | null;
  fromTimestamp: number | null;
  toTimestamp: number | null;
  fromOffset: number | null;
  toOffset: number | null;
}

export const NO_FILTER: RecordFilter = { key: null, search: null, fromTimestamp: null, toTimestamp: null, fromOffset: null, toOffset: null };

export function isFiltering(filter: RecordFilter): boolean {
  return filter.key !== null || filter.search !== null || filter.fromTimestamp !== null || filter.toTimestamp !== null;
}

function contains(bytes: Buffer | null, needle: string): boolean {
  // Latin-1 keeps every byte one character, so the search never throws on binary data; ASCII
  // letters fold the same way as in UTF-8.
  return bytes?.toString('latin1').toLowerCase().includes(needle) ?? false;
}

export function matches(message: FetchedMessage, filter: RecordFilter): boolean {
  const offset = message.offsetNumber;
  if (filter.fromOffset !== null && offset < filter.fromOffset) return false;
  if (filter.toOffset !== null && offset > filter.toOffset) return false;
  if (filter.fromTimestamp !== null && message.timestampMs < filter.fromTimestamp) return false;
  if (filter.toTimestamp !== null && message.timestampMs > filter.toTimestamp) return false;
  if (filter.key !== null && (message.key === null || !message.key.equals(filter.key))) return false;
  if (filter.search !== null) {
    // The needle gets the same byte-wise folding as the haystack, so equal bytes still match.
    const needle = Buffer.from(filter.search.toLowerCase(), 'utf8').toString('latin1').toLowerCase();
    if (contains(message.key, needle) || contains(message.value, needle)) return true;
    for (const h of headerList(message.headers)) if (h.key.toLowerCase().includes(filter.search.toLowerCase()) || contains(h.value, needle)) return true;
    return false;
  }
  return true;
}
