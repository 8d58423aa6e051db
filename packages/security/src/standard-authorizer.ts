/**
 * Kafka's StandardAuthorizer decision, over a set of ACL bindings:
 *
 *  1. A principal listed in `super.users` may do anything.
 *  2. The bindings that apply to the resource are those of its type whose pattern matches its
 *     name: LITERAL with the same name, LITERAL `*` (every name), PREFIXED with a prefix of it.
 *  3. Of those, a binding applies to the request when its principal is the requester's or
 *     `User:*`, its host is the requester's address or `*`, and its operation is the one asked,
 *     or ALL. An ALLOW binding also grants the operations it implies: READ, WRITE, DELETE and
 *     ALTER imply DESCRIBE; ALTER_CONFIGS implies DESCRIBE_CONFIGS (a DENY implies nothing).
 *  4. Any applying DENY refuses (deny wins); else any applying ALLOW grants.
 *  5. Nothing applies: refused if the resource has any binding at all (for anyone); if it has
 *     none, `allow.everyone.if.no.acl.found` decides (default false: refused).
 *
 * `authorizeByResourceType` answers "may the principal do this on SOME resource of the type?" as
 * Kafka's default implementation (KIP-679, used for an idempotent producer's Write on any topic):
 * allowed for a super user (or when a probe resource would be allowed), denied outright by a DENY
 * on LITERAL `*`, else allowed when some applying ALLOW pattern (LITERAL or PREFIXED) is not
 * covered by an applying DENY: a LITERAL DENY of the same name, or a PREFIXED DENY that is a prefix
 * of it. Only the operation itself or ALL counts (no implied operations), as in Kafka.
 *
 * The bindings are a plain array scanned per decision (Kafka keeps a sorted set): fine for the
 * hundreds of ACLs a test or a small deployment has. Not shared across threads; mutated only by
 * `replace` (the ACL store's owner), on the event loop.
 */
import { AclOperation, type AclOperationCode, AclPermissionType, PatternType, type ResourceTypeCode, WILDCARD_RESOURCE } from '@gregor/protocol';
import { type AclBinding, patternMatchesName, WILDCARD_HOST, WILDCARD_PRINCIPAL } from './acl.js';

export interface AuthorizerSettings {
  /** Principals allowed everything (`super.users=User:admin;User:broker`). */
  superUsers: readonly string[];
  /** What a resource without any ACL allows (`allow.everyone.if.no.acl.found`, default false). */
  allowEveryoneIfNoAclFound: boolean;
}

export interface AuthorizationRequest {
  principal: string;
  /** The client's address as text (`127.0.0.1`). */
  host: string;
  operation: AclOperationCode;
  resourceType: ResourceTypeCode;
  resourceName: string;
}

const IMPLIES_DESCRIBE: ReadonlySet<number> = new Set([AclOperation.DESCRIBE, AclOperation.READ, AclOperation.WRITE, AclOperation.DELETE, AclOperation.ALTER]);
const IMPLIES_DESCRIBE_CONFIGS: ReadonlySet<number> = new Set([AclOperation.DESCRIBE_CONFIGS, AclOperation.ALTER_CONFIGS]);

/** Parses `super.users`: principals separated by ';'. */
export function parseSuperUsers(value: string | undefined): string[] {
  return (value ?? '').split(';').map((entry) => entry.trim()).filter((entry) => entry !== '');
}

export class StandardAuthorizer {
  private bindings: readonly AclBinding[] = [];
  private readonly superUsers: ReadonlySet<string>;

  constructor(readonly settings: AuthorizerSettings, bindings: readonly AclBinding[] = []) {
    this.superUsers = new Set(settings.superUsers);
    this.replace(bindings);
  }

  /** Every binding, in the order they were added. */
  get acls(): readonly AclBinding[] {
    return this.bindings;
  }

  replace(bindings: readonly AclBinding[]): void {
    this.bindings = [...bindings];
  }

  isSuperUser(principal: string): boolean {
    return this.superUsers.has(principal);
  }

  authorize(request: AuthorizationRequest): boolean {
    if (this.superUsers.has(request.principal)) return true;
    let hasResourceAcls = false;
    let allowed = false;
    for (const binding of this.bindings) {
      if (binding.resourceType !== request.resourceType || !patternMatchesName(binding, request.resourceName)) continue;
      hasResourceAcls = true;
      const result = decision(binding, request);
      if (result === 'deny') return false;
      if (result === 'allow') allowed = true;
    }
    if (allowed) return true;
    return hasResourceAcls ? false : this.settings.allowEveryoneIfNoAclFound;
  }

  /** Whether the principal may perform `operation` on some resource of the type (see the header). */
  authorizeByResourceType(request: Omit<AuthorizationRequest, 'resourceName'>): boolean {
    if (this.authorize({ ...request, resourceName: PROBE_RESOURCE_NAME })) return true;
    const deniedLiteral = new Set<string>();
    const deniedPrefixes: string[] = [];
    const allowed: AclBinding[] = [];
    for (const binding of this.bindings) {
      if (binding.resourceType !== request.resourceType) continue;
      if (binding.principal !== request.principal && binding.principal !== WILDCARD_PRINCIPAL) continue;
      if (binding.host !== WILDCARD_HOST && binding.host !== request.host) continue;
      if (binding.operation !== request.operation && binding.operation !== AclOperation.ALL) continue;
      if (binding.permissionType === AclPermissionType.DENY) {
        if (binding.patternType === PatternType.PREFIXED) deniedPrefixes.push(binding.resourceName);
        else if (binding.resourceName === WILDCARD_RESOURCE) return false;
        else deniedLiteral.add(binding.resourceName);
      } else if (binding.permissionType === AclPermissionType.ALLOW) {
        allowed.push(binding);
      }
    }
    if (allowed.some((binding) => binding.patternType === PatternType.LITERAL && binding.resourceName === WILDCARD_RESOURCE)) return true;
    return allowed.some((binding) => {
      if (binding.patternType === PatternType.LITERAL && deniedLiteral.has(binding.resourceName)) return false;
      return !deniedPrefixes.some((prefix) => binding.resourceName.startsWith(prefix));
    });
  }
}

/** The name Kafka's default `authorizeByResourceType` probes super users with. */
const PROBE_RESOURCE_NAME = 'hardcode';

/** What one binding of the resource says about the request: allow, deny, or nothing. */
function decision(binding: AclBinding, request: AuthorizationRequest): 'allow' | 'deny' | null {
  if (binding.principal !== request.principal && binding.principal !== WILDCARD_PRINCIPAL) return null;
  if (binding.host !== WILDCARD_HOST && binding.host !== request.host) return null;
  const isAllow = binding.permissionType === AclPermissionType.ALLOW;
  if (binding.operation !== AclOperation.ALL && binding.operation !== request.operation) {
    if (!isAllow) return null;
    if (request.operation === AclOperation.DESCRIBE && IMPLIES_DESCRIBE.has(binding.operation)) return 'allow';
    if (request.operation === AclOperation.DESCRIBE_CONFIGS && IMPLIES_DESCRIBE_CONFIGS.has(binding.operation)) return 'allow';
    return null;
  }
  return isAllow ? 'allow' : 'deny';
}
