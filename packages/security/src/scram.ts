/**
 * SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them (KIP-84), with
 * Node's crypto: PBKDF2 for Hi(), HMAC, the hash, `timingSafeEqual` for the proof check. No
 * channel binding (Kafka offers none): the GS2 header is `n,,` or `y,,`, optionally with an
 * authorization id that must equal the user name.
 *
 * The messages (text, comma separated attributes):
 *   client-first  n,,n=<user>,r=<client nonce>[,<extension>=<value>...]
 *   server-first  r=<client nonce><server nonce>,s=<base64 salt>,i=<iterations>
 *   client-final  c=<base64 GS2 header>,r=<nonce>,p=<base64 client proof>
 *   server-final  v=<base64 server signature>
 *
 * Credentials: the server keeps, per user and mechanism, the salt, the iteration count, StoredKey
 * = H(HMAC(SaltedPassword, "Client Key")) and ServerKey = HMAC(SaltedPassword, "Server Key");
 * never the password nor the salted password. A proof is checked by recovering ClientKey from it
 * and comparing H(ClientKey) with StoredKey in constant time.
 *
 * An unknown user gets a server-first message like a known one (a salt derived from the user name
 * and a per-process secret, the default iteration count) and fails at the proof, with the same
 * error as a wrong password, so the exchange does not tell which users exist.
 *
 * `ScramServerExchange` is one connection's exchange: not shared, used from the event loop only.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError, SecurityError } from './errors.js';

export type ScramMechanism = 'SCRAM-SHA-256' | 'SCRAM-SHA-512';

interface MechanismFacts {
  readonly hash: 'sha256' | 'sha512';
  /** Output bytes of the hash: the length of SaltedPassword, StoredKey and ServerKey. */
  readonly keyBytes: number;
  /** Kafka's ScramMechanism type byte in Describe/AlterUserScramCredentials. */
  readonly type: number;
}

export const SCRAM_MECHANISMS: Readonly<Record<ScramMechanism, MechanismFacts>> = Object.freeze({
  'SCRAM-SHA-256': { hash: 'sha256', keyBytes: 32, type: 1 },
  'SCRAM-SHA-512': { hash: 'sha512', keyBytes: 64, type: 2 },
});

/** Kafka's bounds on the iteration count of a stored credential (ScramMechanism minIterations/maxIterations). */
export const SCRAM_ITERATIONS_MIN = 4096;
export const SCRAM_ITERATIONS_MAX = 16384;

export function isScramMechanism(name: string): name is ScramMechanism {
  return name === 'SCRAM-SHA-256' || name === 'SCRAM-SHA-512';
}

export function scramMechanismOfType(type: number): ScramMechanism | undefined {
  return type === 1 ? 'SCRAM-SHA-256' : type === 2 ? 'SCRAM-SHA-512' : undefined;
}

/** What the server stores for one user and mechanism. */
export interface ScramCredential {
  readonly mechanism: ScramMechanism;
  readonly salt: Buffer;
  readonly iterations: number;
  readonly storedKey: Buffer;
  readonly serverKey: Buffer;
}

/** Hi(password, salt, i) of RFC 5802: PBKDF2 with the mechanism's HMAC. */
export function saltedPassword(mechanism: ScramMechanism, password: string, salt: Buffer, iterations: number): Buffer {
  const { hash, keyBytes } = SCRAM_MECHANISMS[mechanism];
  return pbkdf2Sync(Buffer.from(password.normalize('NFKC'), 'utf8'), salt, iterations, keyBytes, hash);
}

/** The stored credential from a salted password (what AlterUserScramCredentials carries). */
export function credentialFromSaltedPassword(mechanism: ScramMechanism, salted: Buffer, salt: Buffer, iterations: number): ScramCredential {
  const { hash, keyBytes } = SCRAM_MECHANISMS[mechanism];
  if (salted.length !== keyBytes) throw new SecurityError('UNACCEPTABLE_CREDENTIAL', `a ${mechanism} salted password has ${keyBytes} bytes, got ${salted.length}`);
  const clientKey = hmac(hash, salted, 'Client Key');
  return { mechanism, salt: Buffer.from(salt), iterations, storedKey: digest(hash, clientKey), serverKey: hmac(hash, salted, 'Server Key') };
}

