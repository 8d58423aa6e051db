/**
 * The server's settings, named as Kafka names them (camelCased), with Kafka's defaults where Kafka
 * has one. Every limit the TCP layer enforces lives here.
 */
export interface ServerConfig {
  /** Largest request frame accepted (Kafka `socket.request.max.bytes`); a larger declared size closes the connection before any allocation. */
  socketRequestMaxBytes: number;
  /** Open connections accepted at once (Kafka `max.connections`); further connections are closed on accept. */
  maxConnections: number;
  /** Requests read but not yet answered per connection; beyond it the server stops reading that socket. */
  maxInFlightRequestsPerConnection: number;
  /** A connection with no traffic and nothing in flight for this long is closed (Kafka `connections.max.idle.ms`). */
  connectionsMaxIdleMs: number;
  /** How long `close()` waits for in-flight requests before destroying the remaining connections. */
  closeGraceMs: number;
  /** Host clients are told to connect to (Metadata, FindCoordinator); defaults to the bound host. */
  advertisedHost: string | undefined;
  /** Port clients are told to connect to; defaults to the bound port. */
  advertisedPort: number | undefined;
}

export const defaultServerConfig: Readonly<ServerConfig> = Object.freeze({
  socketRequestMaxBytes: 100 * 1024 * 1024,
  maxConnections: 10_000,
  maxInFlightRequestsPerConnection: 100,
  connectionsMaxIdleMs: 10 * 60 * 1000,
  closeGraceMs: 30_000,
  advertisedHost: undefined,
  advertisedPort: undefined,
});

export function resolveServerConfig(config: Partial<ServerConfig> | undefined): ServerConfig {
  const resolved: ServerConfig = { ...defaultServerConfig, ...dropUndefined(config ?? {}) };
  for (const name of ['socketRequestMaxBytes', 'maxConnections', 'maxInFlightRequestsPerConnection', 'connectionsMaxIdleMs', 'closeGraceMs'] as const) {
    const value = resolved[name];
    if (!Number.isSafeInteger(value) || value <= 0) throw new RangeError(`server config ${name} must be a positive integer, got ${value}`);
  }
  return resolved;
}

function dropUndefined<T extends object>(input: T): Partial<T> {
  const out: Partial<T> = {};
  for (const [key, value] of Object.entries(input)) if (value !== undefined) (out as Record<string, unknown>)[key] = value;
  return out;
}
