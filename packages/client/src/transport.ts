/**
 * The one interface between the clients (Producer, Consumer, Admin) and a broker: send a
 * protocol-shaped request body (Kafka's JSON field names, camelCased), get the decoded response
 * body. Implementations: `InProcessTransport` (calls `broker.handle` directly) and `TcpTransport`
 * (Kafka's wire protocol). A transport may be shared by several clients; its methods may be
 * called concurrently.
 */

export interface RequestOptions {
  /** The broker to send to; omitted means any (the bootstrap or least-loaded connection). */
  nodeId?: number;
  /** False for acks=0 Produce: Kafka's broker sends no response, so none is awaited. */
  expectResponse?: boolean;
  /**
   * Stops waiting: when it aborts, the request rejects at once with a RequestAbortedError and a
   * later answer is dropped. For requests whose answer may be lost without harm (a long-poll Fetch
   * when the consumer stops), since the broker may still carry the request out.
   */
  signal?: AbortSignal;
  /**
   * The Produce record sets in `body` were encoded and checksummed by this process's Producer just
   * before and are unchanged: a broker in the same process may take their CRCs as checked (the
   * in-process transport tells it so). Transports that send bytes over a network ignore it.
   */
  recordsBuiltByProducer?: boolean;
}

export interface BrokerAddress {
  nodeId: number;
  host: string;
  port: number;
}

// Bodies are protocol-shaped objects whose exact type depends on the API and version.
// biome-ignore lint/suspicious/noExplicitAny: decoded bodies are dynamically shaped.
export type Body = any;

export interface Transport {
  /**
   * True when fetched record sets come straight from a broker that checked every batch's CRC as it
   * read it, with no network in between (in-process), so the consumer need not check again.
   */
  readonly deliversCheckedRecords?: boolean;
  /** Negotiates API versions (ApiVersions). Idempotent. */
  connect(): Promise<void>;
  /** The version the client must use for `apiKey`; throws UnsupportedApiError when there is none. */
  apiVersion(apiKey: number): number;
  /**
   * Buffers in `body` (Produce record sets) are lent until the returned promise settles with a
   * response: the producer then reuses their memory, so a transport or broker that keeps record
   * bytes longer (a log, a test double) must copy them. Without a response (acks=0, an error) the
   * producer never reuses them.
   */
  request(apiKey: number, apiVersion: number, body: Body, options?: RequestOptions): Promise<Body>;
  /** The brokers from the latest Metadata response, so requests can be routed by node id. */
  setBrokers(brokers: readonly BrokerAddress[]): void;
  close(): Promise<void>;
}

/**
 * What the in-process transport needs of a broker: the one entry point every request goes through.
 * As for `Transport.request`, record buffers in a request body are lent only until it answers.
 */
export interface RequestHandler {
  handle(apiKey: number, apiVersion: number, body: Body, context: Body): unknown;
}