/** A new credential for `password`, with a random 32-byte salt unless one is given. */
export function scramCredential(mechanism: ScramMechanism, password: string, options: { iterations?: number; salt?: Buffer } = {}): ScramCredential {
  const iterations = options.iterations ?? SCRAM_ITERATIONS_MIN;
  checkIterations(iterations);
  const salt = options.salt ?? randomBytes(32);
  return credentialFromSaltedPassword(mechanism, saltedPassword(mechanism, password, salt, iterations), salt, iterations);
}

export function checkIterations(iterations: number): void {
  if (!Number.isInteger(iterations) || iterations < SCRAM_ITERATIONS_MIN || iterations > SCRAM_ITERATIONS_MAX) {
    throw new SecurityError('UNACCEPTABLE_CREDENTIAL', `SCRAM iterations must be between ${SCRAM_ITERATIONS_MIN} and ${SCRAM_ITERATIONS_MAX}, got ${iterations}`);
  }
}

function hmac(hash: string, key: Buffer, data: string | Buffer): Buffer {
  return createHmac(hash, key).update(data).digest();
}

function digest(hash: string, data: Buffer): Buffer {
  return createHash(hash).update(data).digest();
}

function xor(a: Buffer, b: Buffer): Buffer {
  const out = Buffer.alloc(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] ^ b[i];
  return out;
}

/** SCRAM's saslname escaping: ',' is '=2C' and '=' is '=3D'. */
export function escapeSaslName(name: string): string {
  return name.replace(/=/g, '=3D').replace(/,/g, '=2C');
}

function unescapeSaslName(escaped: string): string | null {
  if (/=(?!2C|3D)/.test(escaped)) return null;
  return escaped.replace(/=2C/g, ',').replace(/=3D/g, '=');
}

/** A nonce: printable ASCII without ','. */
const NONCE = /^[\x21-\x2b\x2d-\x7e]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
/** Longest client message accepted; real ones are well under 1 KiB. */
const MESSAGE_BYTES_MAX = 4096;

interface ClientFirst {
  gs2Header: string;
  username: string;
  nonce: string;
  bare: string;
}

function parseClientFirst(text: string): ClientFirst | string {
  const match = /^([ny]),(a=[^,]*)?,(.*)$/s.exec(text);
  if (match === null) return 'client-first has no GS2 header (channel binding is not supported)';
  const gs2Header = `${match[1]},${match[2] ?? ''},`;
  const bare = match[3];
  const attributes = bare.split(',');
  if (attributes.length < 2 || !attributes[0].startsWith('n=') || !attributes[1].startsWith('r=')) return 'client-first lacks n= and r=';
  const username = unescapeSaslName(attributes[0].slice(2));
  if (username === null || username === '') return 'client-first user name is empty or badly escaped';
  if (match[2] !== undefined && unescapeSaslName(match[2].slice(2)) !== username) return 'authorization id differs from the user name';
  const nonce = attributes[1].slice(2);
  if (!NONCE.test(nonce)) return 'client nonce is empty or not printable';
  for (const extension of attributes.slice(2)) {
    // Kafka's extensions (KIP-342); tokenauth asks for delegation tokens, which Gregor has not.
    if (!/^[A-Za-z]+=/.test(extension) || extension.startsWith('m=')) return 'client-first has a malformed or mandatory extension';
    if (extension === 'tokenauth=true') return 'delegation token authentication is not supported';
  }
  return { gs2Header, username, nonce, bare };
}

export interface ScramServerOptions {
  mechanism: ScramMechanism;
  /** The stored credential of a user for this mechanism, if any. */
  credential: (username: string) => ScramCredential | undefined;
  /** Random bytes for the server nonce (default crypto.randomBytes). */
  randomBytes?: (size: number) => Buffer;
  /** Secret from which unknown users' salts are derived; one per process is enough. */
  unknownUserSecret?: Buffer;
}

