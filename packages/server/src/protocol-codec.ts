/**
 * The wire codec of the server: `@gregor/protocol` (Kafka's request/response headers and the
 * message descriptions) behind the small `WireCodec` interface the connection machinery uses.
 *
 * Error answers: when a request's header was read but its body was malformed, or the broker
 * failed it as a whole, the answer is the API's response with its top-level `errorCode` set, for
 * the versions whose response has one (ApiVersions, FindCoordinator < 4, JoinGroup, Heartbeat,
 * Fetch v7+, ...). Other APIs carry errors per topic or partition only; for them the connection is
 * closed, as Kafka closes a connection whose request it cannot parse.
 */
import { decodeRequest, decodeRequestHeader, encodeApiVersionsFallback, encodeResponseParts, FrameReader, hasField, isVersionServed } from '@gregor/protocol';
import type { WireCodec } from './wire.js';

/** Record sets above this are written as their own chunks (no copy of Fetch data). */
const INLINE_BYTES_MAX = 4096;

export const protocolCodec: WireCodec = {
  createFrameSplitter: (frameBytesMax) => new FrameReader({ frameBytesMax }),
  decodeHeader: (frame) => decodeRequestHeader(frame),
  isServed: (apiKey, apiVersion) => isVersionServed(apiKey, apiVersion),
  // decodeRequest reads the (small) header again and checks that no bytes are left over.
  decodeBody: (frame) => decodeRequest(frame).body,
  encodeResponse: (header, body) => encodeResponseParts(header.apiKey, header.apiVersion, header.correlationId, body as Record<string, unknown>, { inlineBytesMax: INLINE_BYTES_MAX }),
  encodeApiVersionsFallback: (correlationId) => encodeApiVersionsFallback(correlationId),
  encodeErrorResponse(header, errorCode) {
    if (!hasField(header.apiKey, header.apiVersion, 'response', 'errorCode')) return null;
    return encodeResponseParts(header.apiKey, header.apiVersion, header.correlationId, { errorCode, throttleTimeMs: 0 });
  },
};
