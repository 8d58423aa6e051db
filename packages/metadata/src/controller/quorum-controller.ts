/**
 * The controller's state machine (Kafka's QuorumController). It runs on every controller node and
 * is active only on the leader of the metadata quorum.
 *
 * State. `committedImage` is the metadata image of every committed record, fed in log order by
 * `handleCommit` and `handleLoadSnapshot`. While active, the controller also keeps the image with
 * its own appended but not yet committed records applied on top, and decides every request from
 * that one, so the next request sees what the previous one wrote. It writes through a
 * ControllerLog (one atomic batch per request, offsets known at append) and answers a request
 * only once its batch is committed; a request that writes nothing is answered once everything
 * appended before it is committed, so no answer reflects state that could still be lost.
 *
 * Leadership. `handleLeaderChange` naming this node makes it active (the quorum calls it only
 * once the committed image holds everything up to the new epoch's start). Any other leader, or a
 * failed append, renounces: the speculative image is dropped (back to the committed one) and
 * every request waiting for a commit is answered NOT_CONTROLLER (retriable), since its records
 * may or may not survive. A new cluster's first active controller writes the bootstrap record
 * (FeatureLevel metadata.version), as KRaft does.
 *
 * Concurrency. Everything happens on one queue, one event at a time, in arrival order: requests,
 * committed batches, snapshot loads, leader changes and timer firings (session expiry, leader
 * balance, unclean elections). An event never waits inside the queue; an event that arrives while
 * another runs (say, a commit the log delivers from inside `append`) runs after it. Clock and
 * randomness are injected, so a seeded simulation replays exactly.
 */
import assert from 'node:assert/strict';
import {
  type AllocateProducerIdsRequest, type AllocateProducerIdsResponse, type AlterConfigsRequest, type AlterUserScramCredentialsRequest,
  type AlterUserScramCredentialsResponse, type CreateAclsRequest, type CreateAclsResponse, type DeleteAclsRequest, type DeleteAclsResponse, type AlterConfigsResponse, type AlterPartitionRequest,
  type AlterPartitionReassignmentsRequest, type AlterPartitionReassignmentsResponse, type AlterPartitionResponse, ApiKey, type BrokerHeartbeatRequest, type BrokerHeartbeatResponse, type BrokerRegistrationRequest,
  type BrokerRegistrationResponse, type CreatePartitionsRequest, type CreatePartitionsResponse, type CreateTopicsRequest, type CreateTopicsResponse,
  type DeleteTopicsRequest, type DeleteTopicsResponse, type ElectLeadersRequest, type ElectLeadersResponse,
  type IncrementalAlterConfigsRequest, type IncrementalAlterConfigsResponse, type ListPartitionReassignmentsRequest, type ListPartitionReassignmentsResponse,
  type UnregisterBrokerRequest, type UnregisterBrokerResponse,
} from '@gregor/protocol';
import { MetadataDelta } from '../delta.js';
import { MetadataImage } from '../image.js';
import { decodeMetadataRecord, encodeMetadataRecord, type MetadataRecordInput } from '../records.js';
import { BrokerHeartbeats } from './broker-heartbeats.js';
import {
  allocateProducerIds, brokerHeartbeat, fenceStaleBroker, METADATA_VERSION_FEATURE, METADATA_VERSION_LEVEL, registerBroker, unregisterBroker,
} from './cluster-control.js';
import { type ControllerConfig, controllerConfig } from './config.js';
import { alterConfigs, incrementalAlterConfigs } from './config-control.js';
import { type ControlContext, type ControllerResult, ELIGIBLE_LEADER_REPLICAS_FEATURE } from './context.js';
import { type ControllerErrorResponses, errorResponse } from './error-responses.js';
import { ControllerError } from './errors.js';
import type { ApiError, CommittedBatch, ConfigValidator, ControllerClock, ControllerLog, LeaderAndEpoch, Random, TimerHandle } from './interfaces.js';
import { alterPartition, balancePartitionLeaders, electLeaders, electUncleanLeaders } from './replication-control.js';
import { alterPartitionReassignments, listPartitionReassignments } from './reassignment-control.js';
import { alterUserScramCredentials, createAcls, deleteAcls } from './security-control.js';
import { createPartitions, createTopics, deleteTopics } from './topic-control.js';