const processSecret = randomBytes(32);

/**
 * The server side of one SCRAM exchange: `evaluate()` takes each client message and returns the
 * server's answer; after the second, `isComplete` is true and `username` is authenticated. Any
 * failure throws SaslAuthenticationError and leaves the exchange failed for good.
 */
export class ScramServerExchange {
  readonly mechanism: ScramMechanism;
  private state: 'first' | 'final' | 'complete' | 'failed' = 'first';
  private clientFirst: ClientFirst | null = null;
  private serverFirst = '';
  private nonce = '';
  private credential: ScramCredential | null = null;
  private knownUser = false;
  private readonly options: ScramServerOptions;

  constructor(options: ScramServerOptions) {
    this.options = options;
    this.mechanism = options.mechanism;
  }

  get isComplete(): boolean {
    return this.state === 'complete';
  }

  /** The authenticated user name (once complete). */
  get username(): string {
    if (this.state !== 'complete' || this.clientFirst === null) throw new SecurityError('SASL_STATE', 'the SCRAM exchange is not complete');
    return this.clientFirst.username;
  }

  evaluate(token: Buffer): Buffer {
    try {
      if (token.length > MESSAGE_BYTES_MAX) throw this.fail(`message of ${token.length} bytes`);
      const text = token.toString('utf8');
      if (this.state === 'first') return this.onClientFirst(text);
      if (this.state === 'final') return this.onClientFinal(text);
      throw this.fail(`message after the exchange was ${this.state}`);
    } catch (error) {
      this.state = 'failed';
      throw error instanceof SaslAuthenticationError ? error : this.fail(`unexpected ${(error as Error).message}`);
    }
  }

  private fail(reason: string): SaslAuthenticationError {
    this.state = 'failed';
    return new SaslAuthenticationError(this.mechanism, reason);
  }

  private onClientFirst(text: string): Buffer {
    const parsed = parseClientFirst(text);
    if (typeof parsed === 'string') throw this.fail(parsed);
    this.clientFirst = parsed;
    const stored = this.options.credential(parsed.username);
    this.knownUser = stored !== undefined && stored.mechanism === this.mechanism;
    this.credential = this.knownUser ? (stored as ScramCredential) : this.unknownUserCredential(parsed.username);
    const random = this.options.randomBytes ?? randomBytes;
    this.nonce = parsed.nonce + random(24).toString('base64');
    this.serverFirst = `r=${this.nonce},s=${this.credential.salt.toString('base64')},i=${this.credential.iterations}`;
    this.state = 'final';
    return Buffer.from(this.serverFirst, 'utf8');
  }

  private onClientFinal(text: string): Buffer {
    const clientFirst = this.clientFirst as ClientFirst;
    const credential = this.credential as ScramCredential;
    const match = /^c=([^,]*),r=([^,]*)(?:,[A-Za-z]=[^,]*)*,p=([^,]*)$/.exec(text);
    if (match === null) throw this.fail('client-final is malformed');
    const [, channelBinding, nonce, proofText] = match;
    if (channelBinding !== Buffer.from(clientFirst.gs2Header, 'utf8').toString('base64')) throw this.fail('channel binding differs from the GS2 header');
    // Kafka accepts a nonce that ends with the server's (librdkafka repeats the client nonce in front).
    if (!nonce.endsWith(this.nonce)) throw this.fail('nonce does not end with the one the server sent');
    if (!BASE64.test(proofText)) throw this.fail('proof is not base64');
    const { hash, keyBytes } = SCRAM_MECHANISMS[this.mechanism];
    const proof = Buffer.from(proofText, 'base64');
    const withoutProof = text.slice(0, text.lastIndexOf(',p='));
    const authMessage = `${clientFirst.bare},${this.serverFirst},${withoutProof}`;
    const clientSignature = hmac(hash, credential.storedKey, authMessage);
    // A proof of the wrong length is compared against a zero key, so the timing does not differ.
    const clientKey = proof.length === keyBytes ? xor(proof, clientSignature) : Buffer.alloc(keyBytes);
    const matches = timingSafeEqual(digest(hash, clientKey), credential.storedKey);
    if (!matches || !this.knownUser || proof.length !== keyBytes) throw this.fail(this.knownUser ? 'wrong proof (password)' : 'unknown user');
    this.state = 'complete';
    return Buffer.from(`v=${hmac(hash, credential.serverKey, authMessage).toString('base64')}`, 'utf8');
  }

