/**
 * Whole Kafka frames: the int32 size prefix, request header v1/v2 and response header v0/v1,
 * and the body codecs from the registry. Stateless functions; safe to call from anywhere.
 *
 * Request header: apiKey int16, apiVersion int16, correlationId int32, clientId nullable string
 * (always int16-length, even in v2), then tagged fields in v2. Response header: correlationId
 * int32, then tagged fields in v1.
 */
import {
  type ApiVersionRange,
  codecFor,
  type DescribedApiKey,
  isFlexible,
  isVersionServed,
  type RequestBody,
  type RequestInput,
  type ResponseBody,
  type ResponseInput,
  requestHeaderVersion,
  responseHeaderVersion,
  servedApiVersions,
  specFor,
} from './apis.js';
import { Reader, Writer, type WriterOptions } from './codec.js';
import { asDecodeError } from './compile.js';
import { ErrorCode } from './error-codes.js';
import { ProtocolDecodeError } from './errors.js';

export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

export type AnyBody = Record<string, any>;

function context(apiKey: number, apiVersion: number, direction: string): string {
  return `${specFor(apiKey)?.name ?? `api ${apiKey}`} v${apiVersion} ${direction}`;
}

function writeRequestHeader(writer: Writer, header: RequestHeader): void {
  writer.int16(header.apiKey);
  writer.int16(header.apiVersion);
  writer.int32(header.correlationId);
  const clientId = header.clientId ?? null;
  if (clientId === null) writer.int16(-1);
  else {
    const length = Buffer.byteLength(clientId, 'utf8');
    writer.int16(length);
    writer.utf8(clientId, length);
  }
  if (requestHeaderVersion(header.apiKey, header.apiVersion) === 2) writer.uvarint(0);
}

function sizePrefixed(write: (writer: Writer) => void, options?: WriterOptions): Buffer[] {
  const writer = new Writer(options);
  writer.int32(0);
  write(writer);
  const chunks = writer.finishChunks();
  chunks[0].writeInt32BE(writer.size - 4, 0);
  return chunks;
}

/** One buffer from the chunks: large record sets are copied once, here, not on every growth. */
function join(chunks: Buffer[]): Buffer {
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/**
 * A size-prefixed request as chunks: record sets above `inlineBytesMax` stay the caller's own
 * buffers (write them with `socket.cork()` + `write` per chunk, or `writev`; no copy).
 */
export function encodeRequestParts<K extends DescribedApiKey>(
  header: RequestHeader & { apiKey: K },
  body: RequestInput<K>,
  options?: WriterOptions,
): Buffer[];
export function encodeRequestParts(header: RequestHeader, body: AnyBody, options?: WriterOptions): Buffer[];
export function encodeRequestParts(header: RequestHeader, body: AnyBody, options?: WriterOptions): Buffer[] {
  const codec = codecFor(header.apiKey, header.apiVersion, 'request');
  return sizePrefixed((writer) => {
    writeRequestHeader(writer, header);
    codec.write(writer, body);
  }, options);
}

/** A size-prefixed request in one buffer. */
export function encodeRequest<K extends DescribedApiKey>(header: RequestHeader & { apiKey: K }, body: RequestInput<K>): Buffer;
export function encodeRequest(header: RequestHeader, body: AnyBody): Buffer;
export function encodeRequest(header: RequestHeader, body: AnyBody): Buffer {
  return join(encodeRequestParts(header, body));
}

/**
 * Reads the request header of a frame (the bytes after the size prefix). Works for versions we
 * do not serve too, so the server can answer them: an ApiVersions request of an unknown version
 * is assumed flexible from v3 (as Kafka does), any other unknown version classic.
 */
export function decodeRequestHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number } {
  const reader = new Reader(frame);
  try {
    const apiKey = reader.int16();
    const apiVersion = reader.int16();
    const correlationId = reader.int32();
    const clientIdLength = reader.length(false, 2);
    const clientId = clientIdLength < 0 ? null : reader.utf8(clientIdLength);
    const header = { apiKey, apiVersion, correlationId, clientId };
    if (isVersionServed(apiKey, apiVersion)) {
      if (isFlexible(apiKey, apiVersion)) skipTaggedFields(reader);
    } else if (apiKey === 18 && apiVersion >= 3) {
      // A newer ApiVersions than ours: its header is v2, but whatever follows, the server only
      // needs the correlation id to answer with the fallback, so a bad tag section is tolerated.
      const afterClientId = reader.offset;
      try {
        skipTaggedFields(reader);
      } catch {
        reader.offset = afterClientId;
      }
    }
    return { header, bodyOffset: reader.offset };
  } catch (error) {
    throw asDecodeError(error).withContext('request header');
  }
}

function skipTaggedFields(reader: Reader): void {
  const count = reader.uvarint();
  if (count > reader.remaining() / 2) throw new ProtocolDecodeError(`tagged field count ${count} exceeds the bytes left`);
  for (let i = 0; i < count; i++) {
    reader.uvarint();
    reader.skip(reader.uvarint());
  }
}

