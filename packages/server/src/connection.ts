/**
 * One client connection: Kafka's framing (4-byte size, then the request), a request pipeline and
 * the response queue.
 *
 * Requests are dispatched in arrival order and may run concurrently, but responses are written
 * strictly in arrival order (a queue of slots keyed by arrival). Requests that change state
 * (`WRITE_APIS`) start only when everything before them on this connection has finished, and later
 * requests wait for them, so a client reads its own writes on one connection as with Kafka (which
 * serves one request per connection at a time). A write finishes, for this rule, when it settles
 * or when the broker calls its context's `writeDone` (an acks=all Produce does once its batches
 * are appended): pipelined Produce requests then append one after the other while earlier ones
 * wait for replication, where Kafka would hold each back for a whole replication round trip. A
 * Fetch, whose answer may be megabytes, starts only when every earlier request has been answered.
 *
 * Memory (see `memory-budget.ts`): the connection stops reading while it has
 * `maxInFlightRequestsPerConnection` requests unanswered, while it holds `socketRequestMaxBytes`
 * of requests, while the shared request budget has no room for the frame it is reading, and while
 * the socket's write buffer is full. It starts no new request while the responses its client has
 * not taken pass `queuedMaxResponseBytesPerConnection` (or the shared response budget is spent),
 * so a client that sends without reading costs bounded memory. Closing frees everything at once.
 *
 * Failures of one client (oversize frame, unreadable header, unknown API) close this connection
 * only, with a log line. Used by `Server` only; single-threaded like everything on the event loop.
 */
import assert from 'node:assert/strict';
import type { Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Clock } from '@gregor/log';
import type { SaslServerSettings } from '@gregor/security';
import { connectionChannel, requestChannel, type RequestEvent } from './channels.js';
import type { ServerConfig } from './config.js';
import { isNoResponse, type RequestContext, type RequestHandler } from './handler.js';
import type { Logger } from './logger.js';
import type { MemoryAccount, MemoryBudget } from './memory-budget.js';
import type { FailedAuthenticationDelays } from './failed-authentication-delay.js';
import { SASL_HANDSHAKE_KEY, SaslAuthenticator, withSaslApiVersions } from './sasl-authenticator.js';
import { API_VERSIONS_KEY, type FrameSplitter, type RequestHeader, type ResponseBytes, type WireCodec } from './wire.js';

/**
 * APIs that change broker state: serialized per connection (Produce, OffsetCommit, LeaveGroup,
 * CreateTopics, DeleteTopics, DeleteRecords, InitProducerId, AlterConfigs, CreatePartitions,
 * DeleteGroups, IncrementalAlterConfigs, AlterPartitionReassignments, OffsetDelete, AlterClientQuotas).
 */
const WRITE_APIS: ReadonlySet<number> = new Set([0, 8, 13, 19, 20, 21, 22, 33, 37, 42, 44, 45, 47, 49]);
/** APIs whose answer may be large (Fetch): started only when every earlier request is answered. */
const LARGE_RESPONSE_APIS: ReadonlySet<number> = new Set([1]);
const INVALID_REQUEST = 42;
const ILLEGAL_SASL_STATE = 34;
/** Kafka lets a connection begin re-authenticating at most once a second (KafkaChannel). */
const MIN_REAUTHENTICATION_INTERVAL_MS = 1000;
const UNKNOWN_SERVER_ERROR = -1;

interface Slot {
  header: RequestHeader;
  /** Bytes of the request frame, held (and counted) until its response is ready. */
  frameBytes: number;
  arrivedAtMs: number;
  done: boolean;
  /** `null`: nothing to write (acks=0). */
  response: ResponseBytes | null;
  /** Close the connection once everything before this slot is written; why. */
  closeAfter: string | null;
}

/** A frame read whole, its header decoded, not yet dispatched. */
interface WaitingFrame {
  frame: Buffer;
  header: RequestHeader;
  bodyOffset: number;
}

export interface ConnectionOptions {
  id: number;
  socket: Socket;
  codec: WireCodec;
  handler: RequestHandler;
  /** The listener the connection came in on, passed in every request's context. */
  listenerName: string;
  /** Who the client is before any SASL exchange: `User:ANONYMOUS`, or its TLS certificate's subject. */
  principal: string;
  /** On a SASL listener: its mechanisms and credentials; requests are served only after authentication. */
  sasl?: SaslServerSettings;
  config: ServerConfig;
  logger: Logger;
  budget: MemoryBudget;
  /** Time for session expiry and the failed-authentication delay. */
  clock: Clock;
  failedAuthenticationDelays: FailedAuthenticationDelays;
  onClose: (connection: Connection) => void;
}

