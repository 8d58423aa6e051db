/**
 * DescribeLogDirs (API key 35), versions 0-4.
 * Answers the broker's one log directory (the data dir, as an absolute path) with the size on disk
 * of each hosted replica asked for (topics null: every one), leader or follower, its offsetLag
 * (how far its HW is ahead of its LEO: 0 once caught up) and isFutureKey false; partitions not
 * hosted are left out, as Kafka.
 * totalBytes and usableBytes (v4, KIP-827) are the file system's size and the bytes still usable
 * on it, from the injected FileSystem's `diskSpace` (statfs on disk); -1, Kafka's "unknown", when
 * the file system cannot tell or the call fails.
 * Deviations: throttleTimeMs is 0.
 * Authorization: Describe on the cluster, else CLUSTER_AUTHORIZATION_FAILED.
 */
import path from 'node:path';
import { AclOperation, ErrorCode, type DescribeLogDirsRequest, type DescribeLogDirsResponseInput } from '@gregor/protocol';
import { isClusterAuthorized } from '../authorization.js';
import type { Broker } from '../broker.js';
import type { RequestContext } from '../context.js';
import type { Entry } from './types.js';

export function handleDescribeLogDirs(broker: Broker, _apiVersion: number, request: DescribeLogDirsRequest, context: RequestContext = {}): DescribeLogDirsResponseInput {
  if (!isClusterAuthorized(broker, context, AclOperation.DESCRIBE)) return { throttleTimeMs: 0, errorCode: ErrorCode.CLUSTER_AUTHORIZATION_FAILED, results: [] };
  const wanted = request.topics === null ? null : new Map(request.topics.map((topic) => [topic.topic, new Set(topic.partitions)]));
  const byTopic = new Map<string, { partitionIndex: number; partitionSize: number; offsetLag: number; isFutureKey: boolean }[]>();
  for (const partition of broker.replicaManager?.all() ?? []) {
    if (wanted !== null && wanted.get(partition.topic)?.has(partition.partitionIndex) !== true) continue;
    const partitions = byTopic.get(partition.topic) ?? [];
    partitions.push({ partitionIndex: partition.partitionIndex, partitionSize: partition.log.sizeBytes, offsetLag: Math.max(partition.highWatermark - partition.logEndOffset, 0), isFutureKey: false });
    byTopic.set(partition.topic, partitions);
  }
  const topics = [...byTopic].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([name, partitions]): Entry<Entry<DescribeLogDirsResponseInput['results']>['topics']> => ({ name, partitions: partitions.sort((a, b) => a.partitionIndex - b.partitionIndex) }));
  const space = diskSpace(broker);
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    results: [{ errorCode: ErrorCode.NONE, logDir: path.resolve(broker.dir), topics, ...space }],
  };
}

function diskSpace(broker: Broker): { totalBytes: number; usableBytes: number } {
  try {
    return broker.fs.diskSpace?.(broker.dir) ?? { totalBytes: -1, usableBytes: -1 };
  } catch {
    return { totalBytes: -1, usableBytes: -1 };
  }
}
