/**
 * Reads records as a consumer without a group does: Fetch (read_uncommitted, up to the high
 * watermark) sent to the partition's leader, record batches decoded by the client's decoder, which
 * checks CRCs and bounds decompression. Used by `/api/messages` (no wait) and the live tail (a long
 * poll of `tailWaitMs`). No state: the caller keeps the positions.
 */
import { type Cluster, decodeFetchedRecords } from '@gregor/client';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { errorName, type TopicMetadata } from './cluster-reader.js';

/** A decoded record as the client's consumer decodes it (lazy key and value views). */
export type FetchedMessage = ReturnType<typeof decodeFetchedRecords>['list'][number];

export interface FetchedPartition {
  partition: number;
  messages: FetchedMessage[];
  /** Where the next read of this partition starts (after the last batch seen, control batches included). */
  nextOffset: number;
  highWatermark: number;
  logStartOffset: number;
  /** Kafka's error name when the leader refused (OFFSET_OUT_OF_RANGE, NOT_LEADER_OR_FOLLOWER, ...). */
  error: string | null;
}

export interface FetchOptions {
  maxBytes: number;
  maxWaitMs: number;
  /** Bytes a decompressed batch may take (the client's guard against compression bombs). */
  decompressedBytesMax: number;
}

/** One Fetch to one leader for some partitions of one topic at the given offsets. */
export async function fetchPartitions(cluster: Cluster, topic: TopicMetadata, leader: number, positions: ReadonlyMap<number, number>, options: FetchOptions): Promise<FetchedPartition[]> {
  const partitionMaxBytes = Math.max(1, Math.floor(options.maxBytes / Math.max(1, positions.size)));
  const response = await cluster.request(
    ApiKey.Fetch,
    {
      replicaId: -1,
      maxWaitMs: options.maxWaitMs,
      minBytes: options.maxWaitMs > 0 ? 1 : 0,
      maxBytes: options.maxBytes,
      isolationLevel: 0,
      sessionId: 0,
      sessionEpoch: -1,
      topics: [
        {
          topic: topic.name,
          topicId: topic.topicId,
          partitions: [...positions].map(([partition, fetchOffset]) => ({ partition, currentLeaderEpoch: -1, fetchOffset, lastFetchedEpoch: -1, logStartOffset: -1, partitionMaxBytes })),
        },
      ],
      forgottenTopicsData: [],
      rackId: '',
    },
    { nodeId: leader },
  );
  if (response.errorCode) return [...positions].map(([partition, offset]) => failed(partition, offset, errorName(response.errorCode)));
  const out: FetchedPartition[] = [];
  for (const topicResponse of response.responses) {
    for (const p of topicResponse.partitions) {
      const fetchOffset = positions.get(p.partitionIndex);
      if (fetchOffset === undefined) continue;
      if (p.errorCode !== ErrorCode.NONE) {
        out.push({ ...failed(p.partitionIndex, fetchOffset, errorName(p.errorCode)), highWatermark: p.highWatermark, logStartOffset: p.logStartOffset });
        continue;
      }
      const records: Buffer | null = p.records;
      const decoded = records === null || records.length === 0 ? { list: [], nextPosition: fetchOffset } : decodeFetchedRecords(fetchOffset, records, p.abortedTransactions ?? null, options.decompressedBytesMax);
      out.push({ partition: p.partitionIndex, messages: decoded.list, nextOffset: decoded.nextPosition, highWatermark: p.highWatermark, logStartOffset: p.logStartOffset, error: null });
    }
  }
  return out;
}

function failed(partition: number, offset: number, error: string): FetchedPartition {
  return { partition, messages: [], nextOffset: offset, highWatermark: -1, logStartOffset: -1, error };
}
