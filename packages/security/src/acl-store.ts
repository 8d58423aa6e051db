/**
 * The ACLs of a single broker (Kafka keeps them as AccessControlEntryRecords in the cluster
 * metadata; Gregor's single broker keeps them in one file of its data dir), so they survive a
 * restart.
 *
 * Format of `acls.json`: UTF-8 JSON `{ "version": 1, "acls": [ { "resourceType": "TOPIC",
 * "resourceName": "orders", "patternType": "LITERAL", "principal": "User:alice", "host": "*",
 * "operation": "READ", "permissionType": "ALLOW" }, ... ] }`, Kafka's names for the codes. Every
 * change rewrites the whole file with `writeFileAtomic` before the authorizer sees it; a file that
 * cannot be read fails `open` with a typed error rather than starting with no ACLs (which, with
 * `allow.everyone.if.no.acl.found`, could open everything).
 *
 * Not safe for concurrent use from several processes; calls are synchronous, on the event loop.
 */
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { type AclBinding, aclBindingProblem, aclCode, aclNames, sameBinding } from './acl.js';
import { SecurityError } from './errors.js';

export const ACLS_FILE = 'acls.json';

export class AclStore {
  private bindings: AclBinding[] = [];

  private constructor(private readonly fs: FileSystem, private readonly filePath: string) {}

  static open(options: { fs: FileSystem; dir: string }): AclStore {
    const store = new AclStore(options.fs, path.join(options.dir, ACLS_FILE));
    if (options.fs.exists(store.filePath)) store.bindings = parse(options.fs.readFile(store.filePath), store.filePath);
    return store;
  }

  get acls(): readonly AclBinding[] {
    return this.bindings;
  }

  /** Adds bindings not already present (adding an existing one succeeds and changes nothing). */
  add(bindings: readonly AclBinding[]): void {
    const next = [...this.bindings];
    for (const binding of bindings) {
      const problem = aclBindingProblem(binding);
      if (problem !== null) throw new SecurityError('INVALID_ACL', problem);
      if (!next.some((existing) => sameBinding(existing, binding))) next.push({ ...binding });
    }
    this.write(next);
  }

  /** Removes these bindings (those present; the rest are ignored). */
  removeBindings(bindings: readonly AclBinding[]): void {
    const kept = this.bindings.filter((existing) => !bindings.some((binding) => sameBinding(existing, binding)));
    if (kept.length !== this.bindings.length) this.write(kept);
  }

  private write(next: AclBinding[]): void {
    const file = {
      version: 1,
      acls: next.map((b) => ({
        resourceType: aclNames.resourceType(b.resourceType), resourceName: b.resourceName, patternType: aclNames.patternType(b.patternType),
        principal: b.principal, host: b.host, operation: aclNames.operation(b.operation), permissionType: aclNames.permissionType(b.permissionType),
      })),
    };
    this.fs.writeFileAtomic(this.filePath, Buffer.from(JSON.stringify(file, null, 1), 'utf8'));
    this.bindings = next;
  }
}

function parse(bytes: Buffer, filePath: string): AclBinding[] {
  let file: { version?: unknown; acls?: unknown };
  try {
    file = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new SecurityError('ACLS_UNREADABLE', `${filePath} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  if (file.version !== 1 || !Array.isArray(file.acls)) throw new SecurityError('ACLS_UNREADABLE', `${filePath} is not a version 1 ACL file`);
  return file.acls.map((entry: Record<string, string>, index: number) => {
    const binding = {
      resourceType: aclCode('resourceType', String(entry.resourceType)),
      resourceName: entry.resourceName,
      patternType: aclCode('patternType', String(entry.patternType)),
      principal: entry.principal,
      host: entry.host,
      operation: aclCode('operation', String(entry.operation)),
      permissionType: aclCode('permissionType', String(entry.permissionType)),
    } as AclBinding;
    const problem = typeof binding.resourceName !== 'string' || typeof binding.principal !== 'string' || typeof binding.host !== 'string' ? 'missing fields' : aclBindingProblem(binding);
    if (problem !== null) throw new SecurityError('ACLS_UNREADABLE', `${filePath}: ACL ${index} is damaged: ${problem}`);
    return binding;
  });
}