export class Connection {
  readonly id: number;
  private readonly socket: Socket;
  private readonly codec: WireCodec;
  private readonly handler: RequestHandler;
  private readonly listenerName: string;
  private readonly config: ServerConfig;
  private readonly logger: Logger;
  /** Dropped on close, with the partial frame it holds. */
  private splitter: FrameSplitter | null;
  private readonly queue: Slot[] = [];
  /** Frames read from the socket but not yet dispatched (in-flight limit, response room, a Fetch's turn). */
  private readonly waitingFrames: WaitingFrame[] = [];
  /** Bytes of the waiting frames and of the frames whose requests are being handled. */
  private requestBytesHeld = 0;
  /** Bytes of finished responses not yet handed to the socket (they wait for earlier ones). */
  private responseBytesUnsent = 0;
  private readonly account: MemoryAccount;
  private lastWrite: Promise<void> = Promise.resolve();
  private readonly runningReads = new Set<Promise<void>>();
  private pausedForInFlight = false;
  private pausedForDrain = false;
  private pausedForMemory = false;
  private draining = false;
  /** No further frames are dispatched: a request was refused and the connection closes after the earlier answers. */
  private refusing = false;
  /** Set when the server decided to close (destroy); the socket's 'close' event comes later. */
  private stopped = false;
  private closed = false;
  private readonly closedPromise: Promise<void>;
  private readonly remote: { address: string | undefined; port: number | undefined };
  /** The authenticated principal every request's context carries. */
  private principal: string;
  /**
   * The SASL stage (null on listeners without SASL); frames go to it until the client
   * authenticated, and to a new one while the client re-authenticates.
   */
  private authenticator: SaslAuthenticator | null;
  private readonly sasl: SaslServerSettings | undefined;
  private readonly clock: Clock;
  private readonly failedAuthenticationDelays: FailedAuthenticationDelays;
  /** The mechanism the client authenticated with, and when its session expires (null: never; KIP-368). */
  private mechanism: string | null = null;
  private sessionExpiresAtMs: number | null = null;
  private lastReauthenticationStartMs: number | null = null;

  constructor(options: ConnectionOptions) {
    this.id = options.id;
    this.socket = options.socket;
    this.codec = options.codec;
    this.handler = options.handler;
    this.listenerName = options.listenerName;
    this.config = options.config;
    this.logger = options.logger;
    this.splitter = this.codec.createFrameSplitter(this.config.socketRequestMaxBytes);
    this.account = options.budget.open(() => this.onMemoryFreed());
    this.remote = { address: this.socket.remoteAddress, port: this.socket.remotePort };
    this.principal = options.principal;
    this.sasl = options.sasl;
    this.clock = options.clock;
    this.failedAuthenticationDelays = options.failedAuthenticationDelays;
    this.authenticator = options.sasl === undefined ? null : this.createAuthenticator(options.sasl);
    this.closedPromise = new Promise((resolve) => this.socket.once('close', () => resolve()));
    this.socket.setNoDelay(true);
    this.socket.setTimeout(this.config.connectionsMaxIdleMs);
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('drain', () => this.onDrain());
    this.socket.on('timeout', () => this.onIdle());
    this.socket.on('error', (error) => this.logger.info('connection error', { connectionId: this.id, error: error.message }));
    this.socket.once('close', () => this.onSocketClose(options.onClose));
    if (connectionChannel.hasSubscribers) connectionChannel.publish({ event: 'open', connectionId: this.id, remoteAddress: this.remote.address, remotePort: this.remote.port });
  }

  /** Requests read and not yet answered. */
  get inFlightCount(): number {
    return this.queue.length;
  }

  /** Stops reading, answers what is in flight, then closes. Resolves when the socket is closed. */
  drainAndClose(): Promise<void> {
    this.draining = true;
    this.dropWaitingFrames();
    this.socket.pause();
    this.maybeEndDrained();
    return this.closedPromise;
  }

  /** Closes at once, dropping anything in flight. */
  destroy(reason: string): Promise<void> {
    if (!this.closed) {
      if (!this.stopped) this.logger.warn(`closing connection: ${reason}`, { connectionId: this.id, remote: this.remote.address });
      this.closeReason ??= reason;
      this.stopped = true;
      this.socket.destroy();
    }
    return this.closedPromise;
  }

