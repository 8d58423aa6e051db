/**
 * The server's settings, named as Kafka names them (camelCased), with Kafka's defaults where Kafka
 * has one. Every limit the TCP layer enforces lives here.
 */
export interface ServerConfig {
  /**
   * Largest request frame accepted (Kafka `socket.request.max.bytes`); a larger declared size
   * closes the connection before any allocation. Also the most request bytes one connection holds
   * (frames being read, waiting and being handled): beyond it the connection stops reading.
   */
  socketRequestMaxBytes: number;
  /**
   * Request bytes all connections together may hold beyond their reserve (Kafka
   * `queued.max.request.bytes`, unbounded in Kafka by default). A frame claims its whole declared
   * size once its size prefix is read; a connection whose frame does not fit stops reading until
   * others release. At least `socketRequestMaxBytes`, so the largest frame can always be read.
   */
  queuedMaxRequestBytes: number;
  /**
   * Request bytes each connection may hold outside `queuedMaxRequestBytes`, so small requests are
   * read even while large frames have used up the shared budget.
   */
  queuedRequestBytesReservedPerConnection: number;
  /**
   * Response bytes one connection's client has not taken yet (queued, or in the socket's buffer)
   * above which the connection starts no new request. One response may pass it; the next waits.
   */
  queuedMaxResponseBytesPerConnection: number;
  /**
   * The same over all connections: above it, a connection with any response still untaken starts
   * no new request (a connection whose client has taken everything still does).
   */
  queuedMaxResponseBytes: number;
  /** Open connections accepted at once (Kafka `max.connections`); further connections are closed on accept. */
  maxConnections: number;
  /** Requests read but not yet answered per connection; beyond it the server stops reading that socket. */
  maxInFlightRequestsPerConnection: number;
  /** A connection with no traffic and nothing in flight for this long is closed (Kafka `connections.max.idle.ms`). */
  connectionsMaxIdleMs: number;
  /** How long `close()` waits for in-flight requests before destroying the remaining connections. */
  closeGraceMs: number;
  /**
   * How long the answer to a failed authentication is held before the connection closes (Kafka
   * `connection.failed.authentication.delay.ms`), so guessing passwords is slow; the failures of
   * one client address are spaced by it too (`failed-authentication-delay.ts`). 0: at once.
   */
  connectionFailedAuthenticationDelayMs: number;
  /** Largest frame accepted before a client has authenticated on a SASL listener (Kafka `sasl.server.max.receive.size`). */
  saslServerMaxReceiveBytes: number;
  /** A TLS handshake not finished after this long closes the connection (Node's `handshakeTimeout`; Kafka has no setting). */
  sslHandshakeTimeoutMs: number;
  /** Host clients are told to connect to (Metadata, FindCoordinator); defaults to the bound host. */
  advertisedHost: string | undefined;
  /** Port clients are told to connect to; defaults to the bound port. */
  advertisedPort: number | undefined;
}

export const defaultServerConfig: Readonly<ServerConfig> = Object.freeze({
  socketRequestMaxBytes: 100 * 1024 * 1024,
  queuedMaxRequestBytes: 256 * 1024 * 1024,
  queuedRequestBytesReservedPerConnection: 64 * 1024,
  queuedMaxResponseBytesPerConnection: 16 * 1024 * 1024,
  queuedMaxResponseBytes: 256 * 1024 * 1024,
  maxConnections: 10_000,
  maxInFlightRequestsPerConnection: 100,
  connectionsMaxIdleMs: 10 * 60 * 1000,
  closeGraceMs: 30_000,
  connectionFailedAuthenticationDelayMs: 100,
  saslServerMaxReceiveBytes: 524_288,
  sslHandshakeTimeoutMs: 10_000,
  advertisedHost: undefined,
  advertisedPort: undefined,
});

export function resolveServerConfig(config: Partial<ServerConfig> | undefined): ServerConfig {
  const resolved: ServerConfig = { ...defaultServerConfig, ...dropUndefined(config ?? {}) };
  const positive = [
    'socketRequestMaxBytes', 'queuedMaxRequestBytes', 'queuedMaxResponseBytesPerConnection', 'queuedMaxResponseBytes',
    'maxConnections', 'maxInFlightRequestsPerConnection', 'connectionsMaxIdleMs', 'closeGraceMs', 'saslServerMaxReceiveBytes',
    'sslHandshakeTimeoutMs',
  ] as const;
  for (const name of positive) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`server config ${name} must be a positive integer, got ${value}`);
  }
  const delay = resolved.connectionFailedAuthenticationDelayMs;
  if (!Number.isSafeInteger(delay) || delay < 0) throw new RangeError(`server config connectionFailedAuthenticationDelayMs must be a non-negative integer, got ${delay}`);
  const reserved = resolved.queuedRequestBytesReservedPerConnection;
  if (!Number.isSafeInteger(reserved) || reserved < 0) throw new RangeError(`server config queuedRequestBytesReservedPerConnection must be a non-negative integer, got ${reserved}`);
  if (resolved.queuedMaxRequestBytes < resolved.socketRequestMaxBytes) {
    throw new RangeError(`server config queuedMaxRequestBytes (${resolved.queuedMaxRequestBytes}) must be at least socketRequestMaxBytes (${resolved.socketRequestMaxBytes}), or the largest frame could never be read`);
  }
  return resolved;
}

function dropUndefined<T extends object>(input: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(input)) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}
