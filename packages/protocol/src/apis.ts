/**
 * The registry of described APIs: which versions we serve, which are flexible, which header
 * version each (api, version) uses, and the cached codec of each (api, version, direction).
 * Codecs are built on first use and kept for the life of the process.
 */
import { compileStruct, type StructCodec } from './compile.js';
import { UnsupportedVersionError } from './errors.js';
import { CreatePartitions, CreateTopics, DeleteTopics, DescribeCluster, DescribeConfigs } from './messages/admin.js';
import { AlterClientQuotas, AlterConfigs, DescribeClientQuotas, IncrementalAlterConfigs } from './messages/configs.js';
import { AllocateProducerIds, AlterPartition, BrokerHeartbeat, BrokerRegistration, ElectLeaders, UnregisterBroker } from './messages/controller.js';
import { ApiVersions, DeleteRecords, Fetch, ListOffsets, Metadata, OffsetForLeaderEpoch, Produce } from './messages/core.js';
import { DeleteGroups, OffsetDelete } from './messages/group-admin.js';
import {
  DescribeGroups,
  FindCoordinator,
  Heartbeat,
  InitProducerId,
  JoinGroup,
  LeaveGroup,
  ListGroups,
  OffsetCommit,
  OffsetFetch,
  SyncGroup,
} from './messages/groups.js';
import { DescribeLogDirs } from './messages/log-dirs.js';
import {
  AlterUserScramCredentials, CreateAcls, DeleteAcls, DescribeAcls, DescribeUserScramCredentials, SaslAuthenticate, SaslHandshake,
} from './messages/security.js';
import { BeginQuorumEpoch, DescribeQuorum, EndQuorumEpoch, FetchSnapshot, Vote } from './messages/quorum.js';
import { AlterPartitionReassignments, ListPartitionReassignments } from './messages/reassignments.js';
import { type Body, type BodyInput, inVersions, type MessageSpec } from './spec.js';

/** Every described API, by key. The broker's ApiVersions answer comes from this. */
export const apiSpecs = {
  0: Produce,
  1: Fetch,
  2: ListOffsets,
  3: Metadata,
  8: OffsetCommit,
  9: OffsetFetch,
  10: FindCoordinator,
  11: JoinGroup,
  12: Heartbeat,
  13: LeaveGroup,
  14: SyncGroup,
  15: DescribeGroups,
  16: ListGroups,
  17: SaslHandshake,
  18: ApiVersions,
  19: CreateTopics,
  20: DeleteTopics,
  21: DeleteRecords,
  22: InitProducerId,
  23: OffsetForLeaderEpoch,
  29: DescribeAcls,
  30: CreateAcls,
  31: DeleteAcls,
  32: DescribeConfigs,
  33: AlterConfigs,
  35: DescribeLogDirs,
  36: SaslAuthenticate,
  37: CreatePartitions,
  42: DeleteGroups,
  43: ElectLeaders,
  44: IncrementalAlterConfigs,
  45: AlterPartitionReassignments,
  46: ListPartitionReassignments,
  47: OffsetDelete,
  48: DescribeClientQuotas,
  49: AlterClientQuotas,
  50: DescribeUserScramCredentials,
  51: AlterUserScramCredentials,
  52: Vote,
  53: BeginQuorumEpoch,
  54: EndQuorumEpoch,
  55: DescribeQuorum,
  56: AlterPartition,
  59: FetchSnapshot,
  60: DescribeCluster,
  62: BrokerRegistration,
  63: BrokerHeartbeat,
  64: UnregisterBroker,
  67: AllocateProducerIds,
} as const;

/**
 * Described but not advertised by default: SaslHandshake and SaslAuthenticate (the server's
 * authentication stage answers them and adds them to ApiVersions on its listeners), the controller quorum's APIs (Vote,
 * BeginQuorumEpoch, EndQuorumEpoch, DescribeQuorum, FetchSnapshot), which Kafka serves on the
 * controller listener only, never to clients, and the APIs brokers send to the active controller
 * (AlterPartition, BrokerRegistration, BrokerHeartbeat, UnregisterBroker, AllocateProducerIds),
 * which the broker does not answer for clients. ElectLeaders is advertised: admin clients send it
 * to a broker, which forwards it to the controller.
 */
const NOT_ADVERTISED_BY_DEFAULT = new Set([17, 36, 52, 53, 54, 55, 56, 59, 62, 63, 64, 67]);

