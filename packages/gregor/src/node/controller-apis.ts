/**
 * What a node's controller listener answers (Kafka's ControllerApis on the listeners of
 * `controller.listener.names`): the quorum's APIs (Vote, BeginQuorumEpoch, EndQuorumEpoch,
 * DescribeQuorum, FetchSnapshot, and Fetch of `__cluster_metadata`) go to the raft client; the
 * controller's (BrokerRegistration, BrokerHeartbeat, AlterPartition, CreateTopics, DeleteTopics,
 * CreatePartitions, AlterConfigs, IncrementalAlterConfigs, AllocateProducerIds, ElectLeaders,
 * UnregisterBroker) to the QuorumController, which answers NOT_CONTROLLER unless it is the active
 * one; ApiVersions lists exactly those. Any other API is refused as unsupported (the server then
 * closes the connection, as Kafka does for an API a listener does not serve).
 *
 * With an authorizer (`authorizer.class.name`), every request from a socket needs ClusterAction on
 * the cluster (CLUSTER_AUTHORIZATION_FAILED otherwise): only the cluster's own nodes talk to this
 * listener, as brokers forwarding what they authorized and as voters. The nodes' principal must be
 * in `super.users`: an ACL would be read from the metadata this very quorum serves, so a cold start
 * could not grant it. Requests a node makes to itself carry no principal and are not checked.
 *
 * A broker-only node has no controller listener. Requests may arrive before the node has opened
 * its raft client (peers know the address from their configuration): they wait until it has.
 */
import { CONTROLLER_API_KEYS, type ControllerApiKey, controllerErrorResponse, type QuorumController } from '@gregor/metadata';
import { AclOperation, ApiKey, CLUSTER_RESOURCE_NAME, ErrorCode, ResourceType, servedApiVersions } from '@gregor/protocol';
import type { StandardAuthorizer } from '@gregor/security';
import { QUORUM_API_KEYS, type QuorumApiKey, RaftClient } from '@gregor/cluster';
import type { Body } from '@gregor/client';
import { NodeError } from './errors.js';

export interface ControllerSide {
  raft: RaftClient;
  controller: QuorumController;
}

export class ControllerApis {
  private side: ControllerSide | null = null;
  private readonly ready: Promise<ControllerSide>;
  private resolveReady!: (side: ControllerSide) => void;
  private rejectReady!: (error: Error) => void;
  private readonly apiVersions: { apiKey: number; minVersion: number; maxVersion: number }[];

  constructor(private readonly authorizer?: StandardAuthorizer) {
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve;
      this.rejectReady = reject;
    });
    this.ready.catch(() => {});
    this.apiVersions = servedApiVersions(new Set<number>([ApiKey.ApiVersions, ...QUORUM_API_KEYS, ...CONTROLLER_API_KEYS]));
  }

  /** The raft client and controller are open: requests waiting for them go ahead. */
  attach(side: ControllerSide): void {
    this.side = side;
    this.resolveReady(side);
  }

  /** The node did not open (or closed): waiting requests fail. */
  detach(reason: Error): void {
    this.side = null;
    this.rejectReady(reason);
  }

  async handle(apiKey: number, apiVersion: number, body: Body, context?: { principal?: string; clientHost?: string }): Promise<unknown> {
    if (apiKey === ApiKey.ApiVersions) return this.apiVersionsResponse();
    const principal = context?.principal;
    if (this.authorizer !== undefined && principal !== undefined) {
      const host = (context?.clientHost ?? '').replace(/^\//, '');
      if (!this.authorizer.authorize({ principal, host, operation: AclOperation.CLUSTER_ACTION, resourceType: ResourceType.CLUSTER, resourceName: CLUSTER_RESOURCE_NAME })) {
        const message = `${principal} may not use the controller listener (it needs ClusterAction on the cluster)`;
        const error = { errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, message };
        // The controller's APIs answer in their own error fields; the quorum's carry a top-level error code the server fills in.
        if (CONTROLLER_API_KEYS.has(apiKey)) return controllerErrorResponse(apiKey as ControllerApiKey, apiVersion, body as never, error);
        throw new NodeError('CLUSTER_AUTHORIZATION_FAILED', message, { retriable: false, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED });
      }
    }
    const side = this.side ?? (await this.ready);
    if (RaftClient.handles(apiKey)) return side.raft.handle(apiKey as QuorumApiKey, apiVersion, body as never);
    if (CONTROLLER_API_KEYS.has(apiKey)) return side.controller.handle(apiKey as ControllerApiKey, apiVersion, body as never);
    throw new NodeError('UNSUPPORTED_VERSION', `API ${apiKey} is not served on the controller listener`, { retriable: false, errorCode: ErrorCode.UNSUPPORTED_VERSION });
  }

  private apiVersionsResponse(): Body {
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: this.apiVersions.map((range) => ({ ...range })),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
  }
}
