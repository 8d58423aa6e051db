/**
 * A Transport over Kafka's wire protocol: one TCP connection per broker (keyed by address),
 * requests pipelined and matched to responses by correlation id, ApiVersions negotiation on the
 * first connection, frames read with `@gregor/protocol`'s FrameReader under `frameBytesMax`, and
 * request chunks (record sets uncopied) written with `cork()` so Node issues one `writev`. A
 * connection that fails rejects its pending requests with a retriable KafkaConnectionError and
 * is reopened by the next request after a backoff. With `ssl` the connection is TLS (Node's
 * `tls`); with `sasl` each connection authenticates (SaslHandshake v1, then SaslAuthenticate v1
 * with PLAIN or SCRAM-SHA-256/512, verifying the broker's SCRAM signature) before any other
 * request; a refused authentication fails the request with SASL_AUTHENTICATION_FAILED, not
 * retriable. Shared by the clients of one producer,
 * consumer or admin; every method may be called concurrently.
 */
import net from 'node:net';
import tls from 'node:tls';
import { decodeResponse, encodeRequestParts, ErrorCode, FRAME_BYTES_MAX_DEFAULT, FramePool, FrameReader, peekCorrelationId } from '@gregor/protocol';
import { isScramMechanism, plainClientMessage, ScramClientExchange } from '@gregor/security';
import { Api, negotiateVersions } from './api.js';
import { type Clock, sleep, systemClock, type TimerHandle } from './clock.js';
import { abandonOnAbort, KafkaConnectionError, KafkaClientError, RequestTimeoutError, UnsupportedApiError } from './errors.js';
import { RETRY_DEFAULTS, retryDelayMs } from './retry.js';
import type { Body, BrokerAddress, RequestOptions, Transport } from './transport.js';

/**
 * The buffer a plaintext connection reads into, reused for every read (Node's `onread`): a
 * consumer or follower reading megabytes a second would otherwise get a fresh 64 KiB chunk per
 * read, which the frame reader copies anyway, and the garbage collector runs for them.
 */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * The frame behind a response body whose buffer came from its connection's FramePool, until
 * `releaseResponse` gives it back. A body never released is collected with its frame.
 */
const pooledFrames = new WeakMap<Body, { pool: FramePool; frame: Buffer }>();

/**
 * The caller is done with `response` (a body a TcpTransport returned) and with every buffer in it,
 * record sets included: the connection may read a later response into the same memory. Only a
 * caller that keeps no view of the response may call it (a follower's fetcher once its log has
 * written the fetched batches; Gregor's log writes synchronously). Anything else is a no-op.
 */
export function releaseResponse(response: Body): void {
  const pooled = pooledFrames.get(response);
  if (pooled === undefined) return;
  pooledFrames.delete(response);
  pooled.pool.give(pooled.frame);
}

export interface TcpTransportOptions {
  /** Bootstrap brokers, 'host:port'. */
  brokers: string[];
  clientId?: string;
  /** Time to establish a connection (default 1000 ms, as kafkajs). */
  connectionTimeoutMs?: number;
  /** Time to wait for a response (default 30000 ms, as kafkajs). */
  requestTimeoutMs?: number;
  /** Largest response frame accepted (default 100 MiB); a larger one closes the connection. */
  frameBytesMax?: number;
  /** Requests in flight per connection before `request` waits (default 100). */
  maxInFlightRequests?: number;
  /** First and longest reconnect backoff (defaults 100 ms and 10000 ms). */
  reconnectBackoffMs?: number;
  reconnectBackoffMaxMs?: number;
  /** TLS (`true`, or Node's tls.connect options such as `ca`), as kafkajs's `ssl`. */
  ssl?: boolean | tls.ConnectionOptions;
  /** SASL credentials, as kafkajs's `sasl`: mechanism plain, scram-sha-256 or scram-sha-512. */
  sasl?: SaslCredentials;
  /** The connection and request timeouts and the reconnect backoff run on it (default `systemClock`). */
  clock?: Clock;
}

export interface SaslCredentials {
  mechanism: string;
  username: string;
  password: string;
}

