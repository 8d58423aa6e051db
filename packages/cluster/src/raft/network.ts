/**
 * How the quorum reaches its peers: one method, injected. The real implementation (Kafka's
 * protocol over TCP, from the client's TcpTransport) is wired by the broker; `SimNetwork` (sim/)
 * is the simulated one. Bodies are `@gregor/protocol`'s decoded request and response bodies.
 */
import type { RequestInput, ResponseBody } from '@gregor/protocol';

/** The API keys the quorum sends and answers: Fetch (of `__cluster_metadata`), Vote, BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot. */
export type QuorumApiKey = 1 | 52 | 53 | 54 | 55 | 59;

export const QUORUM_API_KEYS: ReadonlySet<number> = new Set<QuorumApiKey>([1, 52, 53, 54, 55, 59]);

/**
 * The versions this quorum sends (it answers every version `@gregor/protocol` describes). Between
 * Gregor nodes no negotiation is needed; a transport speaking to other implementations would pick
 * with ApiVersions.
 */
export const QUORUM_REQUEST_VERSIONS = Object.freeze({ fetch: 13, vote: 2, beginQuorumEpoch: 1, endQuorumEpoch: 1, describeQuorum: 2, fetchSnapshot: 1 });

export interface QuorumNetwork {
  /**
   * Sends one request to node `destinationId` and resolves with its response body. Rejects with a
   * retriable error (`PeerUnreachableError`) when the peer cannot be reached or does not answer
   * within its request timeout. Must not call back synchronously (the response arrives in a later
   * task or microtask), and requests to one destination are delivered in the order sent.
   */
  send<K extends QuorumApiKey>(destinationId: number, apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<ResponseBody<K>>;
}
