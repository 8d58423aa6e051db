/**
 * The broker's two ways out to the rest of a cluster, injected by whoever wires the node (TCP in
 * `gregor`, the simulated network in the simulation, direct calls in tests):
 *   - ControllerChannel: requests to the active controller, wherever it is (Kafka's
 *     NodeToControllerChannelManager): BrokerRegistration, BrokerHeartbeat, AlterPartition,
 *     AllocateProducerIds, and the forwarded CreateTopics / DeleteTopics / CreatePartitions / reassignments /
 *     config changes.
 *   - BrokerNetwork: requests to another broker by id (replica fetchers: Fetch, OffsetForLeaderEpoch,
 *     ListOffsets), Kafka's inter-broker listener.
 * Bodies are `@gregor/protocol`'s decoded objects for (apiKey, apiVersion), as `Broker.handle`
 * takes and returns them. An implementation rejects with a retriable error (ClusterChannelError
 * or any error: the broker treats every rejection as "no answer, try again later") when no answer
 * comes in time; it never resolves with a made-up body.
 */
import type { Body } from './context.js';
import { BrokerError } from './errors.js';

export interface ControllerChannel {
  send(apiKey: number, apiVersion: number, body: Body): Promise<Body>;
}

export interface BrokerNetwork {
  send(brokerId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body>;
  /**
   * The caller is done with a response `send` returned, buffers included: the network may reuse
   * their memory for a later response. Optional; a network without it lets them be collected.
   */
  release?(response: Body): void;
}

/** No answer from the controller or from another broker (down, unreachable, timed out). */
export class ClusterChannelError extends BrokerError {
  constructor(code: 'CONTROLLER_UNREACHABLE' | 'BROKER_UNREACHABLE', message: string) {
    // Kafka's NETWORK_EXCEPTION (13), retriable, is what a client sees for a request that got no answer.
    super(code, message, 13);
    this.name = 'ClusterChannelError';
  }
}
