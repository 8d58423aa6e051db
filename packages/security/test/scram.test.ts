import fc from 'fast-check';
import { createHash, createHmac, pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  credentialFromSaltedPassword, SaslAuthenticationError, SCRAM_ITERATIONS_MIN, ScramClientExchange, type ScramCredential, type ScramMechanism,
  scramCredential, ScramServerExchange, saslFailureMessage, saltedPassword,
} from '../src/index.js';

const mechanisms: ScramMechanism[] = ['SCRAM-SHA-256', 'SCRAM-SHA-512'];
// Credentials are derived once per (mechanism, password): PBKDF2 with 4096 iterations is the slow part.
const credentials = new Map<string, ScramCredential>();
function credentialOf(mechanism: ScramMechanism, password: string): ScramCredential {
  const key = `${mechanism}/${password}`;
  let credential = credentials.get(key);
  if (credential === undefined) credentials.set(key, (credential = scramCredential(mechanism, password)));
  return credential;
}

function server(mechanism: ScramMechanism, users: Record<string, string>): ScramServerExchange {
  return new ScramServerExchange({ mechanism, credential: (name) => (name in users ? credentialOf(mechanism, users[name]) : undefined) });
}

/** Runs a whole exchange; the outcome is 'ok' or the client-visible failure message. */
function exchange(mechanism: ScramMechanism, users: Record<string, string>, user: string, password: string, tamper: (step: 'first' | 'final', bytes: Buffer) => Buffer = (_s, b) => b): string {
  const client = new ScramClientExchange(mechanism, user, password);
  const side = server(mechanism, users);
  try {
    const serverFirst = side.evaluate(tamper('first', client.first()));
    const serverFinal = side.evaluate(tamper('final', client.final(serverFirst)));
    client.verify(serverFinal);
    expect(side.isComplete).toBe(true);
    expect(side.username).toBe(user);
    return 'ok';
  } catch (error) {
    expect(error).toBeInstanceOf(SaslAuthenticationError);
    expect(side.isComplete).toBe(false);
    return (error as Error).message;
  }
}

const name = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes('\u0000'));
const password = fc.string({ minLength: 1, maxLength: 12 });

