/**
 * The TCP listener that makes a Broker speak Kafka's wire protocol to real clients (kafkajs,
 * librdkafka/kcat, @platformatic/kafka). It owns sockets only: every request goes to
 * `broker.handle`, so the broker's semantics are the same in process and over TCP.
 *
 * Lifecycle: `listen()` once, `close()` once. `close()` stops accepting, lets each connection answer
 * what it has in flight (bounded by `closeGraceMs`), then closes the sockets. It does not close the
 * broker: its owner does, after the server, and the broker's close flushes the logs.
 */
import net from 'node:net';
import { connectionChannel } from './channels.js';
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
}

export interface ListenOptions {
  host?: string;
  port?: number;
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
  private listener: net.Server | undefined;
  private nextConnectionId = 1;
  private state: 'new' | 'listening' | 'closing' | 'closed' = 'new';
  private bound: BoundAddress | undefined;

  constructor(options: ServerOptions) {
    this.broker = options.broker;
    this.config = resolveServerConfig(options.config);
    this.logger = options.logger ?? stderrLogger;
    this.codec = options.codec ?? protocolCodec;
    this.budget = new MemoryBudget(this.config);
  }

  /** Bytes of requests and responses the connections hold now, against the `queued*` limits. */
  get memoryUsage(): MemoryUsage {
    return this.budget.usage;
  }

  /** The bound address, once listening. */
  get address(): BoundAddress | undefined {
    return this.bound;
  }

  /** Whether the server accepts connections (after listen(), before close()). */
  get isListening(): boolean {
    return this.state === 'listening';
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Binds (port 0 picks a free port) and tells the broker the advertised address. */
  async listen(options: ListenOptions = {}): Promise<BoundAddress> {
    if (this.state !== 'new') throw new ServerStateError(`listen() on a server that is ${this.state}`);
    this.state = 'listening';
    const listener = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.listener = listener;
    const host = options.host ?? '127.0.0.1';
    const port = options.port ?? 9092;
    try {
      await new Promise<void>((resolve, reject) => {
        listener.once('error', reject);
        listener.listen({ host, port }, () => {
          listener.off('error', reject);
          resolve();
        });
      });
    } catch (error) {
      this.state = 'closed';
      throw new ServerError('LISTEN_FAILED', `cannot listen on ${host}:${port}: ${(error as Error).message}`, { cause: error });
    }
    listener.on('error', (error) => this.logger.error('listener error', { error: error.message }));
    const address = listener.address() as net.AddressInfo;
    this.bound = { host: address.address, port: address.port };
    const advertisedHost = this.config.advertisedHost ?? (isWildcard(address.address) ? '127.0.0.1' : address.address);
    this.broker.setAdvertisedListener?.(advertisedHost, this.config.advertisedPort ?? address.port);
    this.logger.info('listening', { host: this.bound.host, port: this.bound.port, advertisedHost });
    return this.bound;
  }

  /** Stops accepting, answers in-flight requests, closes every connection. */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    this.state = 'closing';
    const listener = this.listener;
    const listenerClosed = listener === undefined ? Promise.resolve() : new Promise<void>((resolve) => listener.close(() => resolve()));
    const drained = Promise.all([...this.connections].map((connection) => connection.drainAndClose()));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), this.config.closeGraceMs);
    });
    const outcome = await Promise.race([drained, graceOver]);
    clearTimeout(timer);
    if (outcome === 'timeout') await Promise.all([...this.connections].map((connection) => connection.destroy('server closing')));
    await listenerClosed;
    this.state = 'closed';
  }

  private onConnection(socket: net.Socket): void {
    if (this.state !== 'listening' || this.connections.size >= this.config.maxConnections) {
      const reason = this.state !== 'listening' ? 'server closing' : `maxConnections (${this.config.maxConnections}) reached`;
      this.logger.warn(`refusing connection: ${reason}`, { remote: socket.remoteAddress });
      if (connectionChannel.hasSubscribers) connectionChannel.publish({ event: 'refused', connectionId: 0, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, reason });
      socket.destroy();
      return;
    }
    const connection = new Connection({
      id: this.nextConnectionId++,
      socket,
      codec: this.codec,
      handler: this.broker,
      config: this.config,
      logger: this.logger,
      budget: this.budget,
      onClose: (closed) => this.connections.delete(closed),
    });
    this.connections.add(connection);
  }
}

function isWildcard(host: string): boolean {
  return host === '0.0.0.0' || host === '::';
}
