/**
 * SASL PLAIN (RFC 4616) as Kafka serves it: one client message `authzid NUL authcid NUL passwd`,
 * an empty answer. The authorization id must be empty or equal the user name. Passwords are the
 * broker's configured ones (JAAS `user_<name>="..."`); they are compared through their SHA-256
 * digests with `timingSafeEqual`, so the time taken does not depend on how much of a guess was
 * right nor on the password's length. One exchange per connection; event loop only.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { SaslAuthenticationError, SecurityError } from './errors.js';

/** Longest PLAIN message accepted (three fields of at most 255 bytes each in practice). */
const PLAIN_MESSAGE_BYTES_MAX = 4096;

export class PlainServerExchange {
  readonly mechanism = 'PLAIN';
  private state: 'initial' | 'complete' | 'failed' = 'initial';
  private authenticated: string | null = null;

  constructor(private readonly passwordOf: (username: string) => string | undefined) {}

  get isComplete(): boolean {
    return this.state === 'complete';
  }

  get username(): string {
    if (this.authenticated === null) throw new SecurityError('SASL_STATE', 'the PLAIN exchange is not complete');
    return this.authenticated;
  }

  evaluate(token: Buffer): Buffer {
    const fail = (reason: string) => {
      this.state = 'failed';
      return new SaslAuthenticationError('PLAIN', reason);
    };
    if (this.state !== 'initial') throw fail(`message after the exchange was ${this.state}`);
    if (token.length > PLAIN_MESSAGE_BYTES_MAX) throw fail(`message of ${token.length} bytes`);
    const parts = token.toString('utf8').split('\u0000');
    if (parts.length !== 3) throw fail('message is not authzid NUL user NUL password');
    const [authorizationId, username, password] = parts;
    if (username === '' || password === '') throw fail('empty user name or password');
    if (authorizationId !== '' && authorizationId !== username) throw fail('authorization id differs from the user name');
    const expected = this.passwordOf(username);
    // Compare digests: equal length whatever the input, and an unknown user costs the same.
    const matches = timingSafeEqual(sha256(password), sha256(expected ?? `\u0000unknown:${password}`));
    if (expected === undefined || !matches) throw fail(expected === undefined ? 'unknown user' : 'wrong password');
    this.state = 'complete';
    this.authenticated = username;
    return Buffer.alloc(0);
  }
}

/** The client's PLAIN message. */
export function plainClientMessage(username: string, password: string): Buffer {
  return Buffer.from(`\u0000${username}\u0000${password}`, 'utf8');
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
