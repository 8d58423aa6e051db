/**
 * Everything the console shows about the cluster, read as a Kafka client reads it: Metadata from
 * any broker (brokers, controller, each partition's leader, replicas, ISR and offline replicas),
 * ListOffsets from each partition's leader (log start offset and high watermark), DescribeLogDirs
 * from each broker (partition sizes, the log directories' total and usable bytes), DescribeConfigs,
 * and the group APIs through the client's Admin. Nothing is read from the data directory, so the
 * same code shows one embedded broker, a `gregor serve` over TCP, or a cluster. A failing
 * partition (offline, not led) is reported on that partition, never as a failed page.
 * Single-threaded; concurrent calls are independent requests.
 */
import { Admin, Cluster, type Transport } from '@gregor/client';
import { ApiKey, ErrorCode, errorInfo } from '@gregor/protocol';

const ZERO_UUID = '00000000-0000-0000-0000-000000000000';
const EARLIEST = -2;
const LATEST = -1;

export interface BrokerInfo {
  nodeId: number;
  host: string;
  port: number;
  rack: string | null;
}

export interface PartitionMetadata {
  partition: number;
  leader: number;
  leaderEpoch: number;
  replicas: number[];
  isr: number[];
  offlineReplicas: number[];
  /** Kafka's error name for the partition (LEADER_NOT_AVAILABLE for an offline one), or null. */
  error: string | null;
  underReplicated: boolean;
  offline: boolean;
}

export interface TopicMetadata {
  name: string;
  topicId: string;
  internal: boolean;
  partitions: PartitionMetadata[];
}

export interface ClusterMetadata {
  clusterId: string | null;
  controllerId: number;
  brokers: BrokerInfo[];
  topics: TopicMetadata[];
}

export interface PartitionOffsets {
  logStartOffset: number | null;
  highWatermark: number | null;
  error: string | null;
}

