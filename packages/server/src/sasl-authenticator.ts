/**
 * The SASL stage of a connection on a SASL_PLAINTEXT or SASL_SSL listener (Kafka's
 * SaslServerAuthenticator): until a client has authenticated, only ApiVersions, SaslHandshake and
 * SaslAuthenticate are served; anything else closes the connection.
 *
 * Framing, both of Kafka's:
 *   - SaslHandshake v1, then SaslAuthenticate requests (v0-v2) carrying the mechanism's tokens,
 *     answered with SaslAuthenticate responses (KIP-152). A failure is answered with
 *     SASL_AUTHENTICATION_FAILED and the connection closed.
 *   - SaslHandshake v0, then the mechanism's tokens as bare size-prefixed frames without a request
 *     header, answered the same way. A failure closes the connection (the framing cannot carry an
 *     error).
 * A failed authentication is logged with the peer's address and answered only after
 * `connectionFailedAuthenticationDelayMs` (Kafka's `connection.failed.authentication.delay.ms`,
 * spaced per client address by `failed-authentication-delay.ts`), which slows down password
 * guessing; the client is told the same thing whatever was wrong.
 *
 * Sessions (KIP-368): with `connections.max.reauth.ms` set for the mechanism, the exchange's last
 * SaslAuthenticate answer carries it as `sessionLifetimeMs` (v1+; PLAIN and SCRAM credentials have
 * no lifetime of their own) and the connection learns when the session expires. A
 * re-authentication runs a new authenticator on the same connection (`reauthentication`): same
 * framing, but the mechanism must be the one used before and the principal must not change
 * (Kafka's "Cannot change principals during re-authentication"), else it fails as any failed
 * authentication does.
 *
 * Bounds: a frame is at most `saslServerMaxReceiveBytes` (Kafka's
 * `sasl.server.max.receive.size`), at most `AUTHENTICATION_FRAMES_QUEUED_MAX` frames wait, and the
 * connection's idle timeout applies. Frames are handled one at a time, in order; the connection
 * feeds them and takes back what arrived after the exchange completed. Event loop only.
 */
import { ANONYMOUS_PRINCIPAL, createSaslServerExchange, type SaslServerExchange, type SaslServerSettings, SaslAuthenticationError, userPrincipal } from '@gregor/security';
import type { Clock, TimerHandle } from '@gregor/log';
import type { RequestContext, RequestHandler } from './handler.js';
import type { Logger } from './logger.js';
import { API_VERSIONS_KEY, type RequestHeader, type ResponseBytes, type WireCodec } from './wire.js';

export const SASL_HANDSHAKE_KEY = 17;
export const SASL_AUTHENTICATE_KEY = 36;
const NONE = 0;
const UNSUPPORTED_SASL_MECHANISM = 33;
const ILLEGAL_SASL_STATE = 34;
const SASL_AUTHENTICATION_FAILED = 58;

/** Frames a client may send before the authenticator has answered the earlier ones. */
export const AUTHENTICATION_FRAMES_QUEUED_MAX = 8;

/** The SASL APIs a SASL listener adds to every ApiVersions answer (the broker does not serve them). */
const SASL_API_VERSIONS = [
  { apiKey: SASL_HANDSHAKE_KEY, minVersion: 0, maxVersion: 1 },
  { apiKey: SASL_AUTHENTICATE_KEY, minVersion: 0, maxVersion: 2 },
];

/** Adds SaslHandshake and SaslAuthenticate to an ApiVersions answer, in key order. */
export function withSaslApiVersions(result: unknown): unknown {
  const body = result as { apiKeys?: { apiKey: number; minVersion: number; maxVersion: number }[] } | null;
  if (body === null || !Array.isArray(body.apiKeys)) return result;
  const apiKeys = [...body.apiKeys.filter((api) => api.apiKey !== SASL_HANDSHAKE_KEY && api.apiKey !== SASL_AUTHENTICATE_KEY), ...SASL_API_VERSIONS];
  apiKeys.sort((a, b) => a.apiKey - b.apiKey);
  return { ...body, apiKeys };
}

export interface SaslAuthenticatorOptions {
  settings: SaslServerSettings;
  codec: WireCodec;
  /** Answers ApiVersions during the exchange (the listener's handler). */
  handler: RequestHandler;
  context: (header: RequestHeader) => RequestContext;
  logger: Logger;
  remote: string;
  connectionId: number;
  /** How long to hold the answer to a failed authentication from this client (ms). */
  failedAuthenticationDelayMs: () => number;
  clock: Clock;
  /** Set when this exchange re-authenticates an authenticated connection: what it authenticated as. */
  reauthentication?: { mechanism: string; principal: string };
  write: (bytes: ResponseBytes) => void;
  /** Close after what was written is flushed. */
  close: (reason: string) => void;
  /**
   * The exchange succeeded: the principal, the frames that arrived after it in order, the session
   * lifetime (0: the session does not expire) and the mechanism.
   */
  onAuthenticated: (principal: string, laterFrames: Buffer[], sessionLifetimeMs: number, mechanism: string) => void;
}