/** The APIs the controller answers, with their request and response bodies. */
export interface ControllerApis {
  [ApiKey.CreateTopics]: [CreateTopicsRequest, CreateTopicsResponse];
  [ApiKey.DeleteTopics]: [DeleteTopicsRequest, DeleteTopicsResponse];
  [ApiKey.AlterConfigs]: [AlterConfigsRequest, AlterConfigsResponse];
  [ApiKey.CreatePartitions]: [CreatePartitionsRequest, CreatePartitionsResponse];
  [ApiKey.ElectLeaders]: [ElectLeadersRequest, ElectLeadersResponse];
  [ApiKey.IncrementalAlterConfigs]: [IncrementalAlterConfigsRequest, IncrementalAlterConfigsResponse];
  [ApiKey.AlterPartition]: [AlterPartitionRequest, AlterPartitionResponse];
  [ApiKey.BrokerRegistration]: [BrokerRegistrationRequest, BrokerRegistrationResponse];
  [ApiKey.BrokerHeartbeat]: [BrokerHeartbeatRequest, BrokerHeartbeatResponse];
  [ApiKey.UnregisterBroker]: [UnregisterBrokerRequest, UnregisterBrokerResponse];
  [ApiKey.AllocateProducerIds]: [AllocateProducerIdsRequest, AllocateProducerIdsResponse];
  [ApiKey.AlterPartitionReassignments]: [AlterPartitionReassignmentsRequest, AlterPartitionReassignmentsResponse];
  [ApiKey.ListPartitionReassignments]: [ListPartitionReassignmentsRequest, ListPartitionReassignmentsResponse];
  [ApiKey.CreateAcls]: [CreateAclsRequest, CreateAclsResponse];
  [ApiKey.DeleteAcls]: [DeleteAclsRequest, DeleteAclsResponse];
  [ApiKey.AlterUserScramCredentials]: [AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse];
}
export type ControllerApiKey = keyof ControllerApis;
export type ControllerRequest<K extends ControllerApiKey> = ControllerApis[K][0];
export type ControllerResponse<K extends ControllerApiKey> = ControllerApis[K][1];

/** The API keys `handle` accepts. */
export const CONTROLLER_API_KEYS: ReadonlySet<number> = new Set<number>([
  ApiKey.CreateTopics, ApiKey.DeleteTopics, ApiKey.AlterConfigs, ApiKey.CreatePartitions, ApiKey.ElectLeaders, ApiKey.IncrementalAlterConfigs,
  ApiKey.AlterPartition, ApiKey.BrokerRegistration, ApiKey.BrokerHeartbeat, ApiKey.UnregisterBroker, ApiKey.AllocateProducerIds,
  ApiKey.AlterPartitionReassignments, ApiKey.ListPartitionReassignments, ApiKey.CreateAcls, ApiKey.DeleteAcls, ApiKey.AlterUserScramCredentials,
]);

/** Requests from users (not from brokers): their batches are bounded by maxRecordsPerUserOp (POLICY_VIOLATION beyond). */
const USER_OPERATIONS: ReadonlySet<number> = new Set<number>([
  ApiKey.CreateTopics, ApiKey.DeleteTopics, ApiKey.AlterConfigs, ApiKey.CreatePartitions, ApiKey.ElectLeaders, ApiKey.IncrementalAlterConfigs,
  ApiKey.UnregisterBroker, ApiKey.AlterPartitionReassignments, ApiKey.CreateAcls, ApiKey.DeleteAcls, ApiKey.AlterUserScramCredentials,
]);