export interface LogDirInfo {
  broker: number;
  logDir: string;
  /** -1 when the broker does not know (Kafka's value for unknown). */
  totalBytes: number;
  usableBytes: number;
  error: string | null;
  /** Size in bytes of each partition this broker holds in the directory, by `topic/partition`. */
  partitionBytes: Map<string, number>;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}/${partition}`;
}

export function errorName(errorCode: number): string {
  return errorInfo(errorCode)?.name ?? `ERROR_${errorCode}`;
}

export class ClusterReader {
  readonly cluster: Cluster;
  readonly admin: Admin;

  constructor(transport: Transport) {
    this.cluster = new Cluster(transport, { metadataMaxAgeMs: 5000 });
    this.admin = new Admin(this.cluster, false);
  }

  /** Metadata of every topic (or of `topics`), with the partitions' replica state as the brokers report it. */
  async metadata(topics?: readonly string[]): Promise<ClusterMetadata> {
    // The client's cache follows the cluster too (leaders for ListOffsets, Fetch and the Admin's routing).
    await this.cluster.refreshMetadata(topics);
    const response = await this.cluster.request(ApiKey.Metadata, {
      topics: topics === undefined ? null : topics.map((name) => ({ name, topicId: ZERO_UUID })),
      allowAutoTopicCreation: false,
      includeClusterAuthorizedOperations: false,
      includeTopicAuthorizedOperations: false,
    });
    const brokers: BrokerInfo[] = response.brokers
      .map((b: { nodeId: number; host: string; port: number; rack?: string | null }) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack ?? null }))
      .sort((a: BrokerInfo, b: BrokerInfo) => a.nodeId - b.nodeId);
    const result: TopicMetadata[] = [];
    for (const topic of response.topics) {
      if (topic.errorCode !== ErrorCode.NONE) continue;
      const partitions: PartitionMetadata[] = topic.partitions.map((p: { partitionIndex: number; errorCode: number; leaderId: number; leaderEpoch?: number; replicaNodes?: number[]; isrNodes?: number[]; offlineReplicas?: number[] }) => {
        const replicas = p.replicaNodes ?? [];
        const isr = p.isrNodes ?? [];
        const offline = p.leaderId < 0;
        return {
          partition: p.partitionIndex,
          leader: p.leaderId,
          leaderEpoch: p.leaderEpoch ?? -1,
          replicas,
          isr,
          offlineReplicas: p.offlineReplicas ?? [],
          error: p.errorCode === ErrorCode.NONE ? null : errorName(p.errorCode),
          underReplicated: !offline && isr.length < replicas.length,
          offline,
        };
      });
      partitions.sort((a, b) => a.partition - b.partition);
      result.push({ name: topic.name, topicId: topic.topicId ?? ZERO_UUID, internal: topic.isInternal ?? false, partitions });
    }
    result.sort((a, b) => a.name.localeCompare(b.name));
    return { clusterId: response.clusterId ?? null, controllerId: response.controllerId ?? -1, brokers, topics: result };
  }

  /**
   * Log start offset and high watermark of each partition, asked of its leader (ListOffsets with
   * the earliest and latest timestamps, as a consumer would). A partition whose leader answers an
   * error, or that has none, gets the error name and null offsets.
   */
  async offsets(topics: readonly TopicMetadata[]): Promise<Map<string, PartitionOffsets>> {
    const result = new Map<string, PartitionOffsets>();
    const byLeader = new Map<number, { topic: string; partition: number }[]>();
    for (const topic of topics) {
      for (const p of topic.partitions) {
        if (p.leader < 0) {
          result.set(partitionKey(topic.name, p.partition), { logStartOffset: null, highWatermark: null, error: p.error ?? 'LEADER_NOT_AVAILABLE' });
          continue;
        }
        const list = byLeader.get(p.leader) ?? [];
        list.push({ topic: topic.name, partition: p.partition });
        byLeader.set(p.leader, list);
      }
    }
    await Promise.all(
      [...byLeader].map(async ([leader, partitions]) => {
        const [earliest, latest] = await Promise.all([EARLIEST, LATEST].map((timestamp) => this.listOffsets(leader, partitions, timestamp)));
        for (const { topic, partition } of partitions) {
          const key = partitionKey(topic, partition);
          const start = earliest.get(key);
          const end = latest.get(key);
          const error = start?.error ?? end?.error ?? null;
          result.set(key, { logStartOffset: start?.offset ?? null, highWatermark: end?.offset ?? null, error });
        }
      }),
    );
    return result;
  }

  /** The first offset at or after `timestampMs` in each partition (null when none is below the high watermark). */
  async offsetsForTimestamp(topic: TopicMetadata, partitions: readonly number[], timestampMs: number): Promise<Map<number, number | null>> {
    const byLeader = new Map<number, { topic: string; partition: number }[]>();
    for (const index of partitions) {
      const p = topic.partitions[index];
      if (p === undefined || p.leader < 0) continue;
      byLeader.set(p.leader, [...(byLeader.get(p.leader) ?? []), { topic: topic.name, partition: index }]);
    }
    const result = new Map<number, number | null>();
    await Promise.all(
      [...byLeader].map(async ([leader, list]) => {
        const found = await this.listOffsets(leader, list, timestampMs);
        for (const { partition } of list) {
          const entry = found.get(partitionKey(topic.name, partition));
          result.set(partition, entry === undefined || entry.error !== null || entry.offset === null || entry.offset < 0 ? null : entry.offset);
        }
      }),
    );
    return result;
  }

  private async listOffsets(nodeId: number, partitions: readonly { topic: string; partition: number }[], timestamp: number): Promise<Map<string, { offset: number | null; error: string | null }>> {
    const byTopic = new Map<string, number[]>();
    for (const { topic, partition } of partitions) byTopic.set(topic, [...(byTopic.get(topic) ?? []), partition]);
    const result = new Map<string, { offset: number | null; error: string | null }>();
    try {
      const response = await this.cluster.request(
        ApiKey.ListOffsets,
        {
          replicaId: -1,
          isolationLevel: 0,
          topics: [...byTopic].map(([name, list]) => ({ name, partitions: list.map((partitionIndex) => ({ partitionIndex, currentLeaderEpoch: -1, timestamp, maxNumOffsets: 1 })) })),
        },
        { nodeId },
      );
      for (const topic of response.topics) {
        for (const p of topic.partitions) {
          result.set(partitionKey(topic.name, p.partitionIndex), p.errorCode === ErrorCode.NONE ? { offset: p.offset, error: null } : { offset: null, error: errorName(p.errorCode) });
        }
      }
    } catch (error) {
      const name = (error as { code?: string }).code ?? 'BROKER_UNREACHABLE';
      for (const { topic, partition } of partitions) result.set(partitionKey(topic, partition), { offset: null, error: name });
    }
    return result;
  }

  /** Each broker's log directories (DescribeLogDirs): partition sizes and the file system's total and usable bytes. */
  async logDirs(brokers: readonly BrokerInfo[]): Promise<LogDirInfo[]> {
    const all = await Promise.all(
      brokers.map(async ({ nodeId }): Promise<LogDirInfo[]> => {
        try {
          const response = await this.cluster.request(ApiKey.DescribeLogDirs, { topics: null }, { nodeId });
          return response.results.map((r: { errorCode: number; logDir: string; totalBytes?: number; usableBytes?: number; topics: { name: string; partitions: { partitionIndex: number; partitionSize: number; isFutureKey: boolean }[] }[] }) => {
            const partitionBytes = new Map<string, number>();
            for (const t of r.topics) for (const p of t.partitions) if (!p.isFutureKey) partitionBytes.set(partitionKey(t.name, p.partitionIndex), p.partitionSize);
            return { broker: nodeId, logDir: r.logDir, totalBytes: r.totalBytes ?? -1, usableBytes: r.usableBytes ?? -1, error: r.errorCode === ErrorCode.NONE ? null : errorName(r.errorCode), partitionBytes };
          });
        } catch (error) {
          return [{ broker: nodeId, logDir: '', totalBytes: -1, usableBytes: -1, error: (error as { code?: string }).code ?? 'BROKER_UNREACHABLE', partitionBytes: new Map() }];
        }
      }),
    );
    return all.flat();
  }

  /** A topic's configs as its leader reports them (DescribeConfigs), with where each value comes from. */
  async topicConfigs(topic: string): Promise<{ name: string; value: string | null; source: string; isDefault: boolean; isSensitive: boolean }[]> {
    const described = await this.admin.describeConfigs({ resources: [{ type: 2, name: topic }] });
    const entries = (described.resources[0]?.configEntries ?? []) as { configName: string; configValue: string | null; configSource?: number; isDefault: boolean; isSensitive: boolean }[];
    return entries
      .map((e) => ({ name: e.configName, value: e.isSensitive ? null : e.configValue, source: configSourceName(e.configSource), isDefault: e.isDefault, isSensitive: e.isSensitive }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    // The transport belongs to whoever passed it in (the facade's in-process transport, a TCP client).
  }
}

function configSourceName(source: number | undefined): string {
  switch (source) {
    case 1:
      return 'DYNAMIC_TOPIC_CONFIG';
    case 2:
      return 'DYNAMIC_BROKER_CONFIG';
    case 3:
      return 'DYNAMIC_DEFAULT_BROKER_CONFIG';
    case 4:
      return 'STATIC_BROKER_CONFIG';
    case 5:
      return 'DEFAULT_CONFIG';
    case 6:
      return 'DYNAMIC_BROKER_LOGGER_CONFIG';
    default:
      return 'UNKNOWN';
  }
}
