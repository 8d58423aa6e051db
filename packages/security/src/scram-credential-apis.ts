/**
 * DescribeUserScramCredentials (50) and AlterUserScramCredentials (51), v0, over the
 * ScramCredentialStore, with the checks and error codes of Kafka's ScramControlManager and
 * ControllerApis:
 *   - an empty user name, iterations outside 4096..16384, an empty salt or a salted password of the
 *     wrong length: UNACCEPTABLE_CREDENTIAL;
 *   - an unknown mechanism: UNSUPPORTED_SASL_MECHANISM;
 *   - one user and mechanism named twice in one request: DUPLICATE_RESOURCE for that user;
 *   - deleting a credential that does not exist, describing a user that has none:
 *     RESOURCE_NOT_FOUND.
 * A user's changes apply only if all of that user's changes are acceptable (one result per user);
 * the accepted ones are written in one durable file write. The salted password never leaves this
 * function: only StoredKey and ServerKey derived from it are stored.
 */
import { ErrorCode } from '@gregor/protocol';
import type {
  AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponseInput, DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponseInput,
} from '@gregor/protocol';
import { SecurityError } from './errors.js';
import { credentialFromSaltedPassword, SCRAM_MECHANISMS, type ScramCredential, type ScramMechanism, scramMechanismOfType } from './scram.js';
import type { ScramCredentialStore } from './scram-credential-store.js';

type UserResult = { user: string; errorCode: number; errorMessage: string | null };

/** Users with their mechanisms and iteration counts, by name (the credential file's, or the metadata image's). */
export interface ScramCredentialListing {
  describe(): { user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[];
}

export function describeUserScramCredentials(store: ScramCredentialListing, request: DescribeUserScramCredentialsRequest): DescribeUserScramCredentialsResponseInput {
  const all = store.describe();
  const named = request.users === null || request.users.length === 0 ? null : request.users.map((user) => user.name);
  if (named === null) {
    return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results: all.map(({ user, credentials }) => describedUser(user, credentials)) };
  }
  const counts = new Map<string, number>();
  for (const name of named) counts.set(name, (counts.get(name) ?? 0) + 1);
  const results = [...counts.keys()].map((name) => {
    if ((counts.get(name) ?? 0) > 1) return { user: name, errorCode: ErrorCode.DUPLICATE_RESOURCE, errorMessage: `Cannot describe SCRAM credentials for the same user twice in a single request: ${name}`, credentialInfos: [] };
    const found = all.find((entry) => entry.user === name);
    if (found === undefined) return { user: name, errorCode: ErrorCode.RESOURCE_NOT_FOUND, errorMessage: `Attempt to describe nonexistent user: ${name}`, credentialInfos: [] };
    return describedUser(name, found.credentials);
  });
  return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, errorMessage: null, results };
}

function describedUser(user: string, credentials: { mechanism: ScramMechanism; iterations: number }[]) {
  return {
    user, errorCode: ErrorCode.NONE, errorMessage: null,
    credentialInfos: credentials.map(({ mechanism, iterations }) => ({ mechanism: SCRAM_MECHANISMS[mechanism].type, iterations })),
  };
}

/** The changes an AlterUserScramCredentials request makes, when every change of its user is acceptable. */
export interface ScramCredentialChanges {
  upserts: { username: string; credential: ScramCredential }[];
  deletions: { username: string; mechanism: ScramMechanism }[];
}

/**
 * What AlterUserScramCredentials answers and changes, given which credentials exist now (`exists`):
 * shared by the single broker's credential file and the controller of a cluster, which writes the
 * changes as UserScramCredentialRecords and RemoveUserScramCredentialRecords.
 */
export function planAlterUserScramCredentials(
  exists: (username: string, mechanism: ScramMechanism) => boolean, request: AlterUserScramCredentialsRequest,
): { response: AlterUserScramCredentialsResponseInput; changes: ScramCredentialChanges } {
  const users: string[] = [];
  const failures = new Map<string, UserResult>();
  const seen = new Map<string, number>();
  const fail = (user: string, errorCode: number, errorMessage: string) => {
    if (!failures.has(user)) failures.set(user, { user, errorCode, errorMessage });
  };
  const note = (user: string, mechanismType: number) => {
    if (!users.includes(user)) users.push(user);
    const key = `${user}\u0000${mechanismType}`;
    seen.set(key, (seen.get(key) ?? 0) + 1);
  };
  for (const { name, mechanism } of request.deletions) note(name, mechanism);
  for (const { name, mechanism } of request.upsertions) note(name, mechanism);
  for (const [key, count] of seen) if (count > 1) fail(key.split('\u0000')[0], ErrorCode.DUPLICATE_RESOURCE, 'A user credential cannot be altered twice in the same request');

  const deletions: { username: string; mechanism: ScramMechanism }[] = [];
  for (const { name, mechanism: type } of request.deletions) {
    const mechanism = scramMechanismOfType(type);
    if (name === '') fail(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
    else if (mechanism === undefined) fail(name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
    else if (!exists(name, mechanism)) fail(name, ErrorCode.RESOURCE_NOT_FOUND, 'Attempt to delete a user credential that does not exist');
    else deletions.push({ username: name, mechanism });
  }
  const upserts: { username: string; credential: ScramCredential }[] = [];
  for (const { name, mechanism: type, iterations, salt, saltedPassword } of request.upsertions) {
    const mechanism = scramMechanismOfType(type);
    if (name === '') fail(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, 'Username must not be empty');
    else if (mechanism === undefined) fail(name, ErrorCode.UNSUPPORTED_SASL_MECHANISM, 'Unknown SCRAM mechanism');
    else {
      try {
        if (salt.length === 0) throw new SecurityError('UNACCEPTABLE_CREDENTIAL', 'Salt must not be empty');
        const credential = credentialFromSaltedPassword(mechanism, Buffer.from(saltedPassword), Buffer.from(salt), iterations);
        if (iterations < 4096 || iterations > 16384) throw new SecurityError('UNACCEPTABLE_CREDENTIAL', `Iterations must be between 4096 and 16384, got ${iterations}`);
        upserts.push({ username: name, credential });
      } catch (error) {
        fail(name, ErrorCode.UNACCEPTABLE_CREDENTIAL, (error as Error).message);
      }
    }
  }
  return {
    response: { throttleTimeMs: 0, results: users.map((user) => failures.get(user) ?? { user, errorCode: ErrorCode.NONE, errorMessage: null }) },
    changes: {
      deletions: deletions.filter(({ username }) => !failures.has(username)),
      upserts: upserts.filter(({ username }) => !failures.has(username)),
    },
  };
}

/** AlterUserScramCredentials on a single broker: the plan's changes written to the credential file in one durable write. */
export function alterUserScramCredentials(store: ScramCredentialStore, request: AlterUserScramCredentialsRequest): AlterUserScramCredentialsResponseInput {
  const { response, changes } = planAlterUserScramCredentials((name, mechanism) => store.get(name, mechanism) !== undefined, request);
  store.apply(changes);
  return response;
}