  private closeReason: string | undefined;

  private createAuthenticator(settings: SaslServerSettings, reauthentication?: { mechanism: string; principal: string }): SaslAuthenticator {
    return new SaslAuthenticator({
      reauthentication,
      clock: this.clock,
      settings,
      codec: this.codec,
      handler: this.handler,
      context: (header) => this.contextOf(header),
      logger: this.logger,
      remote: `${this.remote.address}:${this.remote.port}`,
      connectionId: this.id,
      failedAuthenticationDelayMs: () => this.failedAuthenticationDelays.delayFor(this.remote.address ?? ''),
      write: (bytes) => {
        if (!this.stopped && !this.closed) writeResponse(this.socket, bytes, this.onResponseFlushed);
      },
      close: (reason) => this.endAfterWrites(reason),
      onAuthenticated: (principal, laterFrames, sessionLifetimeMs, mechanism) => {
        this.principal = principal;
        this.mechanism = mechanism;
        this.sessionExpiresAtMs = sessionLifetimeMs > 0 ? this.clock.now() + sessionLifetimeMs : null;
        if (this.stopped || this.closed) return;
        for (const frame of laterFrames) if (!this.acceptFrame(frame)) return;
        this.dispatchWaitingFrames();
      },
    });
  }

  private onData(chunk: Buffer): void {
    if (this.draining || this.refusing || this.stopped || this.closed || this.splitter === null) return;
    let frames: Buffer[];
    try {
      frames = this.splitter.push(chunk);
    } catch (error) {
      void this.destroy(`request frame refused: ${describe(error)}`);
      return;
    }
    const authenticating = this.authenticator !== null && !this.authenticator.isAuthenticated;
    if (authenticating) {
      // Before authentication a frame may be no larger than a SASL token (sasl.server.max.receive.size).
      const limit = this.config.saslServerMaxReceiveBytes;
      if (this.splitter.bufferedBytes + this.splitter.awaitedBytes > limit + 4 || frames.some((frame) => frame.length > limit)) {
        void this.destroy(`a frame larger than saslServerMaxReceiveBytes (${limit}) before authentication`);
        return;
      }
      for (const frame of frames) (this.authenticator as SaslAuthenticator).push(frame);
      return;
    }
    for (const frame of frames) if (!this.acceptFrame(frame)) return;
    this.dispatchWaitingFrames();
  }

  /** Decodes a frame's header and queues it; false when the header is unreadable (the connection closes). */
  private acceptFrame(frame: Buffer): boolean {
    let decoded: { header: RequestHeader; bodyOffset: number };
    try {
      decoded = this.codec.decodeHeader(frame);
    } catch (error) {
      void this.destroy(`unreadable request header: ${describe(error)}`);
      return false;
    }
    // KIP-368: a request (other than a SaslHandshake that re-authenticates) after the session expired closes the connection.
    if (this.sessionExpiresAtMs !== null && this.clock.now() > this.sessionExpiresAtMs && decoded.header.apiKey !== SASL_HANDSHAKE_KEY) {
      void this.destroy(`SASL session expired (connections.max.reauth.ms) and the client did not re-authenticate (api ${decoded.header.apiKey})`);
      return false;
    }
    this.waitingFrames.push({ frame, ...decoded });
    this.requestBytesHeld += frame.length;
    return true;
  }

  /**
   * A SaslHandshake on an authenticated SASL connection. With a session that expires, and not within
   * a second of the last attempt, it begins a re-authentication: a new authenticator takes this frame
   * and the ones after it, and requests are served again once it succeeds. Otherwise it is answered
   * ILLEGAL_SASL_STATE, as Kafka's KafkaApis answers a handshake out of place.
   */
  private onAuthenticatedHandshake({ frame, header }: WaitingFrame): void {
    const now = this.clock.now();
    const last = this.lastReauthenticationStartMs;
    const mayReauthenticate = this.sasl !== undefined && this.mechanism !== null && this.sessionExpiresAtMs !== null && (last === null || now - last >= MIN_REAUTHENTICATION_INTERVAL_MS);
    if (!mayReauthenticate) {
      this.answerNow(header, frame.length, this.codec.encodeResponse(header, { errorCode: ILLEGAL_SASL_STATE, mechanisms: [] }));
      return;
    }
    assert.equal(this.queue.length, 0, 'a re-authentication begins only once every earlier request is answered');
    this.lastReauthenticationStartMs = now;
    const later = this.waitingFrames.map((waiting) => waiting.frame);
    this.dropWaitingFrames();
    this.requestBytesHeld -= frame.length;
    const authenticator = this.createAuthenticator(this.sasl as SaslServerSettings, { mechanism: this.mechanism as string, principal: this.principal });
    this.authenticator = authenticator;
    this.logger.info('re-authentication begins', { connectionId: this.id, remote: this.remote.address, principal: this.principal });
    for (const next of [frame, ...later]) authenticator.push(next);
  }