  private unknownUserCredential(username: string): ScramCredential {
    const { hash, keyBytes } = SCRAM_MECHANISMS[this.mechanism];
    const secret = this.options.unknownUserSecret ?? processSecret;
    const salt = hmac(hash, secret, `salt:${this.mechanism}:${username}`).subarray(0, 32);
    // Keys nobody can match: derived from the secret, never from a password.
    const storedKey = hmac(hash, secret, `stored:${username}`).subarray(0, keyBytes);
    return { mechanism: this.mechanism, salt, iterations: SCRAM_ITERATIONS_MIN, storedKey, serverKey: storedKey };
  }
}

/**
 * The client side (Gregor's own client, tests): `first()`, then `final(serverFirst)`, then
 * `verify(serverFinal)` checks the server's signature, so the client knows the server holds the
 * credential.
 */
export class ScramClientExchange {
  private readonly nonce: string;
  private clientFirstBare = '';
  private expectedServerSignature: Buffer | null = null;

  constructor(
    readonly mechanism: ScramMechanism,
    private readonly username: string,
    private readonly password: string,
    options: { nonce?: string } = {},
  ) {
    this.nonce = options.nonce ?? randomBytes(24).toString('base64');
  }

  first(): Buffer {
    this.clientFirstBare = `n=${escapeSaslName(this.username)},r=${this.nonce}`;
    return Buffer.from(`n,,${this.clientFirstBare}`, 'utf8');
  }

  final(serverFirstBytes: Buffer): Buffer {
    const serverFirst = serverFirstBytes.toString('utf8');
    const match = /^r=([^,]+),s=([^,]+),i=(\d+)/.exec(serverFirst);
    if (match === null) throw new SaslAuthenticationError(this.mechanism, 'server-first is malformed');
    const [, nonce, saltText, iterationsText] = match;
    if (!nonce.startsWith(this.nonce) || nonce.length === this.nonce.length) throw new SaslAuthenticationError(this.mechanism, 'server nonce does not extend the client nonce');
    const iterations = Number(iterationsText);
    if (iterations < SCRAM_ITERATIONS_MIN) throw new SaslAuthenticationError(this.mechanism, `server asks for ${iterations} iterations, fewer than ${SCRAM_ITERATIONS_MIN}`);
    const { hash } = SCRAM_MECHANISMS[this.mechanism];
    const salted = saltedPassword(this.mechanism, this.password, Buffer.from(saltText, 'base64'), iterations);
    const clientKey = hmac(hash, salted, 'Client Key');
    const withoutProof = `c=biws,r=${nonce}`;
    const authMessage = `${this.clientFirstBare},${serverFirst},${withoutProof}`;
    const proof = xor(clientKey, hmac(hash, digest(hash, clientKey), authMessage));
    this.expectedServerSignature = hmac(hash, hmac(hash, salted, 'Server Key'), authMessage);
    return Buffer.from(`${withoutProof},p=${proof.toString('base64')}`, 'utf8');
  }

  verify(serverFinalBytes: Buffer): void {
    const match = /^v=([^,]+)/.exec(serverFinalBytes.toString('utf8'));
    const expected = this.expectedServerSignature;
    const signature = match === null ? Buffer.alloc(0) : Buffer.from(match[1], 'base64');
    if (expected === null || signature.length !== expected.length || !timingSafeEqual(signature, expected)) {
      throw new SaslAuthenticationError(this.mechanism, 'the server signature does not match');
    }
  }
}