export type Specs = typeof apiSpecs;
export type DescribedApiKey = keyof Specs & number;
/** Decoded request body of an API (every field of every served version; absent ones defaulted). */
export type RequestBody<K extends DescribedApiKey> = Body<Specs[K]['request']>;
export type ResponseBody<K extends DescribedApiKey> = Body<Specs[K]['response']>;
/** What the encoders accept: any field may be left out and is written as its default. */
export type RequestInput<K extends DescribedApiKey> = BodyInput<RequestBody<K>>;
export type ResponseInput<K extends DescribedApiKey> = BodyInput<ResponseBody<K>>;

const specByKey = new Map<number, MessageSpec>(Object.values(apiSpecs).map((spec) => [spec.apiKey, spec as MessageSpec]));

export function specFor(apiKey: number): MessageSpec | undefined {
  return specByKey.get(apiKey);
}

export function allSpecs(): MessageSpec[] {
  return [...specByKey.values()].sort((a, b) => a.apiKey - b.apiKey);
}

export interface ApiVersionRange {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/**
 * `[{ apiKey, minVersion, maxVersion }]` ascending by key: by default every described API except
 * SASL, the quorum's and the controller's; with `apiKeys`, exactly those that are described (a
 * broker passes the keys it has handlers for, so it never advertises an API it cannot answer).
 */
export function servedApiVersions(apiKeys?: Iterable<number>): ApiVersionRange[] {
  const wanted = apiKeys === undefined ? null : new Set(apiKeys);
  return allSpecs()
    .filter((spec) => (wanted === null ? !NOT_ADVERTISED_BY_DEFAULT.has(spec.apiKey) : wanted.has(spec.apiKey)))
    .map(({ apiKey, minVersion, maxVersion }) => ({ apiKey, minVersion, maxVersion }));
}

export function isVersionServed(apiKey: number, apiVersion: number): boolean {
  const spec = specByKey.get(apiKey);
  return spec !== undefined && apiVersion >= spec.minVersion && apiVersion <= spec.maxVersion;
}

export function isFlexible(apiKey: number, apiVersion: number): boolean {
  const spec = specByKey.get(apiKey);
  return spec !== undefined && spec.flexibleFrom !== null && apiVersion >= spec.flexibleFrom;
}

/** Request header v1 (classic) or v2 (flexible: + tagged fields). ControlledShutdown v0's header v0 is not served. */
export function requestHeaderVersion(apiKey: number, apiVersion: number): 1 | 2 {
  return isFlexible(apiKey, apiVersion) ? 2 : 1;
}

/**
 * Response header v0 (correlation id) or v1 (+ tagged fields). ApiVersions responses always use
 * v0 so that a client can read the answer before it knows which versions the broker speaks.
 */
export function responseHeaderVersion(apiKey: number, apiVersion: number): 0 | 1 {
  if (apiKey === 18) return 0;
  return isFlexible(apiKey, apiVersion) ? 1 : 0;
}

const codecs = new Map<number, StructCodec>();

/** The cached codec of one (api, version, direction); throws UnsupportedVersionError if not served. */
export function codecFor(apiKey: number, apiVersion: number, direction: 'request' | 'response'): StructCodec {
  const cacheKey = (apiKey * 0x10000 + apiVersion) * 2 + (direction === 'request' ? 0 : 1);
  let codec = codecs.get(cacheKey);
  if (codec) return codec;
  const spec = specByKey.get(apiKey);
  if (!spec || apiVersion < spec.minVersion || apiVersion > spec.maxVersion) throw new UnsupportedVersionError(apiKey, apiVersion);
  const flexible = spec.flexibleFrom !== null && apiVersion >= spec.flexibleFrom;
  codec = compileStruct(direction === 'request' ? spec.request : spec.response, apiVersion, flexible);
  codecs.set(cacheKey, codec);
  return codec;
}

/**
 * Whether a top-level field exists in one (api, version, direction): e.g. whether a response can
 * carry a top-level `errorCode`, so a server can answer a failed request with it or else close.
 */
export function hasField(apiKey: number, apiVersion: number, direction: 'request' | 'response', name: string): boolean {
  const spec = specByKey.get(apiKey);
  if (!spec || apiVersion < spec.minVersion || apiVersion > spec.maxVersion) return false;
  const field = (direction === 'request' ? spec.request : spec.response).find((candidate) => candidate.name === name);
  return field !== undefined && inVersions(field.versions, apiVersion);
}