  /** Closes once what was written has left (an answer to a failed authentication, then the close). */
  private endAfterWrites(reason: string): void {
    if (this.stopped || this.closed) return;
    this.logger.warn(`closing connection: ${reason}`, { connectionId: this.id, remote: this.remote.address });
    this.closeReason ??= reason;
    this.stopped = true;
    this.socket.end(() => this.socket.destroy());
  }

  private contextOf(header: RequestHeader): RequestContext {
    const { correlationId, clientId } = header;
    return { connectionId: this.id, clientId, clientHost: `/${this.remote.address ?? ''}`, correlationId, listenerName: this.listenerName, principal: this.principal, recordBytesOwned: true };
  }

  private dispatchWaitingFrames(): void {
    while (this.waitingFrames.length > 0 && this.mayDispatch(this.waitingFrames[0])) {
      this.onFrame(this.waitingFrames.shift() as WaitingFrame);
    }
    this.updateReading();
  }

  private mayDispatch(next: WaitingFrame): boolean {
    // A socket destroyed by a write error has an empty write buffer but no client: start nothing.
    if (this.refusing || this.stopped || this.closed || this.socket.destroyed) return false;
    if (this.queue.length >= this.config.maxInFlightRequestsPerConnection) return false;
    if (LARGE_RESPONSE_APIS.has(next.header.apiKey) && this.queue.length > 0) return false;
    // A re-authentication starts once everything before it is answered (Kafka serves one request at a time).
    if (this.authenticator !== null && next.header.apiKey === SASL_HANDSHAKE_KEY && this.queue.length > 0) return false;
    // While re-authenticating, nothing is dispatched (frames go to the authenticator).
    if (this.authenticator !== null && !this.authenticator.isAuthenticated) return false;
    return this.account.hasResponseRoom;
  }

  private onFrame(waiting: WaitingFrame): void {
    const { frame, header, bodyOffset } = waiting;
    if (this.authenticator !== null && header.apiKey === SASL_HANDSHAKE_KEY) {
      this.onAuthenticatedHandshake(waiting);
      return;
    }
    if (!this.codec.isServed(header.apiKey, header.apiVersion)) {
      if (header.apiKey === API_VERSIONS_KEY) this.answerNow(header, frame.length, this.codec.encodeApiVersionsFallback(header.correlationId));
      else this.refuse(header, frame.length, `unsupported api ${header.apiKey} version ${header.apiVersion} (client ${header.clientId})`);
      return;
    }
    let body: unknown;
    try {
      body = this.codec.decodeBody(frame, header, bodyOffset);
    } catch (error) {
      const reason = `malformed request body: ${describe(error)}`;
      const answer = this.errorResponse(header, INVALID_REQUEST);
      if (answer === null) {
        this.refuse(header, frame.length, reason);
        return;
      }
      this.logger.warn(reason, { connectionId: this.id, apiKey: header.apiKey, apiVersion: header.apiVersion });
      this.answerNow(header, frame.length, answer);
      return;
    }
    this.dispatch(this.enqueue(header, frame.length), body);
  }

  private enqueue(header: RequestHeader, frameBytes: number): Slot {
    const slot: Slot = { header, frameBytes, arrivedAtMs: performance.now(), done: false, response: null, closeAfter: null };
    this.queue.push(slot);
    return slot;
  }

  /** Queues an answer that needs no broker work. */
  private answerNow(header: RequestHeader, frameBytes: number, response: ResponseBytes): void {
    this.finish(this.enqueue(header, frameBytes), response, null);
  }

  /** A request Kafka would close the connection on: earlier requests are answered, later ones dropped, then the connection closes. */
  private refuse(header: RequestHeader, frameBytes: number, reason: string): void {
    this.refusing = true;
    this.dropWaitingFrames();
    this.socket.pause();
    this.finish(this.enqueue(header, frameBytes), null, reason);
  }

  private dropWaitingFrames(): void {
    for (const waiting of this.waitingFrames) this.requestBytesHeld -= waiting.frame.length;
    this.waitingFrames.length = 0;
  }

