/**
 * The REST answers (seed 001's endpoints and the console's own), as JSON a script can use. Each
 * function reads through a snapshot (at most `SNAPSHOT_MAX_AGE_MS` old) or asks the brokers anew;
 * none touches the data directory. Shapes are documented in docs/console.md.
 */
import { type AlertCheck, evaluateAlerts } from './alerts.js';
import { partitionKey, type TopicMetadata } from './cluster-reader.js';
import type { ConsoleContext } from './context.js';
import { badParameter, ConsoleError } from './errors.js';
import { describeGroup } from './groups.js';
import { formatParameter, partitionParameter, parseMessageQuery, readMessages, requireTopic } from './messages.js';
import { NO_FILTER } from './record-view.js';
import { type ClusterSnapshot, isGroupDetail } from './snapshot.js';

/** How old a shared snapshot may be when a page asks. */
export const SNAPSHOT_MAX_AGE_MS = 1000;

function topicTotals(snapshot: ClusterSnapshot, topic: TopicMetadata) {
  let messages = 0;
  let sizeBytes = 0;
  for (const p of topic.partitions) {
    const offsets = snapshot.offsets.get(partitionKey(topic.name, p.partition));
    if (offsets?.highWatermark != null && offsets.logStartOffset != null) messages += offsets.highWatermark - offsets.logStartOffset;
    for (const dir of snapshot.logDirs) if (dir.broker === p.leader) sizeBytes += dir.partitionBytes.get(partitionKey(topic.name, p.partition)) ?? 0;
  }
  return { messages, sizeBytes };
}

export async function topicsAnswer(context: ConsoleContext) {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  return {
    topics: snapshot.metadata.topics.map((topic) => {
      const rate = context.sampler.topicRates.get(topic.name);
      return {
        name: topic.name,
        topicId: topic.topicId,
        internal: topic.internal,
        partitions: topic.partitions.length,
        replicationFactor: Math.max(0, ...topic.partitions.map((p) => p.replicas.length)),
        underReplicatedPartitions: topic.partitions.filter((p) => p.underReplicated).length,
        offlinePartitions: topic.partitions.filter((p) => p.offline).length,
        ...topicTotals(snapshot, topic),
        recordsPerSecond: rate?.recordsPerSecond ?? null,
        bytesPerSecond: rate?.bytesPerSecond ?? null,
      };
    }),
  };
}

export async function topicAnswer(context: ConsoleContext, name: string) {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  const topic = requireTopic(snapshot.metadata.topics, name);
  const local = new Map<string, { logEndOffset: number; segmentCount: number }>();
  if (context.local !== undefined) for (const p of context.local.partitions()) if (p.topic === name) local.set(partitionKey(p.topic, p.partition), p);
  const configs = await context.reader.topicConfigs(name).catch((error) => ({ error: (error as { code?: string }).code ?? 'DESCRIBE_CONFIGS_FAILED' }));
  const rate = context.sampler.topicRates.get(name);
  return {
    name: topic.name,
    topicId: topic.topicId,
    internal: topic.internal,
    recordsPerSecond: rate?.recordsPerSecond ?? null,
    bytesPerSecond: rate?.bytesPerSecond ?? null,
    ...topicTotals(snapshot, topic),
    partitions: topic.partitions.map((p) => {
      const key = partitionKey(name, p.partition);
      const offsets = snapshot.offsets.get(key);
      const leaderDir = snapshot.logDirs.find((d) => d.broker === p.leader && d.partitionBytes.has(key));
      // Log end offset and segment count are a replica's own state: known for the replica in this process.
      const here = local.get(key);
      return {
        partition: p.partition,
        leader: p.leader,
        leaderEpoch: p.leaderEpoch,
        replicas: p.replicas,
        isr: p.isr,
        offlineReplicas: p.offlineReplicas,
        underReplicated: p.underReplicated,
        offline: p.offline,
        logStartOffset: offsets?.logStartOffset ?? null,
        highWatermark: offsets?.highWatermark ?? null,
        logEndOffset: here !== undefined && context.local?.nodeId === p.leader ? here.logEndOffset : null,
        segments: here?.segmentCount ?? null,
        sizeBytes: leaderDir?.partitionBytes.get(key) ?? null,
        error: offsets?.error ?? p.error,
      };
    }),
    configs,
  };
}

export async function messagesAnswer(context: ConsoleContext, name: string, params: URLSearchParams) {
  const metadata = await context.reader.metadata([name]).catch(() => null);
  const topic = requireTopic(metadata?.topics ?? [], name);
  return readMessages(context.reader, topic, parseMessageQuery(params, topic, context.config), context.config);
}

