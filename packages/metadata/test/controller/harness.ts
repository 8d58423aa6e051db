/**
 * Test support for the controller: a ControllerLog that commits on demand (and can lose its
 * uncommitted tail as a deposed Raft leader does), a FakeClock, a seeded random source, a small
 * config validator, and builders for the request bodies brokers send.
 */
import { FakeClock } from '@gregor/log';
import type {
  AlterPartitionRequest, BrokerHeartbeatRequest, BrokerRegistrationRequest, CreateTopicsRequest,
} from '@gregor/protocol';
import {
  type ApiError, type CommittedBatch, ConfigResourceType, type ConfigValidator, type ControllerConfig, type ControllerLog, METADATA_VERSION_LEVEL,
  QuorumController,
} from '../../src/index.js';

export const CLUSTER_ID = 'gregor-test-cluster-0001';
export const NODE_ID = 3000;

/** A seeded generator (mulberry32), so placements and topic ids replay. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Lets promise callbacks (responses waiting on commits) run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

interface PendingBatch {
  baseOffset: number;
  epoch: number;
  records: Buffer[];
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The metadata log as the active controller sees it: appends are accepted only in `leaderEpoch`,
 * get consecutive offsets, and commit when the test says so.
 */
export class TestLog implements ControllerLog {
  controller: QuorumController | undefined;
  leaderEpoch = -1;
  private endOffset = 0;
  readonly pending: PendingBatch[] = [];
  readonly committed: CommittedBatch[] = [];

  nextOffset(): number {
    return this.endOffset;
  }

  append(epoch: number, records: readonly Buffer[]): { baseOffset: number; committed: Promise<void> } {
    if (epoch !== this.leaderEpoch) throw new Error(`not the leader of epoch ${epoch} (leader epoch is ${this.leaderEpoch})`);
    const baseOffset = this.endOffset;
    this.endOffset += records.length;
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    const committed = new Promise<void>((onResolve, onReject) => {
      resolve = onResolve;
      reject = onReject;
    });
    this.pending.push({ baseOffset, epoch, records: [...records], resolve, reject });
    return { baseOffset, committed };
  }

  /** Commits the oldest pending batch: the controller sees it, then its promise resolves. */
  commitNext(): boolean {
    const batch = this.pending.shift();
    if (batch === undefined) return false;
    const committed = { baseOffset: batch.baseOffset, epoch: batch.epoch, records: batch.records };
    this.committed.push(committed);
    this.controller?.handleCommit(committed);
    batch.resolve();
    return true;
  }

  commitAll(): number {
    let count = 0;
    while (this.commitNext()) count++;
    return count;
  }

  /** The log already holds records up to `offset` (a node that loaded a snapshot of them). */
  startAfter(offset: number): void {
    this.endOffset = Math.max(this.endOffset, offset + 1);
  }

  /** A new leader epoch starts: the quorum writes its LeaderChange control record, which takes an offset. */
  startEpoch(epoch: number): void {
    this.leaderEpoch = epoch;
    this.endOffset += 1;
  }

  /**
   * Another node leads from `epoch`: the first `kept` pending batches survive (the new leader had
   * them and commits them), the rest are truncated. Every pending promise rejects (leadership was
   * lost first); the survivors are then delivered as committed.
   */
  depose(epoch: number, kept: number): CommittedBatch[] {
    const survivors = this.pending.splice(0, Math.min(kept, this.pending.length));
    const lost = this.pending.splice(0);
    for (const batch of [...survivors, ...lost]) batch.reject(new Error('leadership lost'));
    this.endOffset = survivors.length > 0 ? survivors[survivors.length - 1].baseOffset + survivors[survivors.length - 1].records.length : this.committedEnd();
    this.leaderEpoch = epoch;
    this.controller?.handleLeaderChange({ leaderId: NODE_ID + 1, epoch });
    const delivered: CommittedBatch[] = [];
    for (const batch of survivors) {
      const committed = { baseOffset: batch.baseOffset, epoch: batch.epoch, records: batch.records };
      this.committed.push(committed);
      delivered.push(committed);
      this.controller?.handleCommit(committed);
    }
    this.endOffset += 1;
    return delivered;
  }