export class SaslAuthenticator {
  private state: 'handshake' | 'authenticate' | 'raw-tokens' | 'authenticated' | 'failed' = 'handshake';
  private exchange: SaslServerExchange | null = null;
  private readonly queued: Buffer[] = [];
  private busy = false;
  private delayTimer: TimerHandle | null = null;
  private sessionLifetimeMs = 0;

  constructor(private readonly options: SaslAuthenticatorOptions) {}

  get isAuthenticated(): boolean {
    return this.state === 'authenticated';
  }

  /** A frame read while the client is not authenticated. */
  push(frame: Buffer): void {
    if (this.state === 'failed') return;
    if (this.queued.length >= AUTHENTICATION_FRAMES_QUEUED_MAX) {
      this.fail(`more than ${AUTHENTICATION_FRAMES_QUEUED_MAX} frames sent during authentication`);
      return;
    }
    this.queued.push(frame);
    this.drain();
  }

  /** The connection closed: stop any delayed answer. */
  dispose(): void {
    if (this.delayTimer !== null) this.options.clock.clearTimeout(this.delayTimer);
    this.delayTimer = null;
    this.state = 'failed';
    this.queued.length = 0;
  }

  private drain(): void {
    while (!this.busy && this.queued.length > 0 && this.state !== 'failed' && this.state !== 'authenticated') {
      const frame = this.queued.shift() as Buffer;
      this.busy = true;
      this.onFrame(frame).then(
        () => {
          this.busy = false;
          if (this.state === 'authenticated') this.options.onAuthenticated(this.principal(), this.queued.splice(0), this.sessionLifetimeMs, (this.exchange as SaslServerExchange).mechanism);
          else this.drain();
        },
        (error: unknown) => {
          this.busy = false;
          this.fail(`authentication stage failed: ${(error as Error).message}`);
        },
      );
    }
  }

  private principal(): string {
    return this.exchange === null ? ANONYMOUS_PRINCIPAL : userPrincipal(this.exchange.username);
  }

  private async onFrame(frame: Buffer): Promise<void> {
    if (this.state === 'raw-tokens') {
      this.evaluate(frame, null);
      return;
    }
    let header: RequestHeader;
    let bodyOffset: number;
    try {
      ({ header, bodyOffset } = this.options.codec.decodeHeader(frame));
    } catch {
      this.fail('unreadable request header during authentication');
      return;
    }
    if (header.apiKey === API_VERSIONS_KEY && this.state === 'handshake' && this.options.reauthentication === undefined) {
      await this.answerApiVersions(frame, header, bodyOffset);
      return;
    }
    const expected = this.state === 'handshake' ? SASL_HANDSHAKE_KEY : SASL_AUTHENTICATE_KEY;
    if (header.apiKey !== expected || !this.options.codec.isServed(header.apiKey, header.apiVersion)) {
      this.fail(`request api ${header.apiKey} v${header.apiVersion} before authentication (expected api ${expected})`);
      return;
    }
    let body: Record<string, unknown>;
    try {
      body = this.options.codec.decodeBody(frame, header, bodyOffset) as Record<string, unknown>;
    } catch {
      this.fail(`malformed api ${header.apiKey} request during authentication`);
      return;
    }
    if (header.apiKey === SASL_HANDSHAKE_KEY) this.onHandshake(header, String(body.mechanism ?? ''));
    else this.evaluate(Buffer.from((body.authBytes as Uint8Array | null) ?? Buffer.alloc(0)), header);
  }

  private async answerApiVersions(frame: Buffer, header: RequestHeader, bodyOffset: number): Promise<void> {
    const { codec } = this.options;
    if (!codec.isServed(header.apiKey, header.apiVersion)) {
      this.options.write(codec.encodeApiVersionsFallback(header.correlationId));
      return;
    }
    const body = codec.decodeBody(frame, header, bodyOffset) as Record<string, unknown>;
    const result = await this.options.handler.handle(header.apiKey, header.apiVersion, body, this.options.context(header));
    if (this.state === 'failed') return;
    this.options.write(codec.encodeResponse(header, withSaslApiVersions(result)));
  }

