/**
 * The security APIs in front of a broker's handler: DescribeUserScramCredentials and
 * AlterUserScramCredentials are answered here from the credentials, DescribeAcls, CreateAcls and
 * DeleteAcls from the ACLs (SECURITY_DISABLED without an authorizer, as Kafka). Where they live
 * is the caller's choice: a single broker's files (ScramCredentialStore, AclStore), or a backend
 * (a node of a cluster: read from its metadata image, changed through the active controller). And the broker's ApiVersions answer gains them; every other request goes to the broker
 * unchanged. With an authorizer, as Kafka: Alter on the cluster for CreateAcls, DeleteAcls and
 * AlterUserScramCredentials, Describe on the cluster for DescribeAcls and
 * DescribeUserScramCredentials, else CLUSTER_AUTHORIZATION_FAILED. Requests without a principal
 * (this process's own) are not checked. The TCP
 * server and the in-process client both call `handle`, as they call the broker's.
 *
 * Concurrency: as the broker's handle (event loop; store writes are synchronous, so two
 * AlterUserScramCredentials never interleave).
 */
import { AclOperation, ApiKey, CLUSTER_RESOURCE_NAME, ErrorCode, ResourceType, servedApiVersions } from '@gregor/protocol';
import type {
  AclOperationCode, AlterUserScramCredentialsRequest, CreateAclsRequest, DeleteAclsRequest, DescribeAclsRequest, DescribeUserScramCredentialsRequest,
} from '@gregor/protocol';
import type { AlterUserScramCredentialsResponseInput, CreateAclsResponseInput, DeleteAclsResponseInput } from '@gregor/protocol';
import type { AclBinding } from './acl.js';
import { createAcls, deleteAcls, describeAcls } from './acl-apis.js';
import { AclStore } from './acl-store.js';
import type { StandardAuthorizer } from './standard-authorizer.js';
import { alterUserScramCredentials, describeUserScramCredentials, type ScramCredentialListing } from './scram-credential-apis.js';
import { ScramCredentialStore } from './scram-credential-store.js';

/** ACLs kept elsewhere than a file (a cluster's metadata): the current bindings, and the two changes. */
export interface AclBackend {
  readonly acls: readonly AclBinding[];
  createAcls(request: CreateAclsRequest, apiVersion: number): Promise<CreateAclsResponseInput>;
  deleteAcls(request: DeleteAclsRequest, apiVersion: number): Promise<DeleteAclsResponseInput>;
}

/** SCRAM credentials kept elsewhere than a file (a cluster's metadata). */
export interface ScramCredentialBackend extends ScramCredentialListing {
  alter(request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponseInput>;
}

/** The handler shape of the broker and of the server's listeners. */
export interface SecuredHandler {
  handle(apiKey: number, apiVersion: number, body: Record<string, unknown>, context: Record<string, unknown> & object): Promise<unknown>;
  setAdvertisedListener?(host: string, port: number, listenerName: string): void;
}

/** The APIs SecurityApis answers in front of the broker. */
export const SECURITY_API_KEYS: readonly number[] = [ApiKey.DescribeAcls, ApiKey.CreateAcls, ApiKey.DeleteAcls, ApiKey.DescribeUserScramCredentials, ApiKey.AlterUserScramCredentials];

export interface SecurityApisOptions {
  scramCredentials: ScramCredentialStore | ScramCredentialBackend;
  /** The authorizer and the ACLs it decides with; absent: no authorization (ACL APIs answer SECURITY_DISABLED). */
  acls?: { store: AclStore | AclBackend; authorizer: StandardAuthorizer };
}

export class SecurityApis {
  constructor(
    private readonly inner: SecuredHandler,
    private readonly options: SecurityApisOptions,
  ) {}

