/**
 * The TCP listeners that make a Broker speak Kafka's wire protocol to real clients (kafkajs,
 * librdkafka/kcat, @platformatic/kafka). It owns sockets only: every request goes to its
 * listener's handler (`broker.handle` by default), so the broker's semantics are the same in
 * process and over TCP.
 *
 * Listeners: as Kafka's `listeners=PLAINTEXT://127.0.0.1:9092,CONTROLLER://127.0.0.1:9093`, one
 * server may listen on several named addresses, each with its own handler (a node's controller
 * listener answers the quorum's and the controller's APIs, its client listener the broker's). Each
 * request's context names the listener it came in on. The connection limit and the memory budget
 * are the server's, shared by every listener, as Kafka's `max.connections` and
 * `queued.max.request.bytes` are the broker's.
 *
 * Security (Kafka's `listener.security.protocol.map`): each listener is PLAINTEXT, SSL, SASL_PLAINTEXT
 * or SASL_SSL. SSL listeners are Node `tls` servers with the listener's keystore and truststore;
 * a handshake that does not finish within `sslHandshakeTimeoutMs` closes the socket, and with
 * `ssl.client.auth` requested or required the client certificate's subject becomes the principal
 * (`User:CN=...`, RFC 2253 as Java writes it, through `ssl.principal.mapping.rules`). SASL
 * listeners put each connection through the SASL stage (`sasl-authenticator.ts`) before any
 * request reaches the handler.
 *
 * Lifecycle: `listen()` once per listener name, `close()` once. `close()` stops accepting on every
 * listener, lets each connection answer what it has in flight (bounded by `closeGraceMs`), then
 * closes the sockets. It does not close the broker: its owner does, after the server, and the
 * broker's close flushes the logs.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ANONYMOUS_PRINCIPAL, certificatePrincipal, type ListenerSecurity, usesSasl, usesTls } from '@gregor/security';
import { type Clock, systemClock } from '@gregor/log';
import { connectionChannel } from './channels.js';
import { FailedAuthenticationDelays } from './failed-authentication-delay.js';
import { resolveServerConfig, type ServerConfig } from './config.js';
import { Connection } from './connection.js';
import { MemoryBudget, type MemoryUsage } from './memory-budget.js';
import { ServerError, ServerStateError } from './errors.js';
import type { RequestHandler } from './handler.js';
import { type Logger, stderrLogger } from './logger.js';
import { protocolCodec } from './protocol-codec.js';
import type { WireCodec } from './wire.js';

export interface ServerOptions {
  broker: RequestHandler;
  config?: Partial<ServerConfig>;
  logger?: Logger;
  /** The wire protocol; `@gregor/protocol` unless a test swaps it. */
  codec?: WireCodec;
  /** Time for SASL session expiry and the failed-authentication delay; the system clock unless a test injects one. */
  clock?: Clock;
}

export interface ListenOptions {
  host?: string;
  port?: number;
  /**
   * The listener's name, as in Kafka's `listeners=NAME://host:port`; every request's context
   * carries it (`listenerName`). Default `PLAINTEXT`.
   */
  name?: string;
  /** Who answers this listener's requests. Default the server's `broker`. */
  handler?: RequestHandler;
  /** Host and port clients are told for this listener; default `config.advertisedHost` / `advertisedPort`, else the bound ones. */
  advertisedHost?: string;
  advertisedPort?: number;
  /** The listener's security protocol and its TLS and SASL settings; default PLAINTEXT. */
  security?: ListenerSecurity;
}

/** The listener name a `listen()` without one gets, Kafka's default security protocol name. */
export const DEFAULT_LISTENER_NAME = 'PLAINTEXT';

interface BoundListener {
  readonly name: string;
  readonly handler: RequestHandler;
  readonly security: ListenerSecurity;
  readonly socket: net.Server;
  readonly address: BoundAddress;
}

export interface BoundAddress {
  host: string;
  port: number;
}