interface Pending {
  apiKey: number;
  apiVersion: number;
  resolve: (body: Body) => void;
  reject: (error: Error) => void;
  timer: TimerHandle | null;
}

class Connection {
  private socket: net.Socket | null = null;
  private reader: FrameReader | null = null;
  /** Frames of this connection's reader, reused once their response is released (releaseResponse). */
  private pool: FramePool | null = null;
  private opening: Promise<net.Socket> | null = null;
  private readonly pending = new Map<number, Pending>();
  private correlationId = 0;
  private failures = 0;
  private nextAttemptAtMs = 0;
  private readonly waiters: (() => void)[] = [];

  constructor(
    readonly host: string,
    readonly port: number,
    private readonly options: Required<Omit<TcpTransportOptions, 'brokers' | 'ssl' | 'sasl'>> & Pick<TcpTransportOptions, 'ssl' | 'sasl'>,
  ) {}

  private open(): Promise<net.Socket> {
    // While a connection is opening (TLS, SASL) its socket is attached but not yet usable.
    if (this.opening !== null) return this.opening;
    if (this.socket !== null) return Promise.resolve(this.socket);
    this.opening ??= this.connectSocket().finally(() => {
      this.opening = null;
    });
    return this.opening;
  }

  private async connectSocket(): Promise<net.Socket> {
    const { clock } = this.options;
    const wait = this.nextAttemptAtMs - clock.now();
    if (wait > 0) await sleep(clock, wait);
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const { ssl } = this.options;
      const readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
      const onread = {
        buffer: readBuffer,
        callback: (bytes: number): boolean => {
          this.onRead(socket, readBuffer.subarray(0, bytes));
          return true;
        },
      };
      const socket: net.Socket = ssl === undefined || ssl === false
        ? net.createConnection({ host: this.host, port: this.port, noDelay: true, onread })
        : tls.connect({ host: this.host, port: this.port, servername: net.isIP(this.host) === 0 ? this.host : undefined, ...(ssl === true ? {} : ssl) });
      const timer = clock.setTimeout(() => {
        socket.destroy();
        this.noteFailure();
        reject(new KafkaConnectionError(`connection to ${this.host}:${this.port} timed out after ${this.options.connectionTimeoutMs} ms`));
      }, this.options.connectionTimeoutMs);
      socket.once(ssl === undefined || ssl === false ? 'connect' : 'secureConnect', () => {
        clock.clearTimeout(timer);
        this.failures = 0;
        this.attach(socket);
        resolve(socket);
      });
      socket.once('error', (error) => {
        clock.clearTimeout(timer);
        if (this.socket !== socket) {
          this.noteFailure();
          reject(new KafkaConnectionError(`cannot connect to ${this.host}:${this.port}: ${error.message}`, error));
        }
      });
    });
    if (this.options.sasl !== undefined) {
      try {
        await this.authenticate(socket, this.options.sasl);
      } catch (error) {
        this.fail(socket, error as Error);
        throw error;
      }
    }
    return socket;
  }

  /** SaslHandshake v1 then SaslAuthenticate v1 rounds, on a socket no other request uses yet. */
  private async authenticate(socket: net.Socket, sasl: SaslCredentials): Promise<void> {
    const mechanism = sasl.mechanism.toUpperCase();
    const refused = (message: string) => new KafkaClientError('SASL_AUTHENTICATION_FAILED', `${this.host}:${this.port}: ${message}`);
    const handshake = await this.send(socket, Api.SaslHandshake, 1, { mechanism });
    if (handshake.errorCode !== ErrorCode.NONE) throw refused(`the broker does not offer SASL mechanism ${mechanism} (it offers ${(handshake.mechanisms ?? []).join(', ')})`);
    const round = async (authBytes: Buffer): Promise<Buffer> => {
      const answer = await this.send(socket, Api.SaslAuthenticate, 1, { authBytes });
      if (answer.errorCode !== ErrorCode.NONE) throw refused(answer.errorMessage ?? `SaslAuthenticate failed with error ${answer.errorCode}`);
      return Buffer.from(answer.authBytes ?? Buffer.alloc(0));
    };
    if (mechanism === 'PLAIN') {
      await round(plainClientMessage(sasl.username, sasl.password));
      return;
    }
    if (!isScramMechanism(mechanism)) throw refused(`SASL mechanism ${mechanism} is not supported by Gregor's client (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
    const scram = new ScramClientExchange(mechanism, sasl.username, sasl.password);
    const serverFirst = await round(scram.first());
    const serverFinal = await round(scram.final(serverFirst));
    try {
      scram.verify(serverFinal);
    } catch {
      throw refused('the broker could not prove it holds the SCRAM credential');
    }
  }

  /** The response to `correlationId`, registered as pending; rejects with RequestTimeoutError after requestTimeoutMs. */
  private awaitResponse(correlationId: number, apiKey: number, apiVersion: number): Promise<Body> {
    return new Promise<Body>((resolve, reject) => {
      const timer = this.options.clock.setTimeout(() => {
        const pending = this.pending.get(correlationId);
        if (pending === undefined) return;
        this.settle(correlationId, pending);
        reject(new RequestTimeoutError(`API ${apiKey} to ${this.host}:${this.port} got no response in ${this.options.requestTimeoutMs} ms`));
      }, this.options.requestTimeoutMs);
      this.pending.set(correlationId, { apiKey, apiVersion, resolve, reject, timer });
    });
  }

  /** One request on `socket` before it is handed out (authentication). */
  private send(socket: net.Socket, apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    const correlationId = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const response = this.awaitResponse(correlationId, apiKey, apiVersion);
    for (const part of encodeRequestParts({ apiKey, apiVersion, correlationId, clientId: this.options.clientId }, body)) socket.write(part);
    return response;
  }

  private noteFailure(): void {
    const backoff = retryDelayMs(this.failures++, { ...RETRY_DEFAULTS, initialRetryTimeMs: this.options.reconnectBackoffMs, maxRetryTimeMs: this.options.reconnectBackoffMaxMs });
    this.nextAttemptAtMs = this.options.clock.now() + backoff;
  }

  private attach(socket: net.Socket): void {
    this.socket = socket;
    // A plaintext socket reads into one buffer it reuses (`onread`, see connectSocket): the reader
    // copies each frame out. A TLS socket hands out fresh chunks ('data').
    this.pool = new FramePool();
    this.reader = new FrameReader({ frameBytesMax: this.options.frameBytesMax, chunksReused: !(socket instanceof tls.TLSSocket), pool: this.pool });
    socket.on('data', (chunk: Buffer) => this.onRead(socket, chunk));
    socket.on('error', (error) => this.fail(socket, new KafkaConnectionError(`connection to ${this.host}:${this.port} failed: ${error.message}`, error)));
    socket.on('close', () => this.fail(socket, new KafkaConnectionError(`connection to ${this.host}:${this.port} closed`)));
  }

  /** Bytes read from `socket` (a fresh chunk, or a view of the reused read buffer valid only now). */
  private onRead(socket: net.Socket, chunk: Buffer): void {
    if (socket !== this.socket || this.reader === null) return;
    let frames: Buffer[];
    try {
      frames = this.reader.push(chunk);
    } catch (error) {
      this.fail(socket, new KafkaConnectionError(`bad frame from ${this.host}:${this.port}: ${(error as Error).message}`, error));
      return;
    }
    for (const frame of frames) this.onFrame(socket, frame);
  }

  private onFrame(socket: net.Socket, frame: Buffer): void {
    let correlationId: number;
    try {
      correlationId = peekCorrelationId(frame);
    } catch (error) {
      // A frame too short for a correlation id: nothing on this connection can be trusted.
      this.fail(socket, new KafkaConnectionError(`bad frame from ${this.host}:${this.port}: ${(error as Error).message}`, error));
      return;
    }
    const pending = this.pending.get(correlationId);
    if (pending === undefined) {
      // Timed out already: nothing will read this frame.
      this.pool?.give(frame);
      return;
    }
    this.settle(correlationId, pending);
    try {
      const body = decodeResponse(pending.apiKey, pending.apiVersion, frame).body;
      if (this.pool?.holds(frame)) pooledFrames.set(body, { pool: this.pool, frame });
      pending.resolve(body);
    } catch (error) {
      this.pool?.give(frame);
      pending.reject(new KafkaClientError('MALFORMED_RESPONSE', `cannot decode response to API ${pending.apiKey} v${pending.apiVersion}: ${(error as Error).message}`, { cause: error }));
    }
  }

  private settle(correlationId: number, pending: Pending): void {
    this.pending.delete(correlationId);
    if (pending.timer !== null) this.options.clock.clearTimeout(pending.timer);
    this.waiters.shift()?.();
  }

  private fail(socket: net.Socket, error: Error): void {
    if (this.socket !== socket) return;
    this.socket = null;
    socket.destroy();
    this.noteFailure();
    for (const [id, pending] of [...this.pending]) {
      this.settle(id, pending);
      pending.reject(error);
    }
  }

  async request(apiKey: number, apiVersion: number, body: Body, expectResponse: boolean): Promise<Body> {
    while (this.pending.size >= this.options.maxInFlightRequests) await new Promise<void>((resolve) => this.waiters.push(resolve));
    let socket: net.Socket;
    try {
      socket = await this.open();
    } catch (error) {
      // Nothing was sent: the caller may send the same request elsewhere.
      throw error instanceof KafkaConnectionError ? new NotSentError(error) : error;
    }
    const correlationId = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const parts = encodeRequestParts({ apiKey, apiVersion, correlationId, clientId: this.options.clientId }, body);
    const response = expectResponse ? this.awaitResponse(correlationId, apiKey, apiVersion) : null;
    socket.cork();
    for (const part of parts) socket.write(part);
    socket.uncork();
    return response;
  }

  close(): void {
    const socket = this.socket;
    if (socket !== null) this.fail(socket, new KafkaConnectionError('transport closed'));
  }
}

/** The connection could not be opened, so the request never left: safe to send to another broker. */
class NotSentError extends KafkaConnectionError {
  constructor(cause: KafkaConnectionError) {
    super(cause.message, cause.cause);
  }
}

export class TcpTransport implements Transport {
  private readonly options: Required<Omit<TcpTransportOptions, 'brokers' | 'ssl' | 'sasl'>> & Pick<TcpTransportOptions, 'ssl' | 'sasl'>;
  private readonly bootstrap: { host: string; port: number }[];
  private readonly connections = new Map<string, Connection>();
  private readonly addresses = new Map<number, string>();
  private versions: Map<number, number> | null = null;
  private connecting: Promise<void> | null = null;
  private bootstrapAddress: string | null = null;
  private closed = false;

  constructor(options: TcpTransportOptions) {
    if (options.brokers.length === 0) throw new KafkaClientError('INVALID_CONFIG', 'at least one broker address is needed');
    this.bootstrap = options.brokers.map(parseAddress);
    this.options = {
      clientId: options.clientId ?? 'gregor',
      connectionTimeoutMs: options.connectionTimeoutMs ?? 1000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      frameBytesMax: options.frameBytesMax ?? FRAME_BYTES_MAX_DEFAULT,
      maxInFlightRequests: options.maxInFlightRequests ?? 100,
      reconnectBackoffMs: options.reconnectBackoffMs ?? 100,
      reconnectBackoffMaxMs: options.reconnectBackoffMaxMs ?? 10_000,
      clock: options.clock ?? systemClock,
      ssl: options.ssl,
      sasl: options.sasl,
    };
  }

  /**
   * One connection per node id, and one for the bootstrap address (as Kafka's NetworkClient): two
   * node ids with one address (a broker, and the same broker as group coordinator) get separate
   * connections, so group requests never queue behind a parked Fetch.
   */
  private connectionTo(address: string, nodeId?: number): Connection {
    const key = nodeId === undefined ? `bootstrap ${address}` : `node ${nodeId} ${address}`;
    let connection = this.connections.get(key);
    if (connection === undefined) {
      const { host, port } = parseAddress(address);
      this.connections.set(key, (connection = new Connection(host, port, this.options)));
    }
    return connection;
  }

  connect(): Promise<void> {
    this.connecting ??= this.negotiate().catch((error) => {
      this.connecting = null;
      throw error;
    });
    return this.connecting;
  }

  /** Tries each bootstrap broker in turn; ApiVersions v3, falling back to v0 as Kafka's clients do. */
  private async negotiate(): Promise<void> {
    let lastError: unknown;
    for (const { host, port } of this.bootstrap) {
      const address = `${host}:${port}`;
      try {
        const connection = this.connectionTo(address);
        let response = await connection.request(Api.ApiVersions, 3, { clientSoftwareName: 'gregor', clientSoftwareVersion: '0.1.0' }, true);
        if (response.errorCode === 35) response = await connection.request(Api.ApiVersions, 0, {}, true);
        if (response.errorCode !== 0 && response.errorCode !== undefined) throw new KafkaClientError('API_VERSIONS_FAILED', `ApiVersions failed with error ${response.errorCode}`);
        this.versions = negotiateVersions(response.apiKeys);
        this.bootstrapAddress = address;
        return;
      } catch (error) {
        lastError = error;
      }
    }
    throw lastError instanceof Error ? lastError : new KafkaConnectionError('no bootstrap broker reachable');
  }

  apiVersion(apiKey: number): number {
    const version = this.versions?.get(apiKey);
    if (version === undefined) throw new UnsupportedApiError(`the broker serves no version of API ${apiKey} this client knows`);
    return version;
  }

  async request(apiKey: number, apiVersion: number, body: Body, options: RequestOptions = {}): Promise<Body> {
    if (this.closed) throw new KafkaClientError('TRANSPORT_CLOSED', 'the transport is closed');
    await this.connect();
    if (options.nodeId === undefined) return this.requestAnyBroker(apiKey, apiVersion, body, options);
    const address = options.nodeId === undefined ? this.bootstrapAddress! : (this.addresses.get(options.nodeId) ?? this.bootstrapAddress!);
    const nodeId = options.nodeId !== undefined && this.addresses.has(options.nodeId) ? options.nodeId : undefined;
    return abandonOnAbort(this.connectionTo(address, nodeId).request(apiKey, apiVersion, body, options.expectResponse !== false), options.signal, `API ${apiKey} request to ${address}`);
  }

  /**
   * A request for any broker (Metadata, FindCoordinator, admin requests): to the broker this
   * transport bootstrapped from, or, when that one cannot be reached (it died: a cluster keeps
   * serving from the others), to the next broker that can, from the latest Metadata and then the
   * bootstrap list, as Kafka's NetworkClient picks its least loaded node. Only a request that was
   * never sent moves on, so nothing is sent twice.
   */
  private async requestAnyBroker(apiKey: number, apiVersion: number, body: Body, options: RequestOptions): Promise<Body> {
    const first = this.bootstrapAddress as string;
    const candidates = [first, ...new Set([...this.addresses.values(), ...this.bootstrap.map(({ host, port }) => `${host}:${port}`)])].filter((address, index) => index === 0 || address !== first);
    let lastError: unknown;
    for (const address of candidates) {
      try {
        const response = await abandonOnAbort(this.connectionTo(address).request(apiKey, apiVersion, body, options.expectResponse !== false), options.signal, `API ${apiKey} request to ${address}`);
        this.bootstrapAddress = address;
        return response;
      } catch (error) {
        if (!(error instanceof NotSentError)) throw error;
        lastError = error;
      }
    }
    throw lastError;
  }

  setBrokers(brokers: readonly BrokerAddress[]): void {
    for (const b of brokers) this.addresses.set(b.nodeId, `${b.host}:${b.port}`);
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const connection of this.connections.values()) connection.close();
    this.connections.clear();
  }
}

function parseAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const port = Number(address.slice(at + 1));
  if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new KafkaClientError('INVALID_CONFIG', `bad broker address ${address}`);
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port };
}