describe('SCRAM (RFC 5802 / 7677)', () => {
  for (const mechanism of mechanisms) {
    it(`${mechanism}: the right password authenticates and the client verifies the server's signature`, () => {
      fc.assert(fc.property(name, fc.constantFrom('alice-secret', 'p,=w\u00e9'), (user, secret) => {
        expect(exchange(mechanism, { [user]: secret }, user, secret)).toBe('ok');
      }), { numRuns: 20 });
    });

    it(`${mechanism}: wrong password, unknown user, wrong nonce, altered channel binding all fail with the same message`, () => {
      const failed = saslFailureMessage(mechanism);
      fc.assert(fc.property(name, password, fc.constantFrom('password', 'unknown', 'nonce', 'binding', 'proof'), (user, guess, fault) => {
        const users = { alice: 'alice-secret' };
        const target = fault === 'unknown' ? `${user}-not-alice` : 'alice';
        const secret = fault === 'password' ? `${guess}x`.replace('alice-secret', 'y') : 'alice-secret';
        const tamper = (step: 'first' | 'final', bytes: Buffer): Buffer => {
          if (step !== 'final') return bytes;
          const text = bytes.toString();
          if (fault === 'nonce') return Buffer.from(text.replace(/,r=([^,]*)/, (_m, n: string) => `,r=${n.slice(0, -1)}${n.endsWith('A') ? 'B' : 'A'}`));
          if (fault === 'binding') return Buffer.from(text.replace('c=biws', 'c=eSws'));
          if (fault === 'proof') return Buffer.from(text.replace(/p=.*/, `p=${Buffer.from(guess).toString('base64')}`));
          return bytes;
        };
        expect(exchange(mechanism, users, target, secret, tamper)).toBe(failed);
      }), { numRuns: 40 });
    });
  }

  it('a replayed client-final from an earlier exchange fails: the server nonce is new each time', () => {
    const mechanism = 'SCRAM-SHA-256';
    const users = { alice: 'alice-secret' };
    const client = new ScramClientExchange(mechanism, 'alice', 'alice-secret', { nonce: 'fixed-client-nonce' });
    const first = client.first();
    const recorded = server(mechanism, users);
    const finalMessage = client.final(recorded.evaluate(first));
    recorded.evaluate(finalMessage);
    const attacked = server(mechanism, users);
    attacked.evaluate(first);
    expect(() => attacked.evaluate(finalMessage)).toThrow(saslFailureMessage(mechanism));
    // A message after the end of an exchange fails it too.
    expect(() => recorded.evaluate(finalMessage)).toThrow(SaslAuthenticationError);
  });

  it('an unknown user gets a server-first that looks like a known one and is stable across attempts', () => {
    const mechanism = 'SCRAM-SHA-512';
    const serverFirst = (user: string) => server(mechanism, { alice: 'a' }).evaluate(new ScramClientExchange(mechanism, user, 'x', { nonce: 'n' }).first()).toString();
    const unknown = serverFirst('mallory');
    const known = serverFirst('alice');
    expect(unknown).toMatch(/^r=n[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(known).toMatch(/^r=n[^,]+,s=[A-Za-z0-9+/=]+,i=4096$/);
    expect(unknown.split(',').slice(1)).toEqual(serverFirst('mallory').split(',').slice(1));
  });

  it('malformed messages fail without throwing anything else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }), (first, final) => {
      const side = server('SCRAM-SHA-256', { alice: 'alice-secret' });
      try {
        side.evaluate(Buffer.from(first));
        side.evaluate(Buffer.from(final));
      } catch (error) {
        expect(error).toBeInstanceOf(SaslAuthenticationError);
      }
      expect(side.isComplete).toBe(false);
    }), { numRuns: 300 });
  });

  it('stores StoredKey and ServerKey as RFC 5802 defines them, never the password', () => {
    const salt = Buffer.from('0123456789abcdef');
    const credential = scramCredential('SCRAM-SHA-256', 'pencil', { salt, iterations: SCRAM_ITERATIONS_MIN });
    const salted = pbkdf2Sync('pencil', salt, 4096, 32, 'sha256');
    expect(saltedPassword('SCRAM-SHA-256', 'pencil', salt, 4096)).toEqual(salted);
    const clientKey = createHmac('sha256', salted).update('Client Key').digest();
    expect(credential.storedKey).toEqual(createHash('sha256').update(clientKey).digest());
    expect(credential.serverKey).toEqual(createHmac('sha256', salted).update('Server Key').digest());
    expect(Object.values(credential).some((value) => Buffer.isBuffer(value) && value.includes(Buffer.from('pencil')))).toBe(false);
    expect(credentialFromSaltedPassword('SCRAM-SHA-256', salted, salt, 4096)).toEqual(credential);
    expect(() => scramCredential('SCRAM-SHA-256', 'pencil', { iterations: 4095 })).toThrow(/iterations/);
  });

  it('RFC 7677 test vector: SCRAM-SHA-256 of user "user", password "pencil"', () => {
    const salt = Buffer.from('W22ZaJ0SNY7soEsUEjb6gQ==', 'base64');
    const credential = scramCredential('SCRAM-SHA-256', 'pencil', { salt, iterations: 4096 });
    const side = new ScramServerExchange({ mechanism: 'SCRAM-SHA-256', credential: () => credential, randomBytes: () => Buffer.from('%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0', 'latin1') });
    // The RFC's server nonce is not base64 of our random bytes, so rebuild the exchange around ours.
    const client = new ScramClientExchange('SCRAM-SHA-256', 'user', 'pencil', { nonce: 'rOprNGfwEbeRWgbNEkqO' });
    const serverFirst = side.evaluate(client.first());
    client.verify(side.evaluate(client.final(serverFirst)));
    expect(side.username).toBe('user');
  });
});
