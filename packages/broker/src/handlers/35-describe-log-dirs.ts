/**
 * DescribeLogDirs (API key 35), versions 0-4.
 * Answers the broker's one log directory (the data dir, as an absolute path) with the size on disk
 * of each partition asked for (topics null: every partition), offsetLag 0 (the leader's own
 * replica) and isFutureKey false; partitions not hosted are left out, as Kafka.
 * Deviations: totalBytes and usableBytes (v4) are -1, Kafka's "unknown" (the file system
 * interface does not report free space); throttleTimeMs is 0.
 */
import path from 'node:path';
import { ErrorCode, type DescribeLogDirsRequest, type DescribeLogDirsResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body } from '../context.js';

export function handleDescribeLogDirs(broker: Broker, _apiVersion: number, body: Body): DescribeLogDirsResponseInput {
  const request = body as DescribeLogDirsRequest;
  const wanted = request.topics === null ? null : new Map(request.topics.map((topic) => [topic.topic, new Set(topic.partitions)]));
  const topics = [];
  for (const topic of broker.topics.values()) {
    const partitions = topic.partitions
      .filter((partition) => wanted === null || wanted.get(topic.name)?.has(partition.partitionIndex) === true)
      .map((partition) => ({ partitionIndex: partition.partitionIndex, partitionSize: partition.log.sizeBytes, offsetLag: Math.max(partition.highWatermark - partition.logEndOffset, 0), isFutureKey: false }));
    if (partitions.length > 0) topics.push({ name: topic.name, partitions });
  }
  return {
    throttleTimeMs: 0,
    errorCode: ErrorCode.NONE,
    results: [{ errorCode: ErrorCode.NONE, logDir: path.resolve(broker.dir), topics, totalBytes: -1, usableBytes: -1 }],
  };
}
