import { MemoryFileSystem, nodeFileSystem } from '@gregor/log';
import { ErrorCode } from '@gregor/protocol';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  SCRAM_CREDENTIALS_FILE, ScramClientExchange, ScramCredentialStore, ScramServerExchange, SecurityApis, SecurityError, saltedPassword,
} from '../src/index.js';

const inner = { handle: async () => ({ errorCode: 0, apiKeys: [{ apiKey: 18, minVersion: 0, maxVersion: 3 }] }) };

function upsertion(name: string, password: string, mechanism = 1, iterations = 4096) {
  const salt = Buffer.from(`salt-of-${name}`);
  return { name, mechanism, iterations, salt, saltedPassword: saltedPassword(mechanism === 1 ? 'SCRAM-SHA-256' : 'SCRAM-SHA-512', password, salt, iterations) };
}

function authenticates(store: ScramCredentialStore, user: string, password: string): boolean {
  const server = new ScramServerExchange({ mechanism: 'SCRAM-SHA-256', credential: (name) => store.get(name, 'SCRAM-SHA-256') });
  const client = new ScramClientExchange('SCRAM-SHA-256', user, password);
  try {
    client.verify(server.evaluate(client.final(server.evaluate(client.first()))));
    return true;
  } catch {
    return false;
  }
}

for (const backend of ['memory', 'disk'] as const) {
  describe(`SCRAM credentials through AlterUserScramCredentials / DescribeUserScramCredentials (${backend})`, () => {
    const open = () => {
      if (backend === 'memory') {
        const fs = new MemoryFileSystem();
        fs.mkdir('/data');
        return { fs, dir: '/data', done: () => {} };
      }
      const dir = mkdtempSync(path.join(tmpdir(), 'gregor-scram-'));
      return { fs: nodeFileSystem, dir, done: () => rmSync(dir, { recursive: true, force: true }) };
    };

    it('stores upserted credentials durably, describes them without secrets, deletes them, and they authenticate', async () => {
      const { fs, dir, done } = open();
      try {
        const store = ScramCredentialStore.open({ fs, dir });
        const apis = new SecurityApis(inner, { scramCredentials: store });
        const altered = await apis.handle(51, 0, { deletions: [], upsertions: [upsertion('alice', 'alice-secret'), upsertion('alice', 'alice-512', 2, 8192), upsertion('bob', 'bob-secret')] });
        expect(altered).toEqual({ throttleTimeMs: 0, results: [{ user: 'alice', errorCode: 0, errorMessage: null }, { user: 'bob', errorCode: 0, errorMessage: null }] });
        const reopened = ScramCredentialStore.open({ fs, dir });
        expect(authenticates(reopened, 'alice', 'alice-secret')).toBe(true);
        expect(authenticates(reopened, 'alice', 'bob-secret')).toBe(false);
        const file = fs.readFile(path.join(dir, SCRAM_CREDENTIALS_FILE)).toString();
        expect(file).not.toContain('secret');
        const described = await new SecurityApis(inner, { scramCredentials: reopened }).handle(50, 0, { users: null });
        expect(described).toMatchObject({ errorCode: 0, results: [
          { user: 'alice', errorCode: 0, credentialInfos: [{ mechanism: 1, iterations: 4096 }, { mechanism: 2, iterations: 8192 }] },
          { user: 'bob', errorCode: 0, credentialInfos: [{ mechanism: 1, iterations: 4096 }] },
        ] });
        await apis.handle(51, 0, { deletions: [{ name: 'bob', mechanism: 1 }], upsertions: [] });
        expect(await apis.handle(50, 0, { users: [{ name: 'bob' }, { name: 'alice' }] })).toMatchObject({ results: [
          { user: 'bob', errorCode: ErrorCode.RESOURCE_NOT_FOUND, credentialInfos: [] },
          { user: 'alice', errorCode: 0 },
        ] });
        expect(authenticates(ScramCredentialStore.open({ fs, dir }), 'bob', 'bob-secret')).toBe(false);
      } finally {
        done();
      }
    });

    it("refuses what Kafka refuses, per user, leaving that user's credentials as they were", async () => {
      const { fs, dir, done } = open();
      try {
        const store = ScramCredentialStore.open({ fs, dir });
        const apis = new SecurityApis(inner, { scramCredentials: store });
        await apis.handle(51, 0, { deletions: [], upsertions: [upsertion('carol', 'carol-secret')] });
        const answer = (await apis.handle(51, 0, {
          deletions: [{ name: 'nobody', mechanism: 1 }, { name: 'dave', mechanism: 1 }],
          upsertions: [
            upsertion('carol', 'new', 1, 1000), upsertion('erin', 'x', 3), { ...upsertion('frank', 'x'), saltedPassword: Buffer.alloc(5) },
            upsertion('dave', 'x'), upsertion('', 'x'), upsertion('grace', 'grace-secret'),
          ],
        })) as { results: { user: string; errorCode: number }[] };
        expect(Object.fromEntries(answer.results.map((r) => [r.user, r.errorCode]))).toEqual({
          nobody: ErrorCode.RESOURCE_NOT_FOUND, dave: ErrorCode.DUPLICATE_RESOURCE, carol: ErrorCode.UNACCEPTABLE_CREDENTIAL,
          erin: ErrorCode.UNSUPPORTED_SASL_MECHANISM, frank: ErrorCode.UNACCEPTABLE_CREDENTIAL, '': ErrorCode.UNACCEPTABLE_CREDENTIAL, grace: ErrorCode.NONE,
        });
        expect(authenticates(store, 'carol', 'carol-secret')).toBe(true);
        expect(authenticates(store, 'grace', 'grace-secret')).toBe(true);
        expect(store.has('dave')).toBe(false);
      } finally {
        done();
      }
    });
  });
}

describe('the credentials file', () => {
  it('a damaged file fails open with a typed error instead of starting with no users', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gregor-scram-'));
    try {
      for (const content of ['{not json', '{"version":2,"users":{}}', '{"version":1,"users":{"a":{"SCRAM-SHA-256":{"salt":"AA==","iterations":10,"storedKey":"","serverKey":""}}}}']) {
        writeFileSync(path.join(dir, SCRAM_CREDENTIALS_FILE), content);
        expect(() => ScramCredentialStore.open({ fs: nodeFileSystem, dir })).toThrow(SecurityError);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('ApiVersions through SecurityApis lists the ACL and SCRAM credential APIs', async () => {
    const fs = new MemoryFileSystem();
    fs.mkdir('/d');
    const answer = (await new SecurityApis(inner, { scramCredentials: ScramCredentialStore.open({ fs, dir: '/d' }) }).handle(18, 3, {})) as { apiKeys: { apiKey: number }[] };
    expect(answer.apiKeys.map((api) => api.apiKey)).toEqual([18, 29, 30, 31, 50, 51]);
  });
});