  private committedEnd(): number {
    const last = this.committed[this.committed.length - 1];
    return last === undefined ? 0 : last.baseOffset + last.records.length;
  }
}

/** Topic configs the test validator knows, with their types; list configs and defaults for APPEND/SUBTRACT. */
const TOPIC_CONFIGS: Record<string, 'boolean' | 'long' | 'list'> = {
  'cleanup.policy': 'list',
  'retention.ms': 'long',
  'min.insync.replicas': 'long',
  'unclean.leader.election.enable': 'boolean',
};
const BROKER_CONFIGS: Record<string, 'boolean' | 'long' | 'list'> = {
  'unclean.leader.election.enable': 'boolean',
  'log.retention.ms': 'long',
  'listener.security.protocol.map': 'list',
};

/** A validator with a few of Kafka's configs, checking names and value types as the broker's table would. */
export const testConfigValidator: ConfigValidator = {
  validate(resource, configs): ApiError | null {
    const known = resource.resourceType === ConfigResourceType.TOPIC ? TOPIC_CONFIGS : BROKER_CONFIGS;
    for (const [name, value] of configs) {
      const type = known[name];
      if (type === undefined) return { errorCode: 40, message: `Unknown config ${name}` };
      if (type === 'boolean' && !/^(true|false)$/i.test(value)) return { errorCode: 40, message: `Invalid value ${value} for configuration ${name}: Expected value to be either true or false` };
      if (type === 'long' && !/^-?\d+$/.test(value)) return { errorCode: 40, message: `Invalid value ${value} for configuration ${name}: Not a number of type LONG` };
      if (name === 'cleanup.policy' && value.split(',').some((part) => part !== 'delete' && part !== 'compact')) {
        return { errorCode: 40, message: `Invalid value ${value} for configuration cleanup.policy` };
      }
    }
    return null;
  },
  isList: (resourceType, name) => (resourceType === ConfigResourceType.TOPIC ? TOPIC_CONFIGS : BROKER_CONFIGS)[name] === 'list',
  defaultValue: (resourceType, name) => (resourceType === ConfigResourceType.TOPIC && name === 'cleanup.policy' ? 'delete' : null),
};

export interface Harness {
  controller: QuorumController;
  log: TestLog;
  clock: FakeClock;
  /** Makes this node the active controller in a new epoch (after the LeaderChange record). */
  elect(): number;
  /** Commits everything pending and waits for the responses to be delivered. */
  commit(): Promise<void>;
  /** Sends a request, commits, and returns the response. */
  call<T>(request: () => Promise<T>): Promise<T>;
}

export function harness(config: Partial<ControllerConfig> = {}, seed = 1): Harness {
  const log = new TestLog();
  const clock = new FakeClock(1_000_000);
  const controller = new QuorumController({
    config: { nodeId: NODE_ID, clusterId: CLUSTER_ID, ...config },
    log,
    clock,
    random: seededRandom(seed),
    configValidator: testConfigValidator,
  });
  log.controller = controller;
  let epoch = 0;
  const commit = async () => {
    for (let round = 0; round < 5; round++) {
      log.commitAll();
      await settle();
    }
  };
  return {
    controller,
    log,
    clock,
    elect() {
      epoch = Math.max(epoch, log.leaderEpoch) + 1;
      log.startEpoch(epoch);
      controller.handleLeaderChange({ leaderId: NODE_ID, epoch });
      return epoch;
    },
    commit,
    async call<T>(request: () => Promise<T>): Promise<T> {
      const response = request();
      await commit();
      return response;
    },
  };
}

export function uuidOf(serial: number): string {
  return `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`;
}