export async function latestAnswer(context: ConsoleContext, name: string, params: URLSearchParams) {
  for (const key of params.keys()) if (key !== 'partition' && key !== 'format') throw badParameter(key, 'is not known; the parameters are partition, format');
  const metadata = await context.reader.metadata([name]).catch(() => null);
  const topic = requireTopic(metadata?.topics ?? [], name);
  const answer = await readMessages(context.reader, topic, { partitions: partitionParameter(params, topic), offset: null, timestamp: null, limit: 1, format: formatParameter(params), filter: NO_FILTER }, context.config);
  return { topic: name, record: answer.records.at(-1) ?? null, partitions: answer.partitions };
}

export async function groupsAnswer(context: ConsoleContext) {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  return {
    groups: snapshot.groups.map((g) => {
      const detail = snapshot.groupDetails.get(g.groupId);
      const described = isGroupDetail(detail);
      return {
        groupId: g.groupId,
        state: described ? detail.state : g.state,
        protocolType: g.protocolType,
        coordinator: g.coordinator,
        members: described ? detail.members.length : null,
        topics: described ? [...new Set(detail.partitions.map((p) => p.topic))].sort() : null,
        lag: described ? detail.lag : null,
        error: detail !== undefined && !described ? detail.error : null,
      };
    }),
  };
}

export async function groupAnswer(context: ConsoleContext, groupId: string) {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  const detail = await describeGroup(context.reader, groupId, snapshot.metadata.topics);
  return { ...detail, lagHistory: context.sampler.lagHistory.get(groupId) ?? [] };
}

export async function brokersAnswer(context: ConsoleContext) {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  const { metadata } = snapshot;
  return {
    clusterId: metadata.clusterId,
    controllerId: metadata.controllerId,
    brokers: metadata.brokers.map((b) => ({
      ...b,
      isController: b.nodeId === metadata.controllerId,
      leaderOf: metadata.topics.reduce((n, t) => n + t.partitions.filter((p) => p.leader === b.nodeId).length, 0),
      replicas: metadata.topics.reduce((n, t) => n + t.partitions.filter((p) => p.replicas.includes(b.nodeId)).length, 0),
      logDirs: snapshot.logDirs.filter((d) => d.broker === b.nodeId).map((d) => ({ logDir: d.logDir, totalBytes: d.totalBytes, usableBytes: d.usableBytes, usedRatio: d.totalBytes > 0 && d.usableBytes >= 0 ? 1 - d.usableBytes / d.totalBytes : null, error: d.error })),
    })),
  };
}

export async function alertsAnswer(context: ConsoleContext): Promise<{ alerts: AlertCheck[] }> {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  return { alerts: evaluateAlerts(snapshot, await context.metrics.requestP99Ms(), context.config) };
}

export async function statsAnswer(context: ConsoleContext) {
  const snapshot = await context.snapshot(SNAPSHOT_MAX_AGE_MS);
  const { metadata } = snapshot;
  const partitions = metadata.topics.flatMap((t) => t.partitions);
  let messages = 0;
  let sizeBytes = 0;
  for (const topic of metadata.topics) {
    const totals = topicTotals(snapshot, topic);
    messages += totals.messages;
    sizeBytes += totals.sizeBytes;
  }
  const alerts = evaluateAlerts(snapshot, await context.metrics.requestP99Ms(), context.config);
  const latest = context.sampler.clusterHistory.at(-1);
  return {
    clusterId: metadata.clusterId,
    controllerId: metadata.controllerId,
    brokers: metadata.brokers.length,
    topics: metadata.topics.filter((t) => !t.internal).length,
    partitions: partitions.length,
    underReplicatedPartitions: partitions.filter((p) => p.underReplicated).length,
    offlinePartitions: partitions.filter((p) => p.offline).length,
    messages,
    sizeBytes,
    groups: snapshot.groups.length,
    throughput: { recordsPerSecond: latest?.recordsPerSecond ?? null, bytesPerSecond: latest?.bytesPerSecond ?? null, history: context.sampler.clusterHistory },
    disk: snapshot.logDirs.map((d) => ({ broker: d.broker, logDir: d.logDir, totalBytes: d.totalBytes, usableBytes: d.usableBytes, usedRatio: d.totalBytes > 0 && d.usableBytes >= 0 ? 1 - d.usableBytes / d.totalBytes : null })),
    alerts: alerts.map((a) => ({ name: a.name, firing: a.firing, value: a.value, threshold: a.threshold })),
    sampledAtMs: snapshot.takenAtMs,
    samplerError: context.sampler.lastError,
  };
}

export function requireTopicName(raw: string): string {
  let name: string;
  try {
    name = decodeURIComponent(raw);
  } catch {
    throw badParameter('topic', 'is not a valid URL path segment');
  }
  if (!/^[a-zA-Z0-9._-]{1,249}$/.test(name)) throw new ConsoleError('INVALID_TOPIC_EXCEPTION', `'${name}' is not a legal topic name (1-249 of a-z A-Z 0-9 . _ -)`, 400);
  return name;
}
