/**
 * The broker's life as the controller sees it (Kafka's BrokerLifecycleManager):
 *
 *   STARTING  registered (BrokerRegistration: node id, cluster id, a new incarnation id, the
 *             listeners' endpoints), heartbeating until the controller says the broker has caught
 *             up with the metadata log up to its own registration;
 *   RECOVERY  caught up; once the broker has applied its first metadata image it is ready to be
 *             unfenced (`setReadyToUnfence`), and heartbeats with wantFence=false;
 *   RUNNING   the controller has unfenced it: it may lead partitions and join ISRs;
 *   PENDING_CONTROLLED_SHUTDOWN  close() asked the controller (wantShutDown) to move this broker's
 *             leaderships away; it heartbeats until the controller answers shouldShutDown;
 *   SHUTTING_DOWN  no more requests.
 *
 * Every communication carries `currentMetadataOffset`, the offset of the last image the broker
 * applied. After a success the next heartbeat goes out `broker.heartbeat.interval.ms` later (every
 * 10 ms while catching up, as Kafka); after a failure the delay starts at 100 ms and doubles up to
 * half the session timeout. A heartbeat answered STALE_BROKER_EPOCH or BROKER_ID_NOT_REGISTERED
 * (the controller lost this incarnation) registers again. One request in flight at a time.
 * Single-threaded; timers come from the injected clock.
 */
import { ApiKey, type BrokerHeartbeatResponse, type DescribedApiKey, ErrorCode, type RequestInput, type ResponseBody } from '@gregor/protocol';
import { type Endpoint, METADATA_VERSION_FEATURE, METADATA_VERSION_LEVEL } from '@gregor/metadata';
import type { Clock, TimerHandle } from '@gregor/log';
import type { ControllerChannel } from './channels.js';
import { randomUuidBytes, type Random, uuidToString } from './ids.js';

export const BROKER_REGISTRATION_VERSION = 3;
export const BROKER_HEARTBEAT_VERSION = 0;
const CATCH_UP_HEARTBEAT_MS = 10;
const FAILURE_BACKOFF_INITIAL_MS = 100;

export type BrokerState = 'NOT_RUNNING' | 'STARTING' | 'RECOVERY' | 'RUNNING' | 'PENDING_CONTROLLED_SHUTDOWN' | 'SHUTTING_DOWN';

export interface BrokerLifecycleOptions {
  channel: ControllerChannel;
  clock: Clock;
  random: Random;
  nodeId: number;
  clusterId: string;
  rack: string | null;
  /** The endpoints to register (the broker's listeners, not the controller's). */
  listeners: () => readonly Endpoint[];
  /** The offset of the last metadata image the broker applied (-1: none yet). */
  metadataOffset: () => number;
  heartbeatIntervalMs: number;
  sessionTimeoutMs: number;
  /** The epoch in the clean-shutdown marker of the last run (-1: the last run did not shut down cleanly). */
  previousBrokerEpoch: number;
}

/** A promise with its settle functions, settled at most once. */
class Latch {
  readonly promise: Promise<void>;
  settled = false;
  private resolveFn!: () => void;
  private rejectFn!: (error: Error) => void;
  constructor() {
    this.promise = new Promise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
    // A latch nobody awaits must not become an unhandled rejection when it is cancelled.
    this.promise.catch(() => {});
  }
  resolve(): void {
    if (this.settled) return;
    this.settled = true;
    this.resolveFn();
  }
  reject(error: Error): void {
    if (this.settled) return;
    this.settled = true;
    this.rejectFn(error);
  }
}

export class BrokerLifecycleManager {
  readonly incarnationId: string;
  private stateValue: BrokerState = 'NOT_RUNNING';
  private brokerEpochValue = -1;
  private registered = false;
  private readyToUnfence = false;
  private inFlight = false;
  private sendImmediatelyAfterInFlight = false;
  private immediatePending = false;
  private failedAttempts = 0;
  private timer: TimerHandle | null = null;
  /** Resolved once the controller says this broker caught up with the metadata log. */
  readonly initialCatchUp = new Latch();
  /** Resolved once the controller unfences this broker. */
  readonly initialUnfence = new Latch();
  /** Resolved once the controller lets this broker shut down (or it stops trying). */
  readonly controlledShutdown = new Latch();

  constructor(private readonly options: BrokerLifecycleOptions) {
    this.incarnationId = uuidToString(randomUuidBytes(options.random));
  }

  get state(): BrokerState {
    return this.stateValue;
  }

  /** The epoch the controller gave this registration (-1 before it registered). */
  get brokerEpoch(): number {
    return this.brokerEpochValue;
  }

  start(): void {
    if (this.stateValue !== 'NOT_RUNNING') return;
    this.stateValue = 'STARTING';
    this.schedule(0);
  }

  /** The broker applied its first image and opened its logs: it may be unfenced. */
  setReadyToUnfence(): void {
    if (this.readyToUnfence) return;
    this.readyToUnfence = true;
    this.schedule(0);
  }

  /** Asks the controller to move leaderships away; resolves when it agrees (or if not running). */
  beginControlledShutdown(): Promise<void> {
    if (this.stateValue === 'RUNNING' || this.stateValue === 'RECOVERY') {
      this.stateValue = 'PENDING_CONTROLLED_SHUTDOWN';
      this.schedule(0);
    } else if (this.stateValue !== 'PENDING_CONTROLLED_SHUTDOWN') {
      this.controlledShutdown.resolve();
    }
    return this.controlledShutdown.promise;
  }

  /** Stops communicating; pending latches settle (catch-up and unfence reject). */
  close(): void {
    this.stateValue = 'SHUTTING_DOWN';
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    const stopped = new Error('the broker is shutting down');
    this.initialCatchUp.reject(stopped);
    this.initialUnfence.reject(stopped);
    this.controlledShutdown.resolve();
  }

