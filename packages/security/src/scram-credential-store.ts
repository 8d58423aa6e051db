/**
 * The SCRAM credentials of a single broker (Kafka keeps them as UserScramCredentialRecords in the
 * cluster metadata; Gregor's single broker keeps them in one file of its data dir), managed by
 * AlterUserScramCredentials / DescribeUserScramCredentials and read by every SCRAM exchange.
 *
 * Format of `scram-credentials.json`: UTF-8 JSON
 *   { "version": 1, "users": { "<user>": { "SCRAM-SHA-256": { "salt": "<base64>",
 *     "iterations": 4096, "storedKey": "<base64>", "serverKey": "<base64>" }, ... } } }
 * never a password nor a salted password. Each change rewrites the whole file with
 * `writeFileAtomic` (temporary file, fsync, rename) before it is visible in memory, so a crash
 * leaves the old or the new set. A file that cannot be read fails `open` with a typed error
 * rather than starting with no users.
 *
 * Not safe for concurrent use from several processes; within one process, calls run on the
 * event loop one at a time (they are synchronous).
 */
import assert from 'node:assert';
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { SecurityError } from './errors.js';
import { checkIterations, isScramMechanism, SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism } from './scram.js';

export const SCRAM_CREDENTIALS_FILE = 'scram-credentials.json';

interface StoredCredential {
  salt: string;
  iterations: number;
  storedKey: string;
  serverKey: string;
}

export class ScramCredentialStore {
  private readonly users = new Map<string, Map<ScramMechanism, ScramCredential>>();

  private constructor(private readonly fs: FileSystem, private readonly filePath: string) {}

  static open(options: { fs: FileSystem; dir: string }): ScramCredentialStore {
    const store = new ScramCredentialStore(options.fs, path.join(options.dir, SCRAM_CREDENTIALS_FILE));
    if (options.fs.exists(store.filePath)) store.load(options.fs.readFile(store.filePath));
    return store;
  }

  get(username: string, mechanism: ScramMechanism): ScramCredential | undefined {
    return this.users.get(username)?.get(mechanism);
  }

  /** Users (all, or the ones named) with their mechanisms and iteration counts, by name. */
  describe(): { user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[] {
    return [...this.users.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([user, byMechanism]) => ({ user, credentials: [...byMechanism.values()].map(({ mechanism, iterations }) => ({ mechanism, iterations })) }));
  }

  has(username: string): boolean {
    return this.users.has(username);
  }

  /** Applies deletions and upserts together, durably (one file write). */
  apply(changes: { upserts: { username: string; credential: ScramCredential }[]; deletions: { username: string; mechanism: ScramMechanism }[] }): void {
    const next = new Map([...this.users].map(([user, byMechanism]) => [user, new Map(byMechanism)]));
    for (const { username, mechanism } of changes.deletions) {
      next.get(username)?.delete(mechanism);
      if (next.get(username)?.size === 0) next.delete(username);
    }
    for (const { username, credential } of changes.upserts) {
      checkCredential(credential);
      let byMechanism = next.get(username);
      if (byMechanism === undefined) next.set(username, (byMechanism = new Map()));
      byMechanism.set(credential.mechanism, credential);
    }
    this.fs.writeFileAtomic(this.filePath, Buffer.from(JSON.stringify(serialize(next)), 'utf8'));
    this.users.clear();
    for (const [user, byMechanism] of next) this.users.set(user, byMechanism);
  }

  private load(bytes: Buffer): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(bytes.toString('utf8'));
    } catch (error) {
      throw new SecurityError('CREDENTIALS_UNREADABLE', `${this.filePath} is not JSON: ${(error as Error).message}`, { cause: error });
    }
    const file = parsed as { version?: unknown; users?: Record<string, Record<string, StoredCredential>> };
    if (file.version !== 1 || typeof file.users !== 'object' || file.users === null) throw new SecurityError('CREDENTIALS_UNREADABLE', `${this.filePath} is not a version 1 credentials file`);
    for (const [user, byMechanism] of Object.entries(file.users)) {
      const credentials = new Map<ScramMechanism, ScramCredential>();
      for (const [mechanism, stored] of Object.entries(byMechanism)) {
        if (!isScramMechanism(mechanism)) throw new SecurityError('CREDENTIALS_UNREADABLE', `${this.filePath}: unknown mechanism ${mechanism} for ${user}`);
        const credential: ScramCredential = {
          mechanism,
          salt: Buffer.from(stored.salt, 'base64'),
          iterations: stored.iterations,
          storedKey: Buffer.from(stored.storedKey, 'base64'),
          serverKey: Buffer.from(stored.serverKey, 'base64'),
        };
        try {
          checkCredential(credential);
        } catch (error) {
          throw new SecurityError('CREDENTIALS_UNREADABLE', `${this.filePath}: the ${mechanism} credential of ${user} is damaged: ${(error as Error).message}`);
        }
        credentials.set(mechanism, credential);
      }
      this.users.set(user, credentials);
    }
  }
}

function checkCredential(credential: ScramCredential): void {
  checkIterations(credential.iterations);
  const { keyBytes } = SCRAM_MECHANISMS[credential.mechanism];
  if (credential.storedKey.length !== keyBytes || credential.serverKey.length !== keyBytes) {
    throw new SecurityError('UNACCEPTABLE_CREDENTIAL', `${credential.mechanism} keys have ${keyBytes} bytes`);
  }
  if (credential.salt.length === 0) throw new SecurityError('UNACCEPTABLE_CREDENTIAL', 'the salt is empty');
}

function serialize(users: Map<string, Map<ScramMechanism, ScramCredential>>): unknown {
  const out: Record<string, Record<string, StoredCredential>> = {};
  for (const [user, byMechanism] of users) {
    assert(byMechanism.size > 0, 'a stored user has at least one credential');
    out[user] = {};
    for (const [mechanism, c] of byMechanism) {
      out[user][mechanism] = { salt: c.salt.toString('base64'), iterations: c.iterations, storedKey: c.storedKey.toString('base64'), serverKey: c.serverKey.toString('base64') };
    }
  }
  return { version: 1, users: out };
}