export interface QuorumControllerOptions {
  config: Partial<ControllerConfig> & Pick<ControllerConfig, 'nodeId' | 'clusterId'>;
  log: ControllerLog;
  clock: ControllerClock;
  random: Random;
  configValidator: ConfigValidator;
  /**
   * Records a new cluster starts with, after its metadata.version (Kafka's BootstrapMetadata
   * records): written by the first controller ever active, in the same batch as the
   * metadata.version record, and never again (a cluster whose log has a metadata.version is not
   * new). A node adopting a data dir from before the metadata log passes its topics here.
   */
  bootstrapRecords?: readonly MetadataRecordInput[];
}

/** A generated result plus what to do once its batch is appended (session bookkeeping). */
interface Generated<T> extends ControllerResult<T> {
  afterAppend?: (lastOffset: number) => void;
}

/** One request waiting for its batch (or the batches before it) to commit. */
interface Waiter {
  fail(): void;
}

interface ActiveState {
  readonly epoch: number;
  /** The committed image plus every record appended in this epoch. */
  image: MetadataImage;
  readonly heartbeats: BrokerHeartbeats;
  /** Settles when everything appended so far is committed (null: nothing appended yet). */
  lastCommitted: Promise<void> | null;
  /** Offset of the last record appended (or committed, before the first append). */
  lastOffset: number;
  /** Records appended and not yet seen committed, by offset, to check what the quorum commits. */
  readonly uncommitted: Map<number, Buffer>;
  readonly waiters: Set<Waiter>;
  readonly timers: Map<'session' | 'balance' | 'unclean', { handle: TimerHandle; dueMs: number }>;
}

export class QuorumController {
  readonly config: ControllerConfig;
  private readonly log: ControllerLog;
  private readonly clock: ControllerClock;
  private readonly random: Random;
  private readonly validator: ConfigValidator;
  private readonly bootstrapRecords: readonly MetadataRecordInput[];
  private committed: MetadataImage = MetadataImage.EMPTY;
  private active: ActiveState | null = null;
  private leader: LeaderAndEpoch = { leaderId: -1, epoch: -1 };
  private readonly queue: (() => void)[] = [];
  private draining = false;

  constructor(options: QuorumControllerOptions) {
    this.config = controllerConfig(options.config);
    this.log = options.log;
    this.clock = options.clock;
    this.random = options.random;
    this.validator = options.configValidator;
    this.bootstrapRecords = [...(options.bootstrapRecords ?? [])];
  }

  /** True while this node is the active controller. */
  get isActive(): boolean {
    return this.active !== null;
  }

  /** The leader epoch this controller is active in (-1 when inactive). */
  get activeEpoch(): number {
    return this.active?.epoch ?? -1;
  }

  /** The quorum's leader as last reported. */
  get leaderAndEpoch(): LeaderAndEpoch {
    return { ...this.leader };
  }

  /** The image of every committed record (what a snapshot holds). */
  get committedImage(): MetadataImage {
    return this.committed;
  }

  /** The image requests are decided from: the committed one plus, while active, this controller's appended records. */
  get image(): MetadataImage {
    return this.active?.image ?? this.committed;
  }

  // ------------------------------------------------------------------ listener side (the quorum calls these)

  /** A committed batch, in log order. */
  handleCommit(batch: CommittedBatch): void {
    this.enqueue(() => this.applyCommitted(batch));
  }

  /** A snapshot replaces the committed image (only while inactive: a leader never loads one). */
  handleLoadSnapshot(image: MetadataImage): void {
    this.enqueue(() => {
      assert.equal(this.active, null, 'the active controller never loads a snapshot');
      this.committed = image;
    });
  }

  /** The quorum has a new leader (or lost it: leaderId -1). */
  handleLeaderChange(leader: LeaderAndEpoch): void {
    this.enqueue(() => {
      this.leader = { ...leader };
      if (leader.leaderId === this.config.nodeId) {
        if (this.active?.epoch === leader.epoch) return;
        if (this.active !== null) this.renounce();
        this.activate(leader.epoch);
      } else if (this.active !== null) {
        this.renounce();
      }
    });
  }

  // ------------------------------------------------------------------ requests

