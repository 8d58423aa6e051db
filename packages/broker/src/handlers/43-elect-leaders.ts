/**
 * ElectLeaders (API key 43), versions 0-2 (KIP-183, KIP-460).
 * Forwarded to the active controller in the client's version, as Kafka's brokers forward it: the
 * controller elects each partition's preferred (first) replica (electionType 0; v0 always) when it
 * is alive and in the ISR (else PREFERRED_LEADER_NOT_AVAILABLE; ELECTION_NOT_NEEDED when it leads
 * already), or any live replica of a leaderless partition (1, unclean). `topicPartitions` null
 * means every partition, and lists only those that changed or failed. The answer waits (bounded
 * by `timeoutMs`) until this broker's image shows each elected leader, as Kafka's ZooKeeper-era
 * broker waited for its metadata cache, so a client that looks next sees the new leaders. No
 * answer from the controller is REQUEST_TIMED_OUT at the top, which clients retry.
 * Needs ALTER on the CLUSTER resource when an authorizer is on (CLUSTER_AUTHORIZATION_FAILED).
 * Deviations: throttleTimeMs is 0.
 */
import { AclOperation, ApiKey, type ElectLeadersRequest, type ElectLeadersResponseInput, ErrorCode } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import { forwardToController } from '../controller-forwarding.js';
import type { Entry } from './types.js';

type TopicAnswer = Entry<ElectLeadersResponseInput['replicaElectionResults']>;

export async function handleElectLeaders(broker: Broker, apiVersion: number, body: ElectLeadersRequest, context: RequestContext = {}): Promise<ElectLeadersResponseInput> {
  const requested = body.topicPartitions ?? null;
  const failAll = (errorCode: number, errorMessage: string | null): ElectLeadersResponseInput => ({
    throttleTimeMs: 0,
    errorCode,
    replicaElectionResults: (requested ?? []).map((topic): TopicAnswer => ({ topic: topic.topic, partitionResult: topic.partitions.map((partitionId): Entry<TopicAnswer['partitionResult']> => ({ partitionId, errorCode, errorMessage })) })),
  });
  if (!isClusterAuthorized(broker, context, AclOperation.ALTER)) return failAll(ErrorCode.CLUSTER_AUTHORIZATION_FAILED, null);
  const response = await forwardToController(broker, ApiKey.ElectLeaders, apiVersion, body);
  if (response === null) return failAll(ErrorCode.REQUEST_TIMED_OUT, 'The controller did not answer');
  const elected: { topic: string; partition: number }[] = [];
  for (const topic of response.replicaElectionResults ?? []) {
    for (const result of topic.partitionResult ?? []) if (result.errorCode === ErrorCode.NONE) elected.push({ topic: topic.topic, partition: result.partitionId });
  }
  if (elected.length > 0) {
    const electionType = apiVersion === 0 ? 0 : body.electionType;
    await broker.waitForMetadata((image) => elected.every(({ topic, partition }) => {
      const registration = image.partition(topic, partition);
      if (registration === undefined) return true;
      return electionType === 0 ? registration.leader === registration.replicas[0] : registration.leader >= 0;
    }), body.timeoutMs ?? broker.config.requestTimeoutMs);
  }
  return response;
}