  /** Whether the caller may do `operation` on the cluster (always, without an authorizer or a principal). */
  private clusterAuthorized(context: { principal?: string; clientHost?: string }, operation: AclOperationCode): boolean {
    const acls = this.options.acls;
    if (acls === undefined || context.principal === undefined) return true;
    const host = (context.clientHost ?? '').replace(/^\//, '');
    return acls.authorizer.authorize({ principal: context.principal, host, operation, resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_RESOURCE_NAME });
  }

  setAdvertisedListener(host: string, port: number, listenerName: string): void {
    this.inner.setAdvertisedListener?.(host, port, listenerName);
  }

  // biome-ignore lint/suspicious/noExplicitAny: the broker's and the server's context types differ in optional fields only.
  async handle(apiKey: number, apiVersion: number, body: Record<string, unknown>, context: any = {}): Promise<unknown> {
    const { acls } = this.options;
    const denied = ErrorCode.CLUSTER_AUTHORIZATION_FAILED;
    switch (apiKey) {
      case ApiKey.DescribeUserScramCredentials: {
        const request = body as unknown as DescribeUserScramCredentialsRequest;
        if (!this.clusterAuthorized(context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: denied, errorMessage: null, results: [] };
        return describeUserScramCredentials(this.options.scramCredentials, request);
      }
      case ApiKey.AlterUserScramCredentials: {
        const request = body as unknown as AlterUserScramCredentialsRequest;
        if (!this.clusterAuthorized(context, AclOperation.ALTER)) {
          const users = [...new Set([...request.deletions, ...request.upsertions].map((entry) => entry.name))];
          return { throttleTimeMs: 0, results: users.map((user) => ({ user, errorCode: denied, errorMessage: null })) };
        }
        const credentials = this.options.scramCredentials;
        return credentials instanceof ScramCredentialStore ? alterUserScramCredentials(credentials, request) : credentials.alter(request);
      }
      case ApiKey.DescribeAcls: {
        if (acls === undefined) return { throttleTimeMs: 0, errorCode: ErrorCode.SECURITY_DISABLED, errorMessage: 'No Authorizer is configured on the broker', resources: [] };
        if (!this.clusterAuthorized(context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: denied, errorMessage: null, resources: [] };
        return describeAcls(acls.store.acls, body as unknown as DescribeAclsRequest);
      }
      case ApiKey.CreateAcls: {
        const request = body as unknown as CreateAclsRequest;
        const refuse = (errorCode: number, errorMessage: string | null) => ({ throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage })) });
        if (acls === undefined) return refuse(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured on the broker');
        if (!this.clusterAuthorized(context, AclOperation.ALTER)) return refuse(denied, null);
        return acls.store instanceof AclStore ? createAcls(acls.store, acls.authorizer, request) : acls.store.createAcls(request, apiVersion);
      }
      case ApiKey.DeleteAcls: {
        const request = body as unknown as DeleteAclsRequest;
        const refuse = (errorCode: number, errorMessage: string | null) => ({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage, matchingAcls: [] })) });
        if (acls === undefined) return refuse(ErrorCode.SECURITY_DISABLED, 'No Authorizer is configured on the broker');
        if (!this.clusterAuthorized(context, AclOperation.ALTER)) return refuse(denied, null);
        return acls.store instanceof AclStore ? deleteAcls(acls.store, acls.authorizer, request) : acls.store.deleteAcls(request, apiVersion);
      }
      case ApiKey.ApiVersions:
        return withApiVersions(await this.inner.handle(apiKey, apiVersion, body, context), SECURITY_API_KEYS);
      default:
        return this.inner.handle(apiKey, apiVersion, body, context);
    }
  }
}

/** Adds these APIs' version ranges to an ApiVersions answer, in key order. */
function withApiVersions(result: unknown, apiKeys: readonly number[]): unknown {
  const body = result as { apiKeys?: { apiKey: number; minVersion: number; maxVersion: number }[] } | null;
  if (body === null || !Array.isArray(body.apiKeys)) return result;
  const added = servedApiVersions(apiKeys);
  const merged = [...body.apiKeys.filter((api) => !apiKeys.includes(api.apiKey)), ...added].sort((a, b) => a.apiKey - b.apiKey);
  return { ...body, apiKeys: merged };
}
