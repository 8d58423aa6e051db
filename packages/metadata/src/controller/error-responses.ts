/**
 * The response each controller API gives when the whole request fails (NOT_CONTROLLER, a stale
 * broker epoch, an unknown election type): the error goes where that API carries it, at the top
 * or on every topic, resource or partition the request named, as Kafka's ControllerApis answers.
 * Pure.
 */
import type {
  AllocateProducerIdsRequest, AllocateProducerIdsResponse, AlterConfigsRequest, AlterConfigsResponse, AlterPartitionRequest, AlterPartitionResponse,
  BrokerHeartbeatRequest, BrokerHeartbeatResponse, BrokerRegistrationRequest, BrokerRegistrationResponse, CreatePartitionsRequest,
  CreatePartitionsResponse, CreateTopicsRequest, CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, ElectLeadersRequest,
  ElectLeadersResponse, AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse, ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse,
  IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse, UnregisterBrokerRequest, UnregisterBrokerResponse, CreateAclsRequest, CreateAclsResponse,
  DeleteAclsRequest, DeleteAclsResponse, AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
} from '@gregor/protocol';
import type { ApiError } from './interfaces.js';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** Per API key: the request and the response when all of it failed with one error. */
export interface ControllerErrorResponses {
  19: (version: number, request: CreateTopicsRequest, error: ApiError) => CreateTopicsResponse;
  20: (version: number, request: DeleteTopicsRequest, error: ApiError) => DeleteTopicsResponse;
  30: (version: number, request: CreateAclsRequest, error: ApiError) => CreateAclsResponse;
  31: (version: number, request: DeleteAclsRequest, error: ApiError) => DeleteAclsResponse;
  33: (version: number, request: AlterConfigsRequest, error: ApiError) => AlterConfigsResponse;
  37: (version: number, request: CreatePartitionsRequest, error: ApiError) => CreatePartitionsResponse;
  43: (version: number, request: ElectLeadersRequest, error: ApiError) => ElectLeadersResponse;
  44: (version: number, request: IncrementalAlterConfigsRequest, error: ApiError) => IncrementalAlterConfigsResponse;
  45: (version: number, request: AlterPartitionReassignmentsRequest, error: ApiError) => AlterPartitionReassignmentsResponse;
  46: (version: number, request: ListPartitionReassignmentsRequest, error: ApiError) => ListPartitionReassignmentsResponse;
  56: (version: number, request: AlterPartitionRequest, error: ApiError) => AlterPartitionResponse;
  62: (version: number, request: BrokerRegistrationRequest, error: ApiError) => BrokerRegistrationResponse;
  63: (version: number, request: BrokerHeartbeatRequest, error: ApiError) => BrokerHeartbeatResponse;
  64: (version: number, request: UnregisterBrokerRequest, error: ApiError) => UnregisterBrokerResponse;
  51: (version: number, request: AlterUserScramCredentialsRequest, error: ApiError) => AlterUserScramCredentialsResponse;
  67: (version: number, request: AllocateProducerIdsRequest, error: ApiError) => AllocateProducerIdsResponse;
}

const responses: ControllerErrorResponses = {
  19: (_version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    topics: request.topics.map((topic) => ({
      name: topic.name, topicId: ZERO_UUID, errorCode, errorMessage: message, topicConfigErrorCode: 0, numPartitions: -1, replicationFactor: -1, configs: null,
    })),
  }),
  20: (version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    responses: (version >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }))).map((topic) => ({
      name: topic.name, topicId: topic.topicId, errorCode, errorMessage: message,
    })),
  }),
  30: (_version, request, { errorCode, message }) => ({ throttleTimeMs: 0, results: request.creations.map(() => ({ errorCode, errorMessage: message })) }),
  31: (_version, request, { errorCode, message }) => ({ throttleTimeMs: 0, filterResults: request.filters.map(() => ({ errorCode, errorMessage: message, matchingAcls: [] })) }),
  // One result per user named, as Kafka's ControllerApis answers a whole-request error.
  51: (_version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    results: [...new Set([...request.deletions, ...request.upsertions].map((entry) => entry.name))].map((user) => ({ user, errorCode, errorMessage: message })),
  }),
  33: (_version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    responses: request.resources.map((resource) => ({ errorCode, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName })),
  }),
  37: (_version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    results: request.topics.map((topic) => ({ name: topic.name, errorCode, errorMessage: message })),
  }),
  43: (_version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    // v0 has no top-level error code: the error is on every partition named.
    errorCode,
    replicaElectionResults: (request.topicPartitions ?? []).map((topic) => ({
      topic: topic.topic,
      partitionResult: topic.partitions.map((partitionId) => ({ partitionId, errorCode, errorMessage: message })),
    })),
  }),
  44: (_version, request, { errorCode, message }) => ({
    throttleTimeMs: 0,
    responses: request.resources.map((resource) => ({ errorCode, errorMessage: message, resourceType: resource.resourceType, resourceName: resource.resourceName })),
  }),
  // Kafka's ControllerApis puts a whole-request error at the top of both reassignment responses.
  45: (version, request, { errorCode, message }) => ({
    throttleTimeMs: 0, allowReplicationFactorChange: version < 1 || request.allowReplicationFactorChange, errorCode, errorMessage: message, responses: [],
  }),
  46: (_version, _request, { errorCode, message }) => ({ throttleTimeMs: 0, errorCode, errorMessage: message, topics: [] }),
  56: (_version, _request, { errorCode }) => ({ throttleTimeMs: 0, errorCode, topics: [] }),
  62: (_version, _request, { errorCode }) => ({ throttleTimeMs: 0, errorCode, brokerEpoch: -1 }),
  63: (_version, _request, { errorCode }) => ({ throttleTimeMs: 0, errorCode, isCaughtUp: false, isFenced: true, shouldShutDown: false }),
  64: (_version, _request, { errorCode, message }) => ({ throttleTimeMs: 0, errorCode, errorMessage: message }),
  67: (_version, _request, { errorCode }) => ({ throttleTimeMs: 0, errorCode, producerIdStart: -1, producerIdLen: 0 }),
};

export function errorResponse<K extends keyof ControllerErrorResponses>(
  apiKey: K,
  version: number,
  request: Parameters<ControllerErrorResponses[K]>[1],
  error: ApiError,
): ReturnType<ControllerErrorResponses[K]> {
  const build = responses[apiKey] as (version: number, request: unknown, error: ApiError) => ReturnType<ControllerErrorResponses[K]>;
  return build(version, request, error);
}