  private onHandshake(header: RequestHeader, mechanism: string): void {
    const { settings, codec } = this.options;
    const exchange = createSaslServerExchange(settings, mechanism);
    const mechanisms = [...settings.enabledMechanisms];
    if (exchange === undefined) {
      this.options.write(codec.encodeResponse(header, { errorCode: UNSUPPORTED_SASL_MECHANISM, mechanisms }));
      this.state = 'failed';
      this.options.logger.warn('SASL mechanism not offered', { connectionId: this.options.connectionId, remote: this.options.remote, mechanism });
      this.options.close(`unsupported SASL mechanism ${mechanism}`);
      return;
    }
    this.exchange = exchange;
    this.state = header.apiVersion === 0 ? 'raw-tokens' : 'authenticate';
    this.options.write(codec.encodeResponse(header, { errorCode: NONE, mechanisms }));
  }

  /** One token of the mechanism: from a SaslAuthenticate request (`header`) or a bare frame (`null`). */
  private evaluate(token: Buffer, header: RequestHeader | null): void {
    const exchange = this.exchange as SaslServerExchange;
    let challenge: Buffer;
    try {
      const previous = this.options.reauthentication;
      if (previous !== undefined && exchange.mechanism !== previous.mechanism) {
        throw new ReauthenticationRefused(`SASL mechanism '${exchange.mechanism}' requested by client is not supported for re-authentication of mechanism '${previous.mechanism}'`);
      }
      challenge = exchange.evaluate(token);
      if (previous !== undefined && exchange.isComplete && this.principal() !== previous.principal) {
        const name = (principal: string) => principal.replace(':', '.');
        throw new ReauthenticationRefused(`Cannot change principals during re-authentication from ${name(previous.principal)}: ${name(this.principal())}`);
      }
    } catch (error) {
      const reason = error instanceof SaslAuthenticationError ? error.reason : (error as Error).message;
      // Kafka tells the client why a re-authentication was refused; nothing about a wrong credential.
      const message = error instanceof ReauthenticationRefused || error instanceof SaslAuthenticationError ? error.message : `Authentication failed with SASL mechanism ${exchange.mechanism}`;
      this.failAuthentication(header, reason, message);
      return;
    }
    if (exchange.isComplete) this.sessionLifetimeMs = Math.max(0, (this.options.settings.connectionsMaxReauthMs as Readonly<Record<string, number>> | undefined)?.[exchange.mechanism] ?? 0);
    if (header === null) this.options.write(sizePrefixed(challenge));
    else this.options.write(this.options.codec.encodeResponse(header, { errorCode: NONE, errorMessage: null, authBytes: challenge, sessionLifetimeMs: this.sessionLifetimeMs }));
    if (exchange.isComplete) {
      this.state = 'authenticated';
      const event = this.options.reauthentication === undefined ? 'authenticated' : 're-authenticated';
      this.options.logger.info(event, { connectionId: this.options.connectionId, remote: this.options.remote, mechanism: exchange.mechanism, principal: this.principal(), sessionLifetimeMs: this.sessionLifetimeMs });
    }
  }

  /** Logged with the peer now; answered (v1) and closed after the failed-authentication delay. */
  private failAuthentication(header: RequestHeader | null, reason: string, message: string): void {
    this.state = 'failed';
    this.queued.length = 0;
    this.options.logger.warn('failed authentication', { connectionId: this.options.connectionId, remote: this.options.remote, mechanism: this.exchange?.mechanism, reason });
    const answer = () => {
      this.delayTimer = null;
      if (header !== null) {
        this.options.write(this.options.codec.encodeResponse(header, { errorCode: SASL_AUTHENTICATION_FAILED, errorMessage: message, authBytes: Buffer.alloc(0), sessionLifetimeMs: 0 }));
      }
      this.options.close(`failed authentication: ${reason}`);
    };
    const delayMs = this.options.failedAuthenticationDelayMs();
    if (delayMs > 0) this.delayTimer = this.options.clock.setTimeout(answer, delayMs);
    else answer();
  }

  /** A protocol violation during authentication (Kafka's IllegalSaslStateException): close at once. */
  private fail(reason: string): void {
    if (this.state === 'failed') return;
    this.state = 'failed';
    this.queued.length = 0;
    this.options.logger.warn('refused before authentication', { connectionId: this.options.connectionId, remote: this.options.remote, reason, errorCode: ILLEGAL_SASL_STATE });
    this.options.close(reason);
  }
}

/** A re-authentication with another mechanism or principal than before: refused, the client told why. */
class ReauthenticationRefused extends Error {}

function sizePrefixed(token: Buffer): Buffer {
  const out = Buffer.alloc(4 + token.length);
  out.writeInt32BE(token.length, 0);
  token.copy(out, 4);
  return out;
}
