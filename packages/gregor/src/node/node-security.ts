/**
 * Security on a node of a cluster: the ACLs and SCRAM credentials live in the metadata log
 * (AccessControlEntryRecords, UserScramCredentialRecords) and every broker reads them from the
 * image it applied, as Kafka's brokers do:
 *   - the SCRAM exchanges of this node's SASL listeners look credentials up in the image;
 *   - the StandardAuthorizer (when `authorizer.class.name` is set) decides with the image's ACLs,
 *     replaced whenever a committed batch changes them;
 *   - DescribeAcls and DescribeUserScramCredentials answer from the image; CreateAcls, DeleteAcls
 *     and AlterUserScramCredentials go to the active controller (which writes the records), and
 *     are answered once this node's image shows their result (bounded by `waitTimeoutMs`; then
 *     the controller's answer is given anyway, as Kafka answers without waiting), so a client
 *     that changed an ACL through a broker sees that broker decide with it at once.
 * The request-level checks (Alter / Describe on the cluster) are @gregor/security's SecurityApis,
 * the same a single broker runs in front of its files.
 *
 * Single-threaded: `publish` is the metadata loader's publisher (log order, never concurrent).
 */
import type { Clock, TimerHandle } from '@gregor/log';
import { controllerErrorResponse, MetadataImage } from '@gregor/metadata';
import {
  ApiKey, type AlterUserScramCredentialsRequest, type AlterUserScramCredentialsResponse, type AlterUserScramCredentialsResponseInput, type CreateAclsRequest, type CreateAclsResponse, type CreateAclsResponseInput,
  type DeleteAclsRequest, type DeleteAclsResponse, type DeleteAclsResponseInput, ErrorCode,
} from '@gregor/protocol';
import {
  type AclBackend, type AclBinding, type AuthorizerSettings, SCRAM_MECHANISMS, type ScramCredential, type ScramCredentialBackend, type ScramCredentialSource,
  type ScramMechanism, SecurityApis, type SecuredHandler, sameBinding, scramMechanismOfType, StandardAuthorizer,
} from '@gregor/security';
import type { Body } from '@gregor/client';

/** Requests to the active controller (the node's controller channel). */
export interface ControllerSender {
  send(apiKey: number, apiVersion: number, body: Body): Promise<Body>;
}

export interface NodeSecurityOptions {
  clock: Clock;
  controller: ControllerSender;
  /** The authorizer's settings (`super.users`, `allow.everyone.if.no.acl.found`); absent: no authorizer. */
  authorizer?: AuthorizerSettings;
  /** How long a change waits for this node's image to show it. */
  waitTimeoutMs: number;
}

export class NodeSecurity {
  /** The StandardAuthorizer over the image's ACLs; undefined without `authorizer.class.name`. */
  readonly authorizer: StandardAuthorizer | undefined;
  readonly scramCredentials: ScramCredentialSource & ScramCredentialBackend;
  readonly acls: AclBackend;
  private image: MetadataImage = MetadataImage.EMPTY;
  private bindings: readonly (AclBinding & { id: string })[] = [];
  private readonly waiters = new Set<{ check: () => void; finish: (shown: boolean) => void }>();
  private closed = false;

  constructor(private readonly options: NodeSecurityOptions) {
    this.authorizer = options.authorizer === undefined ? undefined : new StandardAuthorizer(options.authorizer);
    this.scramCredentials = {
      get: (username, mechanism) => this.credential(username, mechanism),
      describe: () => this.describeCredentials(),
      alter: (request) => this.alterCredentials(request),
    };
    const bindings = () => this.bindings;
    this.acls = {
      get acls() {
        return bindings();
      },
      createAcls: (request, apiVersion) => this.createAcls(request, apiVersion),
      deleteAcls: (request, apiVersion) => this.deleteAcls(request, apiVersion),
    };
  }

  /** The metadata loader's publisher: the image every lookup and decision uses from now on. */
  publish(image: MetadataImage): void {
    const aclsChanged = image.acls !== this.image.acls;
    this.image = image;
    if (aclsChanged) {
      this.bindings = [...image.acls.values()] as (AclBinding & { id: string })[];
      this.authorizer?.replace(this.bindings);
    }
    for (const waiter of [...this.waiters]) waiter.check();
  }

  /** The security APIs in front of the broker (ACL APIs answer SECURITY_DISABLED without an authorizer). */
  wrap(broker: SecuredHandler): SecurityApis {
    return new SecurityApis(broker, { scramCredentials: this.scramCredentials, acls: this.authorizer === undefined ? undefined : { store: this.acls, authorizer: this.authorizer } });
  }