  /**
   * Answers one decoded request. Every outcome is a response (errors in its error fields,
   * NOT_CONTROLLER when this node is not active or loses leadership before the request's records
   * commit); the promise rejects only on a bug.
   */
  handle<K extends ControllerApiKey>(apiKey: K, apiVersion: number, request: ControllerRequest<K>): Promise<ControllerResponse<K>> {
    assert.ok(CONTROLLER_API_KEYS.has(apiKey), `the controller does not answer api key ${apiKey}`);
    return new Promise((resolve, reject) => {
      this.enqueue(() => {
        try {
          this.process(apiKey, apiVersion, request, resolve as (response: unknown) => void);
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  registerBroker(apiVersion: number, request: BrokerRegistrationRequest): Promise<BrokerRegistrationResponse> {
    return this.handle(ApiKey.BrokerRegistration, apiVersion, request);
  }

  brokerHeartbeat(apiVersion: number, request: BrokerHeartbeatRequest): Promise<BrokerHeartbeatResponse> {
    return this.handle(ApiKey.BrokerHeartbeat, apiVersion, request);
  }

  unregisterBroker(apiVersion: number, request: UnregisterBrokerRequest): Promise<UnregisterBrokerResponse> {
    return this.handle(ApiKey.UnregisterBroker, apiVersion, request);
  }

  alterPartition(apiVersion: number, request: AlterPartitionRequest): Promise<AlterPartitionResponse> {
    return this.handle(ApiKey.AlterPartition, apiVersion, request);
  }

  createTopics(apiVersion: number, request: CreateTopicsRequest): Promise<CreateTopicsResponse> {
    return this.handle(ApiKey.CreateTopics, apiVersion, request);
  }

  deleteTopics(apiVersion: number, request: DeleteTopicsRequest): Promise<DeleteTopicsResponse> {
    return this.handle(ApiKey.DeleteTopics, apiVersion, request);
  }

  createPartitions(apiVersion: number, request: CreatePartitionsRequest): Promise<CreatePartitionsResponse> {
    return this.handle(ApiKey.CreatePartitions, apiVersion, request);
  }

  incrementalAlterConfigs(apiVersion: number, request: IncrementalAlterConfigsRequest): Promise<IncrementalAlterConfigsResponse> {
    return this.handle(ApiKey.IncrementalAlterConfigs, apiVersion, request);
  }

  alterConfigs(apiVersion: number, request: AlterConfigsRequest): Promise<AlterConfigsResponse> {
    return this.handle(ApiKey.AlterConfigs, apiVersion, request);
  }

  allocateProducerIds(apiVersion: number, request: AllocateProducerIdsRequest): Promise<AllocateProducerIdsResponse> {
    return this.handle(ApiKey.AllocateProducerIds, apiVersion, request);
  }

  alterPartitionReassignments(apiVersion: number, request: AlterPartitionReassignmentsRequest): Promise<AlterPartitionReassignmentsResponse> {
    return this.handle(ApiKey.AlterPartitionReassignments, apiVersion, request);
  }

  listPartitionReassignments(apiVersion: number, request: ListPartitionReassignmentsRequest): Promise<ListPartitionReassignmentsResponse> {
    return this.handle(ApiKey.ListPartitionReassignments, apiVersion, request);
  }

  createAcls(apiVersion: number, request: CreateAclsRequest): Promise<CreateAclsResponse> {
    return this.handle(ApiKey.CreateAcls, apiVersion, request);
  }

  deleteAcls(apiVersion: number, request: DeleteAclsRequest): Promise<DeleteAclsResponse> {
    return this.handle(ApiKey.DeleteAcls, apiVersion, request);
  }

  alterUserScramCredentials(apiVersion: number, request: AlterUserScramCredentialsRequest): Promise<AlterUserScramCredentialsResponse> {
    return this.handle(ApiKey.AlterUserScramCredentials, apiVersion, request);
  }

  electLeaders(apiVersion: number, request: ElectLeadersRequest): Promise<ElectLeadersResponse> {
    return this.handle(ApiKey.ElectLeaders, apiVersion, request);
  }

  // ------------------------------------------------------------------ the queue

  private enqueue(event: () => void): void {
    this.queue.push(event);
    if (this.draining) return;
    this.draining = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        next();
        this.afterEvent();
      }
    } finally {
      this.draining = false;
    }
  }

  private process(apiKey: ControllerApiKey, version: number, request: unknown, resolve: (response: unknown) => void): void {
    const errorResponseOf = (error: ApiError) => errorResponse(apiKey as keyof ControllerErrorResponses, version, request as never, error);
    const state = this.active;
    if (state === null) {
      resolve(errorResponseOf(new ControllerError('NOT_CONTROLLER', 'This node is not the active controller.')));
      return;
    }
    let generated: Generated<unknown>;
    try {
      generated = this.generate(apiKey, version, request, this.context(state));
      if (USER_OPERATIONS.has(apiKey) && generated.records.length > this.config.maxRecordsPerUserOp) {
        throw new ControllerError('POLICY_VIOLATION', `Unable to perform excessively large batch operation: ${generated.records.length} records (maxRecordsPerUserOp is ${this.config.maxRecordsPerUserOp}).`);
      }
    } catch (error) {
      if (!(error instanceof ControllerError)) throw error;
      // A refusal may rest on records not committed yet, so it waits for them like any answer.
      generated = { records: [], response: errorResponseOf(error) };
    }
    const committed = this.write(state, generated.records);
    if (committed === undefined) {
      resolve(errorResponseOf(new ControllerError('NOT_CONTROLLER', 'Leadership was lost while appending.')));
      return;
    }
    generated.afterAppend?.(state.lastOffset);
    this.whenCommitted(state, committed, () => resolve(generated.response), () => resolve(errorResponseOf(new ControllerError('NOT_CONTROLLER', 'Leadership was lost before the request was committed.'))));
  }

  private generate(apiKey: ControllerApiKey, version: number, request: unknown, context: ControlContext): Generated<unknown> {
    switch (apiKey) {
      case ApiKey.CreateTopics: return createTopics(context, request as CreateTopicsRequest);
      case ApiKey.DeleteTopics: return deleteTopics(context, version, request as DeleteTopicsRequest);
      case ApiKey.CreatePartitions: return createPartitions(context, request as CreatePartitionsRequest);
      case ApiKey.AlterConfigs: return alterConfigs(context, request as AlterConfigsRequest);
      case ApiKey.IncrementalAlterConfigs: return incrementalAlterConfigs(context, request as IncrementalAlterConfigsRequest);
      case ApiKey.ElectLeaders: return electLeaders(context, version, request as ElectLeadersRequest);
      case ApiKey.AlterPartition: return alterPartition(context, version, request as AlterPartitionRequest);
      case ApiKey.AllocateProducerIds: return allocateProducerIds(context, request as AllocateProducerIdsRequest);
      case ApiKey.AlterPartitionReassignments: return alterPartitionReassignments(context, version, request as AlterPartitionReassignmentsRequest);
      case ApiKey.ListPartitionReassignments: return listPartitionReassignments(context, request as ListPartitionReassignmentsRequest);
      case ApiKey.CreateAcls: return createAcls(context, request as CreateAclsRequest);
      case ApiKey.DeleteAcls: return deleteAcls(context, request as DeleteAclsRequest);
      case ApiKey.AlterUserScramCredentials: return alterUserScramCredentials(context, request as AlterUserScramCredentialsRequest);
      case ApiKey.BrokerRegistration: {
        const result = registerBroker(context, request as BrokerRegistrationRequest);
        const { brokerId } = request as BrokerRegistrationRequest;
        return {
          ...result,
          afterAppend: () => {
            // A new incarnation's session starts now; re-sending the same registration refreshes it.
            if (result.newIncarnation) context.heartbeats.register(brokerId, context.nowMs);
            else context.heartbeats.touch(brokerId, context.nowMs, -1);
          },
        };
      }
      case ApiKey.BrokerHeartbeat: {
        const heartbeat = request as BrokerHeartbeatRequest;
        const result = brokerHeartbeat(context, heartbeat);
        return {
          ...result,
          afterAppend: (lastOffset) => {
            context.heartbeats.touch(heartbeat.brokerId, context.nowMs, heartbeat.currentMetadataOffset);
            if (result.nextState === 'CONTROLLED_SHUTDOWN') context.heartbeats.maybeSetControlledShutdownOffset(heartbeat.brokerId, lastOffset);
            if (result.nextState === 'FENCED' || result.nextState === 'SHUTDOWN_NOW') context.heartbeats.fenced(heartbeat.brokerId);
          },
        };
      }
      case ApiKey.UnregisterBroker: {
        const { brokerId } = request as UnregisterBrokerRequest;
        return { ...unregisterBroker(context, request as UnregisterBrokerRequest), afterAppend: () => context.heartbeats.remove(brokerId) };
      }
    }
  }

  private context(state: ActiveState): ControlContext {
    return {
      image: state.image,
      config: this.config,
      nowMs: this.clock.now(),
      random: this.random,
      heartbeats: state.heartbeats,
      validator: this.validator,
      nextOffset: this.log.nextOffset(),
    };
  }

  /**
   * Appends `records` as one batch and applies them to the speculative image. Returns the promise
   * that settles when everything appended so far is committed (null: nothing was ever appended),
   * or undefined when the append failed (leadership is lost; this controller renounced).
   */
  private write(state: ActiveState, records: readonly MetadataRecordInput[]): Promise<void> | null | undefined {
    if (records.length === 0) return state.lastCommitted;
    const expectedBaseOffset = this.log.nextOffset();
    const values = records.map((record) => encodeMetadataRecord(record));
    let appended: { baseOffset: number; committed: Promise<void> };
    try {
      appended = this.log.append(state.epoch, values);
    } catch {
      this.renounce();
      return undefined;
    }
    assert.equal(appended.baseOffset, expectedBaseOffset, 'the log assigned other offsets than it announced');
    // Replay what was written, decoded from its bytes: the image is what every follower will build.
    const delta = new MetadataDelta(state.image);
    values.forEach((value, index) => {
      const offset = appended.baseOffset + index;
      delta.replay(decodeMetadataRecord(value), offset, state.epoch);
      state.uncommitted.set(offset, value);
    });
    state.image = delta.apply();
    state.lastOffset = appended.baseOffset + values.length - 1;
    state.lastCommitted = appended.committed;
    appended.committed.catch(() => {
      this.enqueue(() => {
        if (this.active === state) this.renounce();
      });
    });
    return appended.committed;
  }

  private whenCommitted(state: ActiveState, committed: Promise<void> | null, onCommitted: () => void, onLost: () => void): void {
    let settled = false;
    const waiter: Waiter = {
      fail: () => {
        if (settled) return;
        settled = true;
        state.waiters.delete(waiter);
        onLost();
      },
    };
    const succeed = () => {
      if (settled) return;
      settled = true;
      state.waiters.delete(waiter);
      onCommitted();
    };
    if (committed === null) {
      succeed();
      return;
    }
    state.waiters.add(waiter);
    committed.then(succeed, waiter.fail);
  }

  // ------------------------------------------------------------------ committed records

  private applyCommitted(batch: CommittedBatch): void {
    const delta = new MetadataDelta(this.committed);
    batch.records.forEach((value, index) => {
      const offset = batch.baseOffset + index;
      if (this.active !== null) {
        // While active, only this controller writes: what commits must be what it appended.
        const appended = this.active.uncommitted.get(offset);
        assert.ok(appended?.equals(value) === true, `the quorum committed a record at offset ${offset} that the active controller did not append`);
        this.active.uncommitted.delete(offset);
      }
      delta.replay(decodeMetadataRecord(value), offset, batch.epoch);
    });
    this.committed = delta.apply();
  }

  // ------------------------------------------------------------------ leadership

  private activate(epoch: number): void {
    const heartbeats = new BrokerHeartbeats(this.config.brokerSessionTimeoutMs);
    const nowMs = this.clock.now();
    // Every registered broker gets a full session from now: it may have been heartbeating to the old controller.
    for (const brokerId of this.committed.brokers.keys()) heartbeats.register(brokerId, nowMs);
    const state: ActiveState = {
      epoch,
      image: this.committed,
      heartbeats,
      lastCommitted: null,
      lastOffset: this.committed.offset,
      uncommitted: new Map(),
      waiters: new Set(),
      timers: new Map(),
    };
    this.active = state;
    if (!this.committed.features.has(METADATA_VERSION_FEATURE)) {
      // A new cluster: the first active controller writes the bootstrap records (KRaft's BootstrapMetadata).
      const elr: MetadataRecordInput[] = this.config.eligibleLeaderReplicasEnable ? [{ type: 'FeatureLevel', name: ELIGIBLE_LEADER_REPLICAS_FEATURE, featureLevel: 1 }] : [];
      this.write(state, [{ type: 'FeatureLevel', name: METADATA_VERSION_FEATURE, featureLevel: METADATA_VERSION_LEVEL }, ...elr, ...this.bootstrapRecords]);
    }
    if (this.active !== state) return;
    if (this.config.autoLeaderRebalanceEnable) this.schedulePeriodic(state, 'balance', this.config.leaderImbalanceCheckIntervalSeconds * 1000, balancePartitionLeaders);
    this.schedulePeriodic(state, 'unclean', this.config.uncleanLeaderElectionIntervalMs, electUncleanLeaders);
  }

  private renounce(): void {
    const state = this.active;
    if (state === null) return;
    this.active = null;
    for (const { handle } of state.timers.values()) this.clock.clearTimeout(handle);
    state.timers.clear();
    for (const waiter of [...state.waiters]) waiter.fail();
  }

  // ------------------------------------------------------------------ timers

  /** After every event: the session-expiry timer is due when the next unfenced broker's session ends. */
  private afterEvent(): void {
    const state = this.active;
    if (state === null) return;
    const dueMs = state.heartbeats.nextExpiryMs(state.image);
    const timer = state.timers.get('session');
    if (timer !== undefined && timer.dueMs === dueMs) return;
    if (timer !== undefined) this.clock.clearTimeout(timer.handle);
    state.timers.delete('session');
    if (dueMs === Number.POSITIVE_INFINITY) return;
    const handle = this.clock.setTimeout(() => {
      state.timers.delete('session');
      this.enqueue(() => this.fenceStaleBroker(state));
    }, Math.max(0, dueMs - this.clock.now()));
    state.timers.set('session', { handle, dueMs });
  }

  private fenceStaleBroker(state: ActiveState): void {
    if (this.active !== state) return;
    const context = this.context(state);
    const stale = fenceStaleBroker(context);
    if (stale === null) return;
    // One broker per event, as Kafka: the next one is fenced with this one's changes visible.
    if (this.write(state, stale.records) !== undefined) state.heartbeats.fenced(stale.brokerId);
  }

  private schedulePeriodic(
    state: ActiveState,
    name: 'balance' | 'unclean',
    intervalMs: number,
    pass: (context: ControlContext) => MetadataRecordInput[],
    delayMs = intervalMs,
  ): void {
    const dueMs = this.clock.now() + delayMs;
    const handle = this.clock.setTimeout(() => {
      state.timers.delete(name);
      this.enqueue(() => {
        if (this.active !== state) return;
        const records = pass(this.context(state));
        this.write(state, records);
        // A pass that hit maxElectionsPerImbalance has more to do: it runs again soon (10 ms, as Kafka).
        if (this.active === state) this.schedulePeriodic(state, name, intervalMs, pass, records.length >= this.config.maxElectionsPerImbalance ? 10 : intervalMs);
      });
    }, delayMs);
    state.timers.set(name, { handle, dueMs });
  }
}