export class Server {
  readonly config: ServerConfig;
  private readonly broker: RequestHandler;
  private readonly logger: Logger;
  private readonly codec: WireCodec;
  private readonly connections = new Set<Connection>();
  private readonly budget: MemoryBudget;
  private readonly clock: Clock;
  private readonly failedAuthenticationDelays: FailedAuthenticationDelays;
  private readonly listeners = new Map<string, BoundListener>();
  /** Names being bound now, so a concurrent `listen()` of the same name is refused. */
  private readonly binding = new Set<string>();
  private nextConnectionId = 1;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';

  constructor(options: ServerOptions) {
    this.broker = options.broker;
    this.config = resolveServerConfig(options.config);
    this.logger = options.logger ?? stderrLogger;
    this.codec = options.codec ?? protocolCodec;
    this.budget = new MemoryBudget(this.config);
    this.clock = options.clock ?? systemClock;
    this.failedAuthenticationDelays = new FailedAuthenticationDelays(this.config.connectionFailedAuthenticationDelayMs, () => this.clock.now());
  }

  /** Bytes of requests and responses the connections hold now, against the `queued*` limits. */
  get memoryUsage(): MemoryUsage {
    return this.budget.usage;
  }

  /** The bound address of the first listener, once listening. */
  get address(): BoundAddress | undefined {
    return this.listeners.values().next().value?.address;
  }

  /** The bound address of the listener named `name`, once it listens. */
  listenerAddress(name: string): BoundAddress | undefined {
    return this.listeners.get(name)?.address;
  }

  /** The names of the listeners bound, in the order they were bound. */
  get listenerNames(): string[] {
    return [...this.listeners.keys()];
  }

  /** Whether the server accepts connections (after listen(), before close()). */
  get isListening(): boolean {
    return this.state === 'listening';
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /**
   * Binds one listener (port 0 picks a free port) and tells its handler the advertised address.
   * May be called once per listener name; the first failure to bind leaves the other listeners
   * as they were.
   */
  async listen(options: ListenOptions = {}): Promise<BoundAddress> {
    const name = options.name ?? DEFAULT_LISTENER_NAME;
    if (this.hasStopped()) throw new ServerStateError(`listen() on a server that is ${this.state}`);
    if (this.listeners.has(name) || this.binding.has(name)) throw new ServerStateError(`listen() twice for listener ${name}`);
    const handler = options.handler ?? this.broker;
    const security = options.security ?? { protocol: 'PLAINTEXT' };
    const socket = this.createListenerSocket(name, handler, security);
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 9092;
    this.binding.add(name);
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.listen({ host, port }, () => {
          socket.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      if (this.listeners.size === 0 && this.state === 'new') this.state = 'closed';
      throw new ServerError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error });
    } finally {
      this.binding.delete(name);
    }
    if (this.hasStopped()) {
      // close() ran while binding: this listener never serves.
      socket.close();
      throw new ServerStateError(`the server closed while listener ${name} was binding`);
    }
    this.state = 'listening';
    socket.on('error', (error) => this.logger.error('listener error', { listener: name, error: error.message }));
    const address = socket.address() as net.AddressInfo;
    const bound = { host: address.address, port: address.port };
    this.listeners.set(name, { name, handler, security, socket, address: bound });
    const advertisedHost = options.advertisedHost ?? this.config.advertisedHost ?? (isWildcard(address.address) ? '127.0.0.1' : address.address);
    handler.setAdvertisedListener?.(advertisedHost, options.advertisedPort ?? this.config.advertisedPort ?? address.port, name);
    this.logger.info('listening', { listener: name, securityProtocol: security.protocol, host: bound.host, port: bound.port, advertisedHost });
    return bound;
  }

