/**
 * One consistent look at the cluster, taken through the broker's APIs (see cluster-reader.ts):
 * metadata, every partition's log start offset and high watermark, the log directories, and the
 * consumer groups with their lag (at most `groupsSampledMax` described). The sampler takes one per
 * period, `/metrics` and `/api/stats` share one taken within the last second, so a scrape costs a
 * bounded number of requests however often it comes.
 */
import type { ClusterMetadata, ClusterReader, LogDirInfo, PartitionOffsets } from './cluster-reader.js';
import type { ConsoleConfig } from './config.js';
import { describeGroup, type GroupDetail, type GroupSummary, listGroups } from './groups.js';

export interface ClusterSnapshot {
  takenAtMs: number;
  metadata: ClusterMetadata;
  offsets: Map<string, PartitionOffsets>;
  logDirs: LogDirInfo[];
  groups: GroupSummary[];
  /** The described groups (the first groupsSampledMax by name), or why one could not be described. */
  groupDetails: Map<string, GroupDetail | { error: string }>;
}

export async function takeSnapshot(reader: ClusterReader, config: ConsoleConfig, nowMs: () => number): Promise<ClusterSnapshot> {
  const metadata = await reader.metadata();
  const brokerIds = metadata.brokers.map((b) => b.nodeId);
  const [offsets, logDirs, groups] = await Promise.all([reader.offsets(metadata.topics), reader.logDirs(metadata.brokers), listGroups(reader, brokerIds)]);
  const groupDetails = new Map<string, GroupDetail | { error: string }>();
  await Promise.all(
    groups.slice(0, config.groupsSampledMax).map(async (group) => {
      try {
        groupDetails.set(group.groupId, await describeGroup(reader, group.groupId, metadata.topics));
      } catch (error) {
        groupDetails.set(group.groupId, { error: (error as { code?: string }).code ?? (error as Error).message });
      }
    }),
  );
  return { takenAtMs: nowMs(), metadata, offsets, logDirs, groups, groupDetails };
}

/** Hands out a snapshot no older than `maxAgeMs`, sharing one in-flight read among callers. */
export class SnapshotCache {
  private latest: { atMs: number; snapshot: Promise<ClusterSnapshot> } | null = null;

  constructor(
    private readonly take: () => Promise<ClusterSnapshot>,
    private readonly nowMs: () => number,
  ) {}

  get(maxAgeMs: number): Promise<ClusterSnapshot> {
    const now = this.nowMs();
    if (this.latest === null || now - this.latest.atMs > maxAgeMs) {
      const snapshot = this.take();
      const entry = { atMs: now, snapshot };
      this.latest = entry;
      // A failed read is not cached: the next caller tries again.
      snapshot.catch(() => {
        if (this.latest === entry) this.latest = null;
      });
    }
    return this.latest.snapshot;
  }

  /** Offers a snapshot taken elsewhere (the sampler's), so the next caller need not read again. */
  offer(snapshot: ClusterSnapshot): void {
    this.latest = { atMs: snapshot.takenAtMs, snapshot: Promise.resolve(snapshot) };
  }
}

export function isGroupDetail(entry: GroupDetail | { error: string } | undefined): entry is GroupDetail {
  return entry !== undefined && !('error' in entry);
}
