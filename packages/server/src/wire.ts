/**
 * What the connection machinery needs from the wire protocol, as a small interface. The default
 * implementation (`protocol-codec.ts`) is `@gregor/protocol`; tests of the connection machinery
 * swap in a trivial codec so ordering, back-pressure and limits are checked on their own.
 */

/** The request header fields the server uses (Kafka request header v0-v2). */
export interface RequestHeader {
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
}

/** Splits a TCP byte stream into frames (the bytes after each 4-byte size prefix). */
export interface FrameSplitter {
  /** Returns the frames completed by this chunk; throws when a declared size is over the limit or negative. */
  push(chunk: Buffer): Buffer[];
  /** Bytes received and not yet returned in a frame. */
  readonly bufferedBytes: number;
  /** Bytes the frame being read still lacks, by its declared size (0 before a size is read). */
  readonly awaitedBytes: number;
}

/** A response ready for the socket: one buffer, or parts written in order without copying (record payloads). */
export type ResponseBytes = Buffer | readonly Buffer[];

export interface WireCodec {
  createFrameSplitter(frameBytesMax: number): FrameSplitter;
  /** Throws on a header that cannot be read. */
  decodeHeader(frame: Buffer): { header: RequestHeader; bodyOffset: number };
  /** Whether this server answers (apiKey, apiVersion). */
  isServed(apiKey: number, apiVersion: number): boolean;
  /** Throws on a malformed body. */
  decodeBody(frame: Buffer, header: RequestHeader, bodyOffset: number): unknown;
  encodeResponse(header: RequestHeader, body: unknown): ResponseBytes;
  /** ApiVersions of a version we do not know: v0 format, UNSUPPORTED_VERSION and our api list. */
  encodeApiVersionsFallback(correlationId: number): ResponseBytes;
  /**
   * An error answer for a request whose header was read but whose body was not understood or
   * failed in the broker; `null` when this API has no way to carry the error (then the connection
   * closes, as Kafka does).
   */
  encodeErrorResponse(header: RequestHeader, errorCode: number): ResponseBytes | null;
}

export const API_VERSIONS_KEY = 18;