  private dispatch(slot: Slot, body: unknown): void {
    const { apiKey, apiVersion } = slot.header;
    const context = this.contextOf(slot.header);
    const isWrite = WRITE_APIS.has(apiKey);
    const start = isWrite ? Promise.all([this.lastWrite, ...this.runningReads]) : this.lastWrite;
    // A write lets the next one start when it settles, or earlier when the broker says its
    // changes are made and only its answer waits (an acks=all Produce waiting for replication).
    const written = isWrite ? new Promise<void>((resolve) => {
      context.writeDone = resolve;
    }) : null;
    const settled = start
      .then(() => (this.stopped || this.closed ? undefined : this.handler.handle(apiKey, apiVersion, body as Record<string, unknown>, context)))
      .then(
        (result) => this.onResult(slot, result),
        (error: unknown) => this.onFailure(slot, error),
      );
    if (written !== null) {
      this.lastWrite = Promise.race([written, settled]);
    } else {
      this.runningReads.add(settled);
      void settled.then(() => this.runningReads.delete(settled));
    }
  }

  private onResult(slot: Slot, result: unknown): void {
    if (this.stopped || this.closed) return;
    if (isNoResponse(result)) {
      if (slot.header.apiKey !== 0) this.logger.error('broker gave no response to a request that needs one', { apiKey: slot.header.apiKey });
      this.finish(slot, null, null);
      return;
    }
    let response: ResponseBytes;
    try {
      // A SASL listener advertises the SASL APIs after authentication too, as Kafka's does.
      const answer = this.authenticator !== null && slot.header.apiKey === API_VERSIONS_KEY ? withSaslApiVersions(result) : result;
      response = this.codec.encodeResponse(slot.header, answer);
    } catch (error) {
      this.logger.error('response could not be encoded', { apiKey: slot.header.apiKey, apiVersion: slot.header.apiVersion, error: describe(error) });
      const fallback = this.errorResponse(slot.header, UNKNOWN_SERVER_ERROR);
      this.finish(slot, fallback, fallback === null ? 'response could not be encoded' : null, 'encode');
      return;
    }
    this.finish(slot, response, null);
  }

  private onFailure(slot: Slot, error: unknown): void {
    if (this.stopped || this.closed) return;
    if ((error as { code?: unknown } | null)?.code === 'UNSUPPORTED_VERSION') {
      // The protocol describes an API the broker does not serve: close, as Kafka does for an unknown API.
      this.finish(slot, null, `api ${slot.header.apiKey} is not served by the broker`, 'UNSUPPORTED_VERSION');
      return;
    }
    this.logger.error('request failed in the broker', { connectionId: this.id, apiKey: slot.header.apiKey, apiVersion: slot.header.apiVersion, error: describe(error) });
    const errorCode = errorCodeOf(error);
    const response = this.errorResponse(slot.header, errorCode);
    this.finish(slot, response, response === null ? `the broker failed api ${slot.header.apiKey}, whose response carries no error code` : null, describe(error));
  }

  private errorResponse(header: RequestHeader, errorCode: number): ResponseBytes | null {
    try {
      return this.codec.encodeErrorResponse(header, errorCode);
    } catch {
      return null;
    }
  }

  private finish(slot: Slot, response: ResponseBytes | null, closeAfter: string | null, failed?: string): void {
    slot.done = true;
    slot.response = response;
    slot.closeAfter = closeAfter;
    // The request's bytes are no longer needed once its answer exists; the answer's are counted.
    this.requestBytesHeld -= slot.frameBytes;
    slot.frameBytes = 0;
    if (response !== null) this.responseBytesUnsent += responseLength(response);
    if (requestChannel.hasSubscribers) {
      const { apiKey, apiVersion, correlationId, clientId } = slot.header;
      const event: RequestEvent = { connectionId: this.id, apiKey, apiVersion, correlationId, clientId, durationMs: performance.now() - slot.arrivedAtMs };
      if (failed !== undefined) event.failed = failed;
      requestChannel.publish(event);
    }
    this.writeCompleted();
  }

