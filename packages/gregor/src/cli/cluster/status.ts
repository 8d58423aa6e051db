/**
 * `gregor cluster status`: what a running cluster says about itself, in one screen, as
 * kafka-metadata-quorum's `describe --status --replication` and kafka-topics'
 * `--under-replicated-partitions` together: the controller quorum (DescribeQuorum: leader, epoch,
 * high watermark, each voter's and observer's log end offset), the live brokers (Metadata), and
 * every partition's leader, leader epoch, replicas and ISR, under-replicated ones marked.
 *
 * Through a broker (`--bootstrap-server`: Metadata from it, DescribeQuorum forwarded by it to the
 * active controller, as Kafka's brokers forward it) or straight to the controllers
 * (`--bootstrap-controller`, Kafka's KIP-919 flag: DescribeQuorum only, asked of each given
 * controller until the leader answers). `--json` prints the same as one JSON object for scripts.
 */
import { type Body, TcpTransport } from '@gregor/client';
import { ApiKey, ErrorCode, errorInfo } from '@gregor/protocol';
import { CliError, CommandFailedError } from '../args.js';
import { bootstrapAddresses } from '../connect.js';

export interface QuorumStatus {
  leaderId: number;
  leaderEpoch: number;
  highWatermark: number;
  voters: ReplicaStatus[];
  observers: ReplicaStatus[];
}

export interface ReplicaStatus {
  replicaId: number;
  logEndOffset: number;
  /** How far behind the leader's log end offset (the leader: 0; -1: it has not fetched since this leader was elected). */
  lag: number;
  lastCaughtUpTimestamp: number;
}

export interface PartitionStatus {
  topic: string;
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  underReplicated: boolean;
}

export interface ClusterStatus {
  clusterId: string | null;
  controllerId: number;
  brokers: { nodeId: number; host: string; port: number }[];
  /** null with `quorumError` when the quorum could not be described. */
  quorum: QuorumStatus | null;
  quorumError?: string;
  partitions: PartitionStatus[];
}

const REQUEST_TIMEOUT_MS = 10_000;

/**
 * DescribeQuorum v1 (KIP-836: the fetch and caught-up times), served by Gregor and by Kafka 3.3 and
 * later. Sent at this version without negotiation: the client's table of versions it negotiates
 * covers the APIs its producers, consumers and admin use, and DescribeQuorum is not one of them.
 */
const DESCRIBE_QUORUM_VERSION = 1;

