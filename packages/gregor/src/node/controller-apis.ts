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
 * A broker-only node has no controller listener. Requests may arrive before the node has opened
 * its raft client (peers know the address from their configuration): they wait until it has.
 */
import { CONTROLLER_API_KEYS, type ControllerApiKey, type QuorumController } from '@gregor/metadata';
import { ApiKey, ErrorCode, servedApiVersions } from '@gregor/protocol';
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

  constructor() {
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

  async handle(apiKey: number, apiVersion: number, body: Body, _context?: unknown): Promise<unknown> {
    if (apiKey === ApiKey.ApiVersions) return this.apiVersionsResponse();
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
