import { describe, expect, it } from 'vitest';
import { jaasClientCredentials, parseJaasConfig, PlainServerExchange, plainClientMessage, plainUsers, SaslAuthenticationError, SecurityConfigError } from '../src/index.js';

describe('JAAS lines and PLAIN', () => {
  it('reads Kafka\'s PlainLoginModule line with its users', () => {
    const entry = parseJaasConfig('org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="a \\"quoted\\" secret";');
    expect(entry.controlFlag).toBe('required');
    expect([...plainUsers(entry)]).toEqual([['admin', 'admin-secret'], ['alice', 'a "quoted" secret']]);
    expect(jaasClientCredentials(entry)).toEqual({ username: 'admin', password: 'admin-secret' });
  });

  it('refuses lines without a flag, a terminator or with bare options', () => {
    for (const line of ['PlainLoginModule user_a="b";', 'x.PlainLoginModule required user_a="b"', 'x.PlainLoginModule required user_a;']) {
      expect(() => parseJaasConfig(line)).toThrow(SecurityConfigError);
    }
  });

  it('PLAIN accepts the right password and fails a wrong one, an unknown user and a bad message alike', () => {
    const users = new Map([['alice', 'alice-secret']]);
    const ok = new PlainServerExchange((u) => users.get(u));
    ok.evaluate(plainClientMessage('alice', 'alice-secret'));
    expect(ok.username).toBe('alice');
    const messages = [plainClientMessage('alice', 'wrong'), plainClientMessage('bob', 'alice-secret'), Buffer.from('alice\u0000alice-secret'), Buffer.from('bob\u0000alice\u0000alice-secret')].map((token) => {
      try {
        new PlainServerExchange((u) => users.get(u)).evaluate(token);
        return 'ok';
      } catch (error) {
        expect(error).toBeInstanceOf(SaslAuthenticationError);
        return (error as Error).message;
      }
    });
    expect(new Set(messages)).toEqual(new Set(['Authentication failed: invalid credentials with SASL mechanism PLAIN']));
  });
});
