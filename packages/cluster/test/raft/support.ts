/**
 * Test helpers: a network whose requests the test answers by hand (`ManualNetwork`), a listener
 * that records what it is given, and a seeded random source.
 */
import { FakeClock, type FileSystem, MemoryFileSystem } from '@gregor/log';
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse, type RequestInput, type ResponseBody } from '@gregor/protocol';
import {
  PeerUnreachableError,
  type QuorumApiKey,
  type QuorumConfig,
  type QuorumNetwork,
  RaftClient,
  type RaftBatch,
  type RaftListener,
  SeededRandom,
  SimNetwork,
  SimScheduler,
  type SnapshotReader,
} from '../../src/index.js';
import type { LeaderAndEpoch } from '../../src/raft/errors.js';

export interface SentRequest {
  destinationId: number;
  apiKey: number;
  apiVersion: number;
  body: any;
  respond(body: any): void;
  fail(): void;
}

/** Every request waits in `sent` until the test answers or fails it. */
export class ManualNetwork implements QuorumNetwork {
  sent: SentRequest[] = [];

  send<K extends QuorumApiKey>(destinationId: number, apiKey: K, apiVersion: number, body: RequestInput<K>): Promise<ResponseBody<K>> {
    return new Promise((resolve, reject) => {
      this.sent.push({
        destinationId,
        apiKey,
        apiVersion,
        body,
        respond: (response) => resolve(response),
        fail: () => reject(new PeerUnreachableError(destinationId, 'test')),
      });
    });
  }

  /** Removes and returns the requests of `apiKey` (to `destinationId`, if given). */
  take(apiKey: number, destinationId?: number): SentRequest[] {
    const taken = this.sent.filter((request) => request.apiKey === apiKey && (destinationId === undefined || request.destinationId === destinationId));
    this.sent = this.sent.filter((request) => !taken.includes(request));
    return taken;
  }
}

export class RecordingListener implements RaftListener {
  batches: RaftBatch[] = [];
  snapshots: Array<{ endOffset: number; epoch: number; values: string[] }> = [];
  leaders: LeaderAndEpoch[] = [];
  quorumHighWatermarks: number[] = [];

  handleCommit(batches: RaftBatch[]): void {
    this.batches.push(...batches);
  }

  handleQuorumHighWatermark(offset: number): void {
    this.quorumHighWatermarks.push(offset);
  }

  handleLoadSnapshot(reader: SnapshotReader): void {
    this.snapshots.push({ ...reader.snapshotId, values: [...reader.values()].map((value) => value.toString()) });
    this.batches = [];
  }

  handleLeaderChange(leader: LeaderAndEpoch): void {
    this.leaders.push(leader);
  }

  /** Data values committed, in order (control batches left out). */
  get values(): string[] {
    return this.batches.flatMap((batch) => batch.records.map((value) => value.toString()));
  }
}

/** mulberry32: a small seeded PRNG in [0, 1). */
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

/** Lets pending promise continuations run (the client is synchronous between awaits). */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/** A request body as a peer's decoder would hand it over: encoded and decoded with the real codecs. */
export function wireRequest(apiKey: number, apiVersion: number, body: object): any {
  return decodeRequest(encodeRequest({ apiKey, apiVersion, correlationId: 1, clientId: 't' }, body).subarray(4), { strict: true }).body;
}

/** A response body as it arrives over the wire. */
export function wireResponse(apiKey: number, apiVersion: number, body: object): any {
  return decodeResponse(apiKey, apiVersion, encodeResponse(apiKey, apiVersion, 1, body).subarray(4), { strict: true }).body;
}

const TOPIC = '__cluster_metadata';

export function voteBody(fields: { epoch: number; candidateId: number; lastEpoch: number; lastOffset: number; preVote?: boolean; clusterId?: string | null }) {
  return wireRequest(52, 2, {
    clusterId: fields.clusterId === undefined ? 'c' : fields.clusterId,
    topics: [{ topicName: TOPIC, partitions: [{ partitionIndex: 0, replicaEpoch: fields.epoch, replicaId: fields.candidateId, lastOffsetEpoch: fields.lastEpoch, lastOffset: fields.lastOffset, preVote: fields.preVote ?? false }] }],
  });
}

export function fetchBody(fields: { replicaId: number; epoch: number; fetchOffset: number; lastFetchedEpoch: number; maxWaitMs?: number }) {
  return wireRequest(1, 13, {
    clusterId: 'c',
    replicaId: fields.replicaId,
    maxWaitMs: fields.maxWaitMs ?? 0,
    maxBytes: 1 << 20,
    topics: [
      {
        topicId: '00000000-0000-0000-0000-000000000001',
        partitions: [{ partition: 0, currentLeaderEpoch: fields.epoch, fetchOffset: fields.fetchOffset, lastFetchedEpoch: fields.lastFetchedEpoch, partitionMaxBytes: 1 << 20 }],
      },
    ],
  });
}