  /** Writes every finished response at the head of the queue, in arrival order, in one corked batch. */
  private writeCompleted(): void {
    if (this.stopped || this.closed) return;
    this.socket.cork();
    while (this.queue.length > 0 && this.queue[0].done) {
      const slot = this.queue.shift() as Slot;
      if (slot.response !== null) {
        this.responseBytesUnsent -= responseLength(slot.response);
        writeResponse(this.socket, slot.response, this.onResponseFlushed);
      }
      if (slot.closeAfter !== null) {
        this.socket.uncork();
        void this.destroy(slot.closeAfter);
        return;
      }
    }
    this.socket.uncork();
    if (this.socket.writableNeedDrain) this.pausedForDrain = true;
    this.reportResponseBytes();
    if (this.draining) this.maybeEndDrained();
    else this.dispatchWaitingFrames();
  }

  /** Responses the client has not taken: finished but unsent, and in the socket's write buffer. */
  private reportResponseBytes(): void {
    this.account.setResponseBytes(this.closed ? 0 : this.responseBytesUnsent + this.socket.writableLength);
  }

  /** A response reached the kernel: the socket's buffer shrank, so the account does too. */
  private readonly onResponseFlushed = (error?: Error | null): void => {
    if (error) return;
    this.reportResponseBytes();
    if (this.account.hasResponseRoom && this.waitingFrames.length > 0 && !this.draining) this.dispatchWaitingFrames();
  };

  private updateReading(): void {
    if (this.stopped || this.closed || this.draining || this.refusing || this.splitter === null) return;
    this.pausedForInFlight = this.waitingFrames.length > 0 || this.queue.length >= this.config.maxInFlightRequestsPerConnection;
    const buffered = this.splitter.bufferedBytes;
    // The whole declared size of the frame being read is claimed, so a frame let in can finish.
    const granted = this.account.claimRequest(this.requestBytesHeld + buffered + this.splitter.awaitedBytes);
    this.pausedForMemory = !granted || this.requestBytesHeld + buffered >= this.config.socketRequestMaxBytes;
    if (this.pausedForInFlight || this.pausedForDrain || this.pausedForMemory) this.socket.pause();
    else this.socket.resume();
  }

  private onDrain(): void {
    this.pausedForDrain = false;
    this.reportResponseBytes();
    if (this.draining) return;
    this.dispatchWaitingFrames();
  }

  /** The shared budget has room again: dispatch what waited for it, and read if we may. */
  private onMemoryFreed(): void {
    if (this.stopped || this.closed || this.draining) return;
    this.dispatchWaitingFrames();
  }

  private onIdle(): void {
    if (this.queue.length === 0 && this.waitingFrames.length === 0) void this.destroy(`idle for ${this.config.connectionsMaxIdleMs} ms`);
  }

  private maybeEndDrained(): void {
    // end() flushes what is written; destroy once flushed rather than wait for the client's FIN.
    if (this.queue.length === 0 && !this.stopped && !this.closed) {
      this.stopped = true;
      this.socket.end(() => this.socket.destroy());
    }
  }

  private onSocketClose(onClose: (connection: Connection) => void): void {
    this.closed = true;
    // Free everything now, not when the last parked request settles: the queue, the waiting
    // frames, the half-read frame and this connection's share of the budget.
    this.queue.length = 0;
    this.waitingFrames.length = 0;
    this.requestBytesHeld = 0;
    this.responseBytesUnsent = 0;
    this.splitter = null;
    this.authenticator?.dispose();
    this.account.close();
    if (connectionChannel.hasSubscribers) {
      connectionChannel.publish({ event: 'close', connectionId: this.id, remoteAddress: this.remote.address, remotePort: this.remote.port, reason: this.closeReason });
    }
    onClose(this);
  }
}

/** Writes a response; `onFlushed` runs once its last byte has left the socket's buffer. */
function writeResponse(socket: Socket, response: ResponseBytes, onFlushed: () => void): void {
  if (Buffer.isBuffer(response)) {
    socket.write(response, onFlushed);
    return;
  }
  const parts = (response as readonly Buffer[]).filter((part) => part.length > 0);
  for (let index = 0; index < parts.length; index++) socket.write(parts[index], index === parts.length - 1 ? onFlushed : undefined);
}

function responseLength(response: ResponseBytes): number {
  if (Buffer.isBuffer(response)) return response.length;
  let length = 0;
  for (const part of response as readonly Buffer[]) length += part.length;
  return length;
}

function errorCodeOf(error: unknown): number {
  const code = (error as { errorCode?: unknown } | null)?.errorCode;
  return typeof code === 'number' && Number.isInteger(code) ? code : UNKNOWN_SERVER_ERROR;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${(error as { code?: unknown }).code ?? error.name}: ${error.message}`;
  return String(error);
}