/** Asks a broker (and through it the active controller). */
export async function statusFromBroker(bootstrap: string, clientId: string): Promise<ClusterStatus> {
  const transport = new TcpTransport({ brokers: bootstrapAddresses(bootstrap), clientId, requestTimeoutMs: REQUEST_TIMEOUT_MS });
  try {
    await transport.connect();
    const metadata = await transport.request(ApiKey.Metadata, transport.apiVersion(ApiKey.Metadata), {
      topics: null,
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    let quorum: QuorumStatus | null = null;
    let quorumError: string | undefined;
    try {
      quorum = quorumStatus(await transport.request(ApiKey.DescribeQuorum, DESCRIBE_QUORUM_VERSION, describeQuorumRequest()));
    } catch (error) {
      quorumError = (error as Error).message;
    }
    return {
      clusterId: metadata.clusterId ?? null,
      controllerId: metadata.controllerId ?? -1,
      brokers: (metadata.brokers as Body[]).map((broker) => ({ nodeId: broker.nodeId, host: broker.host, port: broker.port })).sort((a, b) => a.nodeId - b.nodeId),
      quorum,
      ...(quorumError === undefined ? {} : { quorumError }),
      partitions: partitionStatuses(metadata.topics as Body[]),
    };
  } finally {
    await transport.close();
  }
}

/** Asks the controllers directly: the quorum only (a controller serves no Metadata). */
export async function statusFromControllers(bootstrap: string, clientId: string): Promise<ClusterStatus> {
  let lastError = 'no controller answered';
  for (const address of bootstrapAddresses(bootstrap)) {
    const transport = new TcpTransport({ brokers: [address], clientId, requestTimeoutMs: REQUEST_TIMEOUT_MS });
    try {
      await transport.connect();
      const quorum = quorumStatus(await transport.request(ApiKey.DescribeQuorum, DESCRIBE_QUORUM_VERSION, describeQuorumRequest()));
      return { clusterId: null, controllerId: quorum.leaderId, brokers: [], quorum, partitions: [] };
    } catch (error) {
      lastError = `${address}: ${(error as Error).message}`;
    } finally {
      await transport.close();
    }
  }
  throw new CommandFailedError('QUORUM_UNAVAILABLE', `could not describe the quorum (${lastError})`);
}

function describeQuorumRequest(): Body {
  return { topics: [{ topicName: '__cluster_metadata', partitions: [{ partitionIndex: 0 }] }] };
}

/** The leader's answer as a QuorumStatus; an error answer (a follower, no leader) throws, naming the leader it knows. */
function quorumStatus(response: Body): QuorumStatus {
  if (response.errorCode !== ErrorCode.NONE) throw new Error(`DescribeQuorum failed: ${errorInfo(response.errorCode).name}`);
  const partition = response.topics?.[0]?.partitions?.[0];
  if (partition === undefined) throw new Error('DescribeQuorum answered no partition');
  if (partition.errorCode !== ErrorCode.NONE) {
    const leader = partition.leaderId >= 0 ? `; the leader is node ${partition.leaderId}` : '; no leader is known';
    throw new Error(`DescribeQuorum failed: ${errorInfo(partition.errorCode).name}${leader}`);
  }
  const leaderEnd = Math.max(0, ...((partition.currentVoters as Body[]) ?? []).filter((voter) => voter.replicaId === partition.leaderId).map((voter) => Number(voter.logEndOffset)));
  const replica = (state: Body): ReplicaStatus => ({
    replicaId: state.replicaId,
    logEndOffset: Number(state.logEndOffset),
    lag: Number(state.logEndOffset) < 0 ? -1 : Math.max(0, leaderEnd - Number(state.logEndOffset)),
    lastCaughtUpTimestamp: Number(state.lastCaughtUpTimestamp ?? -1),
  });
  return {
    leaderId: partition.leaderId,
    leaderEpoch: partition.leaderEpoch,
    highWatermark: Number(partition.highWatermark),
    voters: ((partition.currentVoters as Body[]) ?? []).map(replica).sort((a, b) => a.replicaId - b.replicaId),
    observers: ((partition.observers as Body[]) ?? []).map(replica).sort((a, b) => a.replicaId - b.replicaId),
  };
}

function partitionStatuses(topics: Body[]): PartitionStatus[] {
  const partitions: PartitionStatus[] = [];
  for (const topic of topics) {
    if (topic.errorCode !== ErrorCode.NONE) continue;
    for (const p of topic.partitions as Body[]) {
      const replicas: number[] = p.replicaNodes ?? [];
      const isr: number[] = p.isrNodes ?? [];
      partitions.push({
        topic: topic.name,
        partition: p.partitionIndex,
        leader: p.leaderId,
        leaderEpoch: p.leaderEpoch ?? -1,
        replicas,
        isr,
        offlineReplicas: p.offlineReplicas ?? [],
        underReplicated: isr.length < replicas.length,
      });
    }
  }
  return partitions.sort((a, b) => a.topic.localeCompare(b.topic) || a.partition - b.partition);
}

/** How many under-replicated partitions the summary line names (all are marked in the list above it). */
const UNDER_REPLICATED_NAMED = 10;

/** The status as text, one screen. */
export function formatStatus(status: ClusterStatus, source: string): string {
  const lines: string[] = [];
  lines.push(status.clusterId === null ? `Controller quorum at ${source}` : `Cluster ${status.clusterId} (from ${source})`);
  lines.push('');
  if (status.quorum === null) {
    lines.push(`Controller quorum: unavailable (${status.quorumError ?? 'no answer'})`);
  } else {
    const q = status.quorum;
    lines.push(`Controller quorum: leader node ${q.leaderId} (the active controller), epoch ${q.leaderEpoch}, high watermark ${q.highWatermark}`);
    const progress = (replica: ReplicaStatus) => (replica.replicaId === q.leaderId ? `log end offset ${replica.logEndOffset}  (leader)` : replica.lag < 0 ? 'not fetching (down, or not caught up with this leader yet)' : `log end offset ${replica.logEndOffset}  lag ${replica.lag}`);
    for (const voter of q.voters) lines.push(`  voter ${voter.replicaId}     ${progress(voter)}`);
    for (const observer of q.observers) lines.push(`  observer ${observer.replicaId}  ${progress(observer)}`);
  }
  if (status.brokers.length > 0 || status.partitions.length > 0) {
    lines.push('');
    lines.push(`Brokers: ${status.brokers.length} live`);
    for (const broker of status.brokers) lines.push(`  broker ${broker.nodeId} at ${broker.host}:${broker.port}${broker.nodeId === status.controllerId ? '  (controller)' : ''}`);
    lines.push('');
    lines.push(`Partitions: ${status.partitions.length}`);
    for (const p of status.partitions) {
      const leader = p.leader < 0 ? 'none' : String(p.leader);
      const flags = [p.underReplicated ? 'under-replicated' : '', p.offlineReplicas.length > 0 ? `offline ${p.offlineReplicas.join(',')}` : ''].filter((flag) => flag !== '');
      lines.push(`  ${`${p.topic}-${p.partition}`.padEnd(28)} leader ${leader.padEnd(3)} epoch ${String(p.leaderEpoch).padEnd(4)} replicas ${p.replicas.join(',').padEnd(8)} isr ${p.isr.join(',').padEnd(8)}${flags.length > 0 ? ` ${flags.join(', ')}` : ''}`);
    }
    const under = status.partitions.filter((p) => p.underReplicated);
    const named = under.slice(0, UNDER_REPLICATED_NAMED).map((p) => `${p.topic}-${p.partition}`);
    if (under.length > UNDER_REPLICATED_NAMED) named.push(`and ${under.length - UNDER_REPLICATED_NAMED} more`);
    lines.push('');
    lines.push(`Under-replicated partitions: ${under.length}${under.length > 0 ? ` (${named.join(', ')})` : ''}`);
  }
  return lines.map((line) => line.trimEnd()).join('\n');
}

/** `--bootstrap-server` or `--bootstrap-controller`, exactly one. */
export function statusSource(values: { 'bootstrap-server'?: string; 'bootstrap-controller'?: string }): { kind: 'broker' | 'controller'; addresses: string } {
  const server = values['bootstrap-server'];
  const controller = values['bootstrap-controller'];
  if (server !== undefined && controller !== undefined) throw new CliError('give either --bootstrap-server or --bootstrap-controller, not both');
  if (server !== undefined) return { kind: 'broker', addresses: server };
  if (controller !== undefined) return { kind: 'controller', addresses: controller };
  throw new CliError('cluster status needs --bootstrap-server host:port (a broker) or --bootstrap-controller host:port (a controller)');
}
