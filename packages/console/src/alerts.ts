/**
 * The seed pipeline's four alerts, evaluated by the console on the same data Prometheus would
 * evaluate the rules of docs/prometheus/gregor-alerts.yml on: a group's total lag above
 * `alertConsumerLagMax`, under-replicated partitions above `alertUnderReplicatedPartitionsMax`, a
 * request type's 99th percentile time above `alertRequestLatencyP99MsMax`, a log directory's file
 * system more used than `alertDiskUsedRatioMax`. Request types that wait by design (a long-poll
 * Fetch, JoinGroup and SyncGroup parked for a rebalance) are left out of the latency check, as the
 * rule leaves them out.
 */
import type { ConsoleConfig } from './config.js';
import { type ClusterSnapshot, isGroupDetail } from './snapshot.js';

export const WAITING_REQUESTS: ReadonlySet<string> = new Set(['Fetch', 'JoinGroup', 'SyncGroup']);

export interface AlertCheck {
  /** The alert's name, as in the Prometheus rules. */
  name: string;
  summary: string;
  threshold: number;
  /** The worst value seen (null when nothing could be measured). */
  value: number | null;
  firing: boolean;
  /** One line per offender (or a note on what could not be measured). */
  details: string[];
}

export function evaluateAlerts(snapshot: ClusterSnapshot, requestP99Ms: ReadonlyMap<string, number>, config: ConsoleConfig): AlertCheck[] {
  return [lagCheck(snapshot, config), underReplicatedCheck(snapshot, config), latencyCheck(requestP99Ms, config), diskCheck(snapshot, config)];
}

function lagCheck(snapshot: ClusterSnapshot, config: ConsoleConfig): AlertCheck {
  let worst: number | null = null;
  const details: string[] = [];
  for (const [groupId, detail] of snapshot.groupDetails) {
    if (!isGroupDetail(detail)) continue;
    worst = Math.max(worst ?? 0, detail.lag);
    if (detail.lag > config.alertConsumerLagMax) details.push(`${groupId}: lag ${detail.lag}`);
  }
  return { name: 'KafkaConsumerLagHigh', summary: `consumer group lag above ${config.alertConsumerLagMax} messages`, threshold: config.alertConsumerLagMax, value: worst, firing: details.length > 0, details };
}

function underReplicatedCheck(snapshot: ClusterSnapshot, config: ConsoleConfig): AlertCheck {
  const details: string[] = [];
  for (const topic of snapshot.metadata.topics) {
    for (const p of topic.partitions) if (p.underReplicated) details.push(`${topic.name}-${p.partition}: ISR [${p.isr.join(',')}] of replicas [${p.replicas.join(',')}]`);
  }
  const count = details.length;
  return {
    name: 'KafkaUnderReplicatedPartitions',
    summary: `under-replicated partitions above ${config.alertUnderReplicatedPartitionsMax}`,
    threshold: config.alertUnderReplicatedPartitionsMax,
    value: count,
    firing: count > config.alertUnderReplicatedPartitionsMax,
    details: count > config.alertUnderReplicatedPartitionsMax ? details : [],
  };
}

function latencyCheck(requestP99Ms: ReadonlyMap<string, number>, config: ConsoleConfig): AlertCheck {
  let worst: number | null = null;
  const details: string[] = [];
  for (const [request, p99] of requestP99Ms) {
    if (WAITING_REQUESTS.has(request) || Number.isNaN(p99)) continue;
    worst = Math.max(worst ?? 0, p99);
    if (p99 > config.alertRequestLatencyP99MsMax) details.push(`${request}: p99 ${p99.toFixed(1)} ms`);
  }
  return { name: 'KafkaRequestLatencyP99High', summary: `request time p99 above ${config.alertRequestLatencyP99MsMax} ms`, threshold: config.alertRequestLatencyP99MsMax, value: worst, firing: details.length > 0, details };
}

function diskCheck(snapshot: ClusterSnapshot, config: ConsoleConfig): AlertCheck {
  let worst: number | null = null;
  const details: string[] = [];
  for (const dir of snapshot.logDirs) {
    if (dir.totalBytes <= 0 || dir.usableBytes < 0) {
      details.push(`broker ${dir.broker} ${dir.logDir}: free space unknown`);
      continue;
    }
    const used = 1 - dir.usableBytes / dir.totalBytes;
    worst = Math.max(worst ?? 0, used);
    if (used > config.alertDiskUsedRatioMax) details.push(`broker ${dir.broker} ${dir.logDir}: ${(used * 100).toFixed(1)} % used`);
  }
  const firing = worst !== null && worst > config.alertDiskUsedRatioMax;
  return { name: 'KafkaBrokerDiskUsageHigh', summary: `broker disk usage above ${config.alertDiskUsedRatioMax * 100} %`, threshold: config.alertDiskUsedRatioMax, value: worst, firing, details: firing ? details.filter((d) => !d.endsWith('unknown')) : details.filter((d) => d.endsWith('unknown')) };
}