  /** Requests waiting for the image answer now. */
  close(): void {
    this.closed = true;
    for (const waiter of [...this.waiters]) waiter.finish(false);
  }

  // ---------------------------------------------------------------- SCRAM

  private credential(username: string, mechanism: ScramMechanism): ScramCredential | undefined {
    const stored = this.image.scramCredentials.get(username)?.get(SCRAM_MECHANISMS[mechanism].type);
    if (stored === undefined) return undefined;
    return { mechanism, salt: stored.salt, iterations: stored.iterations, storedKey: stored.storedKey, serverKey: stored.serverKey };
  }

  private describeCredentials(): { user: string; credentials: { mechanism: ScramMechanism; iterations: number }[] }[] {
    return [...this.image.scramCredentials.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([user, byMechanism]) => ({
        user,
        credentials: [...byMechanism.values()].flatMap((credential) => {
          const mechanism = scramMechanismOfType(credential.mechanism);
          return mechanism === undefined ? [] : [{ mechanism, iterations: credential.iterations }];
        }),
      }));
  }

  private async alterCredentials(request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponseInput> {
    const response = (await this.forward(ApiKey.AlterUserScramCredentials, 0, request)) as AlterUserScramCredentialsResponse;
    const accepted = new Set(response.results.filter((result) => result.errorCode === ErrorCode.NONE).map((result) => result.user));
    await this.waitFor((image) =>
      request.upsertions.every(({ name, mechanism, salt, iterations }) => {
        if (!accepted.has(name)) return true;
        const stored = image.scramCredentials.get(name)?.get(mechanism);
        return stored !== undefined && stored.iterations === iterations && stored.salt.equals(Buffer.from(salt));
      }) && request.deletions.every(({ name, mechanism }) => !accepted.has(name) || image.scramCredentials.get(name)?.has(mechanism) !== true),
    );
    return response;
  }

  // ---------------------------------------------------------------- ACLs

  private async createAcls(request: CreateAclsRequest, apiVersion: number): Promise<CreateAclsResponseInput> {
    const response = (await this.forward(ApiKey.CreateAcls, apiVersion, request)) as CreateAclsResponse;
    const created = request.creations.filter((_creation, index) => response.results[index]?.errorCode === ErrorCode.NONE).map((creation): AclBinding => ({
      resourceType: creation.resourceType, resourceName: creation.resourceName, patternType: creation.resourcePatternType, principal: creation.principal,
      host: creation.host, operation: creation.operation, permissionType: creation.permissionType,
    } as AclBinding));
    await this.waitFor((image) => created.every((binding) => [...image.acls.values()].some((entry) => sameBinding(entry as AclBinding, binding))));
    return response;
  }

  private async deleteAcls(request: DeleteAclsRequest, apiVersion: number): Promise<DeleteAclsResponseInput> {
    const response = (await this.forward(ApiKey.DeleteAcls, apiVersion, request)) as DeleteAclsResponse;
    const deleted = response.filterResults.flatMap((result) => (result.errorCode === ErrorCode.NONE ? [...result.matchingAcls] : [])) as unknown as AclBinding[];
    await this.waitFor((image) => deleted.every((binding) => ![...image.acls.values()].some((entry) => sameBinding(entry as AclBinding, binding))));
    return response;
  }

  // ---------------------------------------------------------------- plumbing

  /** The controller's answer; a controller that cannot be reached is REQUEST_TIMED_OUT (retriable) for every part of the request. */
  private async forward(apiKey: 30 | 31 | 51, apiVersion: number, request: CreateAclsRequest | DeleteAclsRequest | AlterUserScramCredentialsRequest): Promise<Body> {
    try {
      return await this.options.controller.send(apiKey, apiVersion, request as Body);
    } catch {
      return controllerErrorResponse(apiKey, apiVersion, request as never, { errorCode: ErrorCode.REQUEST_TIMED_OUT, message: 'The controller did not answer' });
    }
  }

  /** Resolves once `condition` holds for this node's image (true), or after the wait bound or at close (false). */
  private waitFor(condition: (image: MetadataImage) => boolean): Promise<boolean> {
    if (condition(this.image)) return Promise.resolve(true);
    if (this.closed) return Promise.resolve(false);
    const { clock } = this.options;
    return new Promise((resolve) => {
      let timer: TimerHandle | null = null;
      const waiter = {
        check: () => {
          if (condition(this.image)) waiter.finish(true);
        },
        finish: (shown: boolean) => {
          this.waiters.delete(waiter);
          if (timer !== null) clock.clearTimeout(timer);
          resolve(shown);
        },
      };
      timer = clock.setTimeout(() => waiter.finish(false), this.options.waitTimeoutMs);
      this.waiters.add(waiter);
    });
  }
}
