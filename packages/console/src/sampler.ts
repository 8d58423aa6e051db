/**
 * Samples the cluster every `sampleIntervalMs` for what only time shows: records and bytes per
 * second per topic ("throughput now", the difference of two samples' high watermarks and log
 * sizes) and each group's lag over time. Keeps `historySamples` points per series, so memory is
 * bounded by that times the number of topics and groups followed (`groupsSampledMax`). Runs one
 * sample at a time (the next is scheduled when one ends); its timer does not keep the process up.
 */
import { partitionKey } from './cluster-reader.js';
import type { ConsoleConfig } from './config.js';
import { type ClusterSnapshot, isGroupDetail } from './snapshot.js';

export interface Rate {
  recordsPerSecond: number;
  bytesPerSecond: number;
}

export interface ThroughputPoint extends Rate {
  timeMs: number;
}

export interface LagPoint {
  timeMs: number;
  lag: number;
}

interface TopicTotals {
  records: number;
  bytes: number;
}

export class Sampler {
  /** Per topic, from the last two samples. */
  readonly topicRates = new Map<string, Rate>();
  readonly clusterHistory: ThroughputPoint[] = [];
  readonly lagHistory = new Map<string, LagPoint[]>();
  lastError: string | null = null;
  latest: ClusterSnapshot | null = null;
  private previous: { timeMs: number; totals: Map<string, TopicTotals> } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly config: ConsoleConfig,
    private readonly snapshot: () => Promise<ClusterSnapshot>,
  ) {}

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** Takes one sample now (tests, and the first page load). */
  async sampleNow(): Promise<void> {
    if (this.running !== null) return this.running;
    this.running = this.sample().finally(() => {
      this.running = null;
    });
    return this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.sampleNow().finally(() => this.schedule(this.config.sampleIntervalMs));
    }, delayMs);
    this.timer.unref();
  }

  private async sample(): Promise<void> {
    let snapshot: ClusterSnapshot;
    try {
      snapshot = await this.snapshot();
      this.lastError = null;
    } catch (error) {
      this.lastError = (error as { code?: string }).code ?? (error as Error).message;
      return;
    }
    this.record(snapshot);
  }

  /** Folds a snapshot into the rates and histories. */
  record(snapshot: ClusterSnapshot): void {
    this.latest = snapshot;
    const totals = topicTotals(snapshot);
    const previous = this.previous;
    if (previous !== null && snapshot.takenAtMs > previous.timeMs) {
      const seconds = (snapshot.takenAtMs - previous.timeMs) / 1000;
      let records = 0;
      let bytes = 0;
      this.topicRates.clear();
      for (const [topic, now] of totals) {
        const before = previous.totals.get(topic);
        // Retention and compaction shrink logs; a rate is never negative.
        const rate = before === undefined ? { recordsPerSecond: 0, bytesPerSecond: 0 } : { recordsPerSecond: Math.max(0, now.records - before.records) / seconds, bytesPerSecond: Math.max(0, now.bytes - before.bytes) / seconds };
        this.topicRates.set(topic, rate);
        records += rate.recordsPerSecond;
        bytes += rate.bytesPerSecond;
      }
      push(this.clusterHistory, { timeMs: snapshot.takenAtMs, recordsPerSecond: records, bytesPerSecond: bytes }, this.config.historySamples);
    }
    this.previous = { timeMs: snapshot.takenAtMs, totals };
    for (const [groupId, detail] of snapshot.groupDetails) {
      if (!isGroupDetail(detail)) continue;
      let series = this.lagHistory.get(groupId);
      if (series === undefined) {
        if (this.lagHistory.size >= this.config.groupsSampledMax) continue;
        this.lagHistory.set(groupId, (series = []));
      }
      push(series, { timeMs: snapshot.takenAtMs, lag: detail.lag }, this.config.historySamples);
    }
    // Groups that are gone stop taking memory.
    for (const groupId of this.lagHistory.keys()) if (!snapshot.groups.some((g) => g.groupId === groupId)) this.lagHistory.delete(groupId);
  }
}

function push<T>(series: T[], point: T, max: number): void {
  series.push(point);
  if (series.length > max) series.splice(0, series.length - max);
}

function topicTotals(snapshot: ClusterSnapshot): Map<string, TopicTotals> {
  const totals = new Map<string, TopicTotals>();
  for (const topic of snapshot.metadata.topics) {
    let records = 0;
    let bytes = 0;
    for (const p of topic.partitions) {
      records += snapshot.offsets.get(partitionKey(topic.name, p.partition))?.highWatermark ?? 0;
      // Bytes counted once per partition: the leader's copy.
      for (const dir of snapshot.logDirs) if (dir.broker === p.leader) bytes += dir.partitionBytes.get(partitionKey(topic.name, p.partition)) ?? 0;
    }
    totals.set(topic.name, { records, bytes });
  }
  return totals;
}