  /**
   * Stops accepting, answers in-flight requests (for at most `graceMs`, default `closeGraceMs`;
   * 0 drops them at once, as a crash would), closes every connection.
   */
  async close(options: { graceMs?: number } = {}): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    const listenersClosed = Promise.all([...this.listeners.values()].map(({ socket }) => new Promise<void>((resolve) => socket.close(() => resolve()))));
    const drained = Promise.all([...this.connections].map((connection) => connection.drainAndClose()));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), options.graceMs ?? this.config.closeGraceMs);
    });
    const outcome = await Promise.race([drained, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') await Promise.all([...this.connections].map((connection) => connection.destroy('server closing')));
    await listenersClosed;
    this.state = 'closed';
  }

  /** Whether close() has begun (a method, so the compiler does not narrow the state across an await). */
  private hasStopped(): boolean {
    return this.state === 'closing' || this.state === 'closed';
  }

  /** A plain TCP server, or a TLS one whose sockets reach onConnection once their handshake is done. */
  private createListenerSocket(name: string, handler: RequestHandler, security: ListenerSecurity): net.Server {
    if (usesSasl(security.protocol) && security.sasl === undefined) throw new ServerError('LISTEN_FAILED', `listener ${name} is ${security.protocol} but has no SASL settings`);
    if (!usesTls(security.protocol)) return net.createServer({ noDelay: true }, (connection) => this.onConnection(connection, name, handler, security, ANONYMOUS_PRINCIPAL));
    const settings = security.tls;
    if (settings === undefined) throw new ServerError('LISTEN_FAILED', `listener ${name} is ${security.protocol} but has no TLS settings`);
    let server: tls.Server;
    try {
      server = tls.createServer({
        key: settings.key, cert: settings.cert, pfx: settings.pfx, passphrase: settings.passphrase, ca: settings.ca,
        minVersion: settings.minVersion ?? 'TLSv1.2',
        requestCert: settings.clientAuth !== 'none',
        // 'requested': a client may send no certificate; one it sends must still be valid (checked below).
        rejectUnauthorized: settings.clientAuth === 'required',
        handshakeTimeout: this.config.sslHandshakeTimeoutMs,
        noDelay: true,
      });
    } catch (error) {
      throw new ServerError('LISTEN_FAILED', `listener ${name}: the TLS keystore or truststore cannot be used: ${(error as Error).message}`, { cause: error });
    }
    // Sockets still in their handshake count against max.connections too.
    server.maxConnections = this.config.maxConnections;
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      const certificate = settings.clientAuth === 'none' ? undefined : socket.getPeerX509Certificate();
      if (certificate !== undefined && !socket.authorized) {
        this.logger.warn('refusing connection: client certificate not trusted', { listener: name, remote: socket.remoteAddress, error: String(socket.authorizationError) });
        socket.destroy();
        return;
      }
      let principal = ANONYMOUS_PRINCIPAL;
      try {
        if (certificate !== undefined) principal = certificatePrincipal(certificate, settings.principalMappingRules);
      } catch (error) {
        // A subject that cannot be read, or that no ssl.principal.mapping.rules rule applies to: refused, as Kafka does.
        this.logger.warn('refusing connection: no principal for the client certificate', { listener: name, remote: socket.remoteAddress, error: (error as Error).message });
        socket.destroy();
        return;
      }
      this.onConnection(socket, name, handler, security, principal);
    });
    server.on('tlsClientError', (error, socket) => {
      this.logger.warn('TLS handshake failed', { listener: name, remote: socket.remoteAddress, error: error.message });
      // Node reports a handshake timeout here but leaves the socket open.
      socket.destroy();
    });
    return server;
  }

  private onConnection(socket: net.Socket, listenerName: string, handler: RequestHandler, security: ListenerSecurity, principal: string): void {
    if (this.state !== 'listening' || this.connections.size >= this.config.maxConnections) {
      const reason = this.state !== 'listening' ? 'server closing' : `maxConnections (${this.config.maxConnections}) reached`;
      this.logger.warn(`refusing connection: ${reason}`, { listener: listenerName, remote: socket.remoteAddress });
      if (connectionChannel.hasSubscribers) connectionChannel.publish({ event: 'refused', connectionId: 0, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, reason });
      socket.destroy();
      return;
    }
    const connection = new Connection({
      id: this.nextConnectionId++,
      socket,
      codec: this.codec,
      handler,
      listenerName,
      principal,
      sasl: usesSasl(security.protocol) ? security.sasl : undefined,
      config: this.config,
      logger: this.logger,
      budget: this.budget,
      clock: this.clock,
      failedAuthenticationDelays: this.failedAuthenticationDelays,
      onClose: (closed) => this.connections.delete(closed),
    });
    this.connections.add(connection);
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