export interface DecodeOptions {
  /**
   * Reject bytes left over after the body. Off by default, as in Kafka, which ignores them (some
   * clients send a stray field, e.g. @platformatic/kafka's Metadata v11); tests turn it on.
   */
  strict?: boolean;
}

function decodeBody(frame: Buffer, offset: number, apiKey: number, apiVersion: number, direction: 'request' | 'response', options?: DecodeOptions): AnyBody {
  const codec = codecFor(apiKey, apiVersion, direction);
  const reader = new Reader(frame, offset);
  try {
    const body = codec.read(reader);
    if (options?.strict && reader.remaining() !== 0) throw new ProtocolDecodeError(`${reader.remaining()} bytes left over after the body`);
    return body;
  } catch (error) {
    throw asDecodeError(error).withContext(context(apiKey, apiVersion, direction));
  }
}

/**
 * Header and body of a request frame. Throws `UnsupportedVersionError` for an (api, version)
 * we do not serve and `ProtocolDecodeError` for malformed bytes.
 */
export function decodeRequest(frame: Buffer, options?: DecodeOptions): { header: RequestHeader; body: AnyBody } {
  const { header, bodyOffset } = decodeRequestHeader(frame);
  return { header, body: decodeBody(frame, bodyOffset, header.apiKey, header.apiVersion, 'request', options) };
}

/** A size-prefixed response as chunks; record sets above `inlineBytesMax` are not copied. */
export function encodeResponseParts<K extends DescribedApiKey>(
  apiKey: K,
  apiVersion: number,
  correlationId: number,
  body: ResponseInput<K>,
  options?: WriterOptions,
): Buffer[];
export function encodeResponseParts(apiKey: number, apiVersion: number, correlationId: number, body: AnyBody, options?: WriterOptions): Buffer[];
export function encodeResponseParts(apiKey: number, apiVersion: number, correlationId: number, body: AnyBody, options?: WriterOptions): Buffer[] {
  const codec = codecFor(apiKey, apiVersion, 'response');
  return sizePrefixed((writer) => {
    writer.int32(correlationId);
    if (responseHeaderVersion(apiKey, apiVersion) === 1) writer.uvarint(0);
    codec.write(writer, body);
  }, options);
}

/** A size-prefixed response in one buffer; fields absent in `apiVersion` are dropped. */
export function encodeResponse<K extends DescribedApiKey>(apiKey: K, apiVersion: number, correlationId: number, body: ResponseInput<K>): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: AnyBody): Buffer;
export function encodeResponse(apiKey: number, apiVersion: number, correlationId: number, body: AnyBody): Buffer {
  return join(encodeResponseParts(apiKey, apiVersion, correlationId, body));
}

/** The correlation id of a response frame (its first 4 bytes), to match it to its request. */
export function peekCorrelationId(frame: Buffer): number {
  if (frame.length < 4) throw new ProtocolDecodeError(`frame of ${frame.length} bytes has no correlation id`, '', 'response header');
  return frame.readInt32BE(0);
}

/** Correlation id and body of a response frame (the bytes after the size prefix). */
export function decodeResponse<K extends DescribedApiKey>(
  apiKey: K,
  apiVersion: number,
  frame: Buffer,
  options?: DecodeOptions,
): { correlationId: number; body: ResponseBody<K> };
export function decodeResponse(apiKey: number, apiVersion: number, frame: Buffer, options?: DecodeOptions): { correlationId: number; body: AnyBody };
export function decodeResponse(apiKey: number, apiVersion: number, frame: Buffer, options?: DecodeOptions): { correlationId: number; body: AnyBody } {
  const correlationId = peekCorrelationId(frame);
  const reader = new Reader(frame, 4);
  if (responseHeaderVersion(apiKey, apiVersion) === 1) {
    try {
      skipTaggedFields(reader);
    } catch (error) {
      throw asDecodeError(error).withContext('response header');
    }
  }
  return { correlationId, body: decodeBody(frame, reader.offset, apiKey, apiVersion, 'response', options) };
}

/** Typed view of a decoded request body, for handlers that switch on the api key. */
export function requestBodyAs<K extends DescribedApiKey>(_apiKey: K, body: AnyBody): RequestBody<K> {
  return body as RequestBody<K>;
}

/**
 * The answer to an ApiVersions request whose version we do not serve (or cannot parse): Kafka
 * answers in the v0 format, whatever version was asked, with UNSUPPORTED_VERSION and its api
 * list, so the client can retry with a version both sides know. The server calls this when
 * `decodeRequest` throws `UnsupportedVersionError` for api key 18, with the header's
 * correlation id from `decodeRequestHeader`.
 */
export function encodeApiVersionsFallback(correlationId: number, apiList: ApiVersionRange[] = servedApiVersions()): Buffer {
  return encodeResponse(18, 0, correlationId, { errorCode: ErrorCode.UNSUPPORTED_VERSION, apiKeys: apiList });
}