export function beginEpochBody(leaderId: number, epoch: number) {
  return wireRequest(53, 1, { clusterId: 'c', topics: [{ topicName: TOPIC, partitions: [{ partitionIndex: 0, leaderId, leaderEpoch: epoch }] }] });
}

/** The one partition of a quorum response. */
export function partitionOf(response: any): any {
  return (response.topics ?? response.responses)[0].partitions[0];
}

export interface NodeOptions<F extends FileSystem = MemoryFileSystem> {
  nodeId: number;
  voters: number[];
  fs?: F;
  /** The metadata log directory; default '/meta' (on the memory file system). */
  dir?: string;
  clock?: FakeClock;
  network?: ManualNetwork;
  config?: Partial<QuorumConfig>;
  seed?: number;
}

/** Opens a RaftClient on a memory file system and a manual network. */
export async function openNode<F extends FileSystem = MemoryFileSystem>(options: NodeOptions<F>) {
  const fs = options.fs ?? (new MemoryFileSystem() as unknown as F);
  const clock = options.clock ?? new FakeClock(0);
  const network = options.network ?? new ManualNetwork();
  const raft = await RaftClient.open({
    nodeId: options.nodeId,
    voters: options.voters,
    dir: options.dir ?? '/meta',
    fs,
    clock,
    random: seededRandom(options.seed ?? options.nodeId),
    network,
    clusterId: 'c',
    config: { controllerQuorumAppendLingerMs: 0, ...options.config },
  });
  return { raft, fs, clock, network };
}

export const QUORUM_STATE_PATH = '/meta/__cluster_metadata-0/quorum-state';

export function readQuorumState(fs: MemoryFileSystem): Record<string, unknown> {
  return JSON.parse(fs.readFile(QUORUM_STATE_PATH).toString());
}

export function voteAnswer(epoch: number, granted: boolean, leaderId = -1) {
  return wireResponse(52, 2, { topics: [{ topicName: TOPIC, partitions: [{ partitionIndex: 0, leaderId, leaderEpoch: epoch, voteGranted: granted }] }] });
}

/**
 * Drives node `raft` (voters [1, 2, 3]) from its election timeout to leadership: pre-votes then
 * votes granted by every peer. Returns the epoch it leads.
 */
export async function elect(raft: RaftClient, clock: FakeClock, network: ManualNetwork): Promise<number> {
  clock.advance(2 * raft.config.controllerQuorumElectionTimeoutMs + raft.config.controllerQuorumElectionBackoffMaxMs);
  await settle();
  for (const request of network.take(52)) request.respond(voteAnswer(request.body.topics[0].partitions[0].replicaEpoch, true));
  await settle();
  for (const request of network.take(52)) request.respond(voteAnswer(request.body.topics[0].partitions[0].replicaEpoch, true));
  await settle();
  if (raft.role !== 'leader') throw new Error(`expected a leader, got ${raft.role}`);
  return raft.leaderAndEpoch.epoch;
}

export interface ClusterNode {
  id: number;
  fs: MemoryFileSystem;
  raft: RaftClient;
  listener: RecordingListener;
}

/** Nodes on a SimNetwork (real codecs) with one FakeClock; `start(id)` opens (or reopens) one. */
export async function simCluster(options: { voters: number[]; observers?: number[]; config?: Partial<QuorumConfig>; seed?: number }) {
  const clock = new FakeClock(0);
  const random = new SeededRandom(options.seed ?? 7);
  const network = new SimNetwork({ clock, random: random.fork() });
  const scheduler = new SimScheduler(clock);
  const nodes = new Map<number, ClusterNode>();
  const start = async (id: number) => {
    const fs = nodes.get(id)?.fs ?? new MemoryFileSystem();
    const raft = await RaftClient.open({
      nodeId: id,
      voters: options.voters,
      dir: '/meta',
      fs,
      clock,
      random: random.fork().asFunction,
      network: network.endpoint(id),
      clusterId: 'c',
      config: options.config,
    });
    network.attach(id, (apiKey, apiVersion, body) => raft.handle(apiKey as 1, apiVersion, body as never));
    const listener = new RecordingListener();
    raft.register(listener);
    const node = { id, fs, raft, listener };
    nodes.set(id, node);
    return node;
  };
  for (const id of [...options.voters, ...(options.observers ?? [])]) await start(id);
  const leader = () => [...nodes.values()].find((node) => !node.raft.isClosed && node.raft.isLeader);
  const crash = (id: number) => {
    const node = nodes.get(id) as ClusterNode;
    node.raft.kill();
    network.detach(id);
    node.fs.crash();
  };
  const stopAll = () => {
    for (const node of nodes.values()) node.raft.kill();
  };
  return { clock, network, scheduler, nodes, start, leader, crash, stopAll };
}