  /**
   * The next communication after `delayMs`. 0 means as soon as the current call returns (a
   * microtask, not a timer), and an immediate communication already due is not postponed by a
   * later, slower schedule.
   */
  private schedule(delayMs: number): void {
    if (this.stateValue === 'SHUTTING_DOWN' || this.stateValue === 'NOT_RUNNING' || this.immediatePending) return;
    if (this.timer !== null) this.options.clock.clearTimeout(this.timer);
    this.timer = null;
    if (delayMs <= 0) {
      this.immediatePending = true;
      queueMicrotask(() => {
        this.immediatePending = false;
        if (this.stateValue !== 'SHUTTING_DOWN') this.communicate();
      });
      return;
    }
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = null;
      this.communicate();
    }, delayMs);
  }

  private scheduleAfterSuccess(delayMs = this.options.heartbeatIntervalMs): void {
    this.failedAttempts = 0;
    this.schedule(this.sendImmediatelyAfterInFlight ? 0 : delayMs);
    this.sendImmediatelyAfterInFlight = false;
  }

  private scheduleAfterFailure(): void {
    const delayMs = Math.min(FAILURE_BACKOFF_INITIAL_MS * 2 ** this.failedAttempts, Math.max(FAILURE_BACKOFF_INITIAL_MS, this.options.sessionTimeoutMs / 2));
    this.failedAttempts += 1;
    this.sendImmediatelyAfterInFlight = false;
    this.schedule(delayMs);
  }

  private communicate(): void {
    if (this.inFlight) {
      this.sendImmediatelyAfterInFlight = true;
      return;
    }
    if (this.registered) this.sendHeartbeat();
    else this.sendRegistration();
  }

  private send<K extends DescribedApiKey>(apiKey: K, apiVersion: number, body: RequestInput<K>, onAnswer: (response: ResponseBody<K>) => void): void {
    this.inFlight = true;
    this.options.channel.send(apiKey, apiVersion, body).then(
      (response) => {
        this.inFlight = false;
        if (this.stateValue !== 'SHUTTING_DOWN') onAnswer(response as ResponseBody<K>);
      },
      () => {
        this.inFlight = false;
        if (this.stateValue !== 'SHUTTING_DOWN') this.scheduleAfterFailure();
      },
    );
  }

  private sendRegistration(): void {
    this.send(ApiKey.BrokerRegistration, BROKER_REGISTRATION_VERSION, {
      brokerId: this.options.nodeId,
      clusterId: this.options.clusterId,
      incarnationId: this.incarnationId,
      listeners: this.options.listeners().map((endpoint) => ({ ...endpoint })),
      // The metadata.version levels this broker reads (KIP-584); the controller refuses a broker
      // that cannot read the cluster's level.
      features: [{ name: METADATA_VERSION_FEATURE, minSupportedVersion: 1, maxSupportedVersion: METADATA_VERSION_LEVEL }],
      rack: this.options.rack,
      isMigratingZkBroker: false,
      logDirs: [],
      // Proves a clean shutdown (KIP-966): without it the controller takes this broker out of
      // every ISR and ELR, since its unflushed tail may be gone.
      previousBrokerEpoch: this.options.previousBrokerEpoch,
    }, (response) => {
      if (response.errorCode !== ErrorCode.NONE) {
        this.scheduleAfterFailure();
        return;
      }
      this.registered = true;
      this.brokerEpochValue = response.brokerEpoch;
      // Kafka sends the first heartbeat at once after registering.
      this.scheduleAfterSuccess(0);
    });
  }

  private sendHeartbeat(): void {
    const wantShutDown = this.stateValue === 'PENDING_CONTROLLED_SHUTDOWN';
    this.send(ApiKey.BrokerHeartbeat, BROKER_HEARTBEAT_VERSION, {
      brokerId: this.options.nodeId,
      brokerEpoch: this.brokerEpochValue,
      currentMetadataOffset: this.options.metadataOffset(),
      wantFence: !this.readyToUnfence,
      wantShutDown,
    }, (response) => this.onHeartbeatResponse(response, wantShutDown));
  }

  private onHeartbeatResponse(response: BrokerHeartbeatResponse, askedToShutDown: boolean): void {
    if (response.errorCode === ErrorCode.STALE_BROKER_EPOCH || response.errorCode === ErrorCode.BROKER_ID_NOT_REGISTERED) {
      this.registered = false;
      this.scheduleAfterFailure();
      return;
    }
    if (response.errorCode !== ErrorCode.NONE) {
      this.scheduleAfterFailure();
      return;
    }
    switch (this.stateValue) {
      case 'STARTING':
        if (response.isCaughtUp === true) {
          this.stateValue = 'RECOVERY';
          this.initialCatchUp.resolve();
        }
        this.scheduleAfterSuccess(CATCH_UP_HEARTBEAT_MS);
        return;
      case 'RECOVERY':
        if (response.isFenced === false) {
          this.stateValue = 'RUNNING';
          this.initialUnfence.resolve();
        }
        this.scheduleAfterSuccess();
        return;
      case 'RUNNING':
        this.scheduleAfterSuccess();
        return;
      case 'PENDING_CONTROLLED_SHUTDOWN':
        if (response.shouldShutDown === true) {
          this.controlledShutdown.resolve();
          return;
        }
        // An answer to a heartbeat sent before the shutdown began: ask at once. Kafka resends quickly
        // until the controller has seen the request, then waits for it at the usual interval.
        this.scheduleAfterSuccess(askedToShutDown ? this.options.heartbeatIntervalMs : 0);
        return;
      default:
    }
  }
}
