/**
 * What a request handler may know about the caller and the broker. The TCP server and the
 * in-process client both build a RequestContext; handlers never see sockets.
 */
export interface RequestContext {
  /** The request header's client id (null when the client sent none). */
  clientId?: string | null;
  /** The caller's address, as DescribeGroups reports it (`/127.0.0.1`). */
  clientHost?: string;
  correlationId?: number;
  /** The server's connection number, when the request came over TCP. */
  connectionId?: number;
  /**
   * Set by the in-process transport for a Produce from Gregor's own producer in this process: its
   * record sets were encoded and checksummed by @gregor/records' BatchBuilder just before and never
   * left memory, so produce takes their CRCs as checked instead of computing them again (as the
   * in-process consumer takes the broker's reads as checked). Never set for a request from a socket.
   */
  recordsBuiltByProducer?: boolean;
  /**
   * The request was decoded from bytes nobody else holds (a frame read off a socket): a leader may
   * keep its record sets, as appended, for its followers' next Fetch (RecentAppends). Not set for
   * requests made in this process, whose buffers their caller may reuse.
   */
  recordBytesOwned?: boolean;
  /**
   * The listener the request came in on (`PLAINTEXT`, ...): Metadata and FindCoordinator answer
   * with the brokers' endpoints on that listener. Default: the broker's first client listener.
   */
  listenerName?: string;
  /**
   * Who sent the request (`User:alice`, `User:ANONYMOUS`), from the listener's authentication;
   * absent for requests made in this process, which are not authorized (authorization.ts).
   */
  principal?: string;
  /**
   * Set by the server for a write request: call it once the request's changes are made and only
   * its answer waits (Produce calls it after appending, before an acks=all wait for replication),
   * so the connection starts its next write. See @gregor/server's RequestContext.
   */
  writeDone?: () => void;
}

/** A decoded request or response body: Kafka's JSON field names camelCased. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Body = Record<string, any>;