export function registration(
  brokerId: number,
  options: { incarnation?: number; rack?: string | null; clusterId?: string; features?: boolean; previousBrokerEpoch?: number } = {},
): BrokerRegistrationRequest {
  return {
    brokerId,
    clusterId: options.clusterId ?? CLUSTER_ID,
    incarnationId: uuidOf(brokerId * 1000 + (options.incarnation ?? 0)),
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + brokerId, securityProtocol: 0 }],
    features: options.features === false ? [] : [{ name: 'metadata.version', minSupportedVersion: 1, maxSupportedVersion: METADATA_VERSION_LEVEL }],
    rack: options.rack ?? null,
    isMigratingZkBroker: false,
    logDirs: [],
    previousBrokerEpoch: options.previousBrokerEpoch ?? -1,
  };
}

export function heartbeat(brokerId: number, brokerEpoch: number, currentMetadataOffset: number, flags: { wantFence?: boolean; wantShutDown?: boolean } = {}): BrokerHeartbeatRequest {
  return { brokerId, brokerEpoch, currentMetadataOffset, wantFence: flags.wantFence ?? false, wantShutDown: flags.wantShutDown ?? false, offlineLogDirs: [] };
}

export function createTopicsRequest(
  topics: { name: string; numPartitions?: number; replicationFactor?: number; assignments?: number[][]; configs?: Record<string, string | null> }[],
  validateOnly = false,
): CreateTopicsRequest {
  return {
    topics: topics.map((topic) => ({
      name: topic.name,
      numPartitions: topic.assignments !== undefined ? -1 : (topic.numPartitions ?? 1),
      replicationFactor: topic.assignments !== undefined ? -1 : (topic.replicationFactor ?? 1),
      assignments: (topic.assignments ?? []).map((brokerIds, partitionIndex) => ({ partitionIndex, brokerIds })),
      configs: Object.entries(topic.configs ?? {}).map(([name, value]) => ({ name, value })),
    })),
    timeoutMs: 60_000,
    validateOnly,
  };
}

export function alterPartitionRequest(
  brokerId: number,
  brokerEpoch: number,
  topicId: string,
  partition: { partitionIndex: number; leaderEpoch: number; partitionEpoch: number; newIsr: number[]; leaderRecoveryState?: number; epochs?: Record<number, number> },
): AlterPartitionRequest {
  return {
    brokerId,
    brokerEpoch,
    topics: [{
      topicName: '',
      topicId,
      partitions: [{
        partitionIndex: partition.partitionIndex,
        leaderEpoch: partition.leaderEpoch,
        newIsr: partition.newIsr,
        newIsrWithEpochs: partition.newIsr.map((id) => ({ brokerId: id, brokerEpoch: partition.epochs?.[id] ?? -1 })),
        leaderRecoveryState: partition.leaderRecoveryState ?? 0,
        partitionEpoch: partition.partitionEpoch,
      }],
    }],
  };
}

/**
 * Registers the brokers and heartbeats each until it is unfenced. Returns their broker epochs.
 * The controller must be active.
 */
export async function startBrokers(h: Harness, brokerIds: number[], racks: Record<number, string> = {}): Promise<Map<number, number>> {
  const epochs = new Map<number, number>();
  for (const brokerId of brokerIds) {
    const response = await h.call(() => h.controller.registerBroker(0, registration(brokerId, { rack: racks[brokerId] ?? null })));
    if (response.errorCode !== 0) throw new Error(`registration of ${brokerId} failed with ${response.errorCode}`);
    epochs.set(brokerId, response.brokerEpoch);
  }
  for (const brokerId of brokerIds) {
    const response = await h.call(() => h.controller.brokerHeartbeat(0, heartbeat(brokerId, epochs.get(brokerId) ?? -1, h.controller.committedImage.offset)));
    if (response.isFenced) throw new Error(`broker ${brokerId} is still fenced`);
  }
  return epochs;
}
