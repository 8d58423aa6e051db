/**
 * The runnable examples under `examples/`, each run through its `main` on a temporary data
 * directory for a few seconds, checked by the summary it returns: the quickstart resumes at the
 * committed offsets, the trades pipeline keeps order per symbol with no duplicates across a group
 * of three, and the streaming platform's groups count exactly what the seeded generator produced.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { partitionForKey } from '@gregor/client';
import { afterEach, describe, expect, it } from 'vitest';
import { ExampleError, prepareDataDir } from '../../../examples/lib/common.js';
import { main as quickstart } from '../../../examples/quickstart.js';
import {
  ALERT_ERRORS_THRESHOLD,
  ALERT_WINDOW_MS,
  EVENTS_PER_TICK,
  HOSTS,
  LOGS_PER_TICK,
  type LogLine,
  main as streamingPlatform,
  type PlatformSummary,
  METRIC_THRESHOLDS,
  METRICS,
  PlatformGenerator,
  type Tick,
} from '../../../examples/streaming-platform.js';
import { SYMBOLS, main as tradesPipeline, PARTITIONS as TRADES_PARTITIONS } from '../../../examples/trades-pipeline.js';

const directories: string[] = [];
function temporaryDir(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `gregor-example-${name}-`));
  directories.push(dir);
  return dir;
}

/** Each example runs for seconds on a shared machine; give every test room beyond vitest's 30 s. */
const EXAMPLE_TEST_TIMEOUT_MS = 60_000;

afterEach(() => {
  for (const dir of directories.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

describe('examples/lib/common', () => {
  it('empties a data directory at start but refuses to delete a directory that is not one', () => {
    const dataDir = temporaryDir('data');
    fs.writeFileSync(path.join(dataDir, 'meta.properties'), 'version=1\n');
    expect(prepareDataDir('x', { dir: dataDir })).toBe(dataDir);
    expect(fs.readdirSync(dataDir)).toEqual([]);
    const other = temporaryDir('other');
    fs.writeFileSync(path.join(other, 'precious.txt'), 'keep me');
    expect(() => prepareDataDir('x', { dir: other })).toThrow(ExampleError);
    expect(fs.readdirSync(other)).toEqual(['precious.txt']);
  });
});

describe('examples/quickstart', () => {
  it('resumes the group after reopening the directory exactly at the offsets it committed', async () => {
    const lines: string[] = [];
    const summary = await quickstart({ dir: temporaryDir('quickstart'), durationMs: 15_000, log: (line) => lines.push(line) });
    expect(summary.firstRun.consumed).toHaveLength(10);
    expect(Object.values(summary.firstRun.committed).reduce((a, b) => a + b, 0)).toBe(10);
    expect(summary.secondRun.consumed.map((r) => r.value).sort()).toEqual(Array.from({ length: 5 }, (_, i) => `welcome back user-${i}`).sort());
    for (const [partition, offset] of Object.entries(summary.secondRun.firstOffsetByPartition)) {
      expect(offset).toBe(summary.firstRun.committed[Number(partition)]);
    }
    expect(summary.resumedAtCommitted).toBe(true);
    expect(lines.some((line) => line.includes('exactly after the committed offsets'))).toBe(true);
  }, EXAMPLE_TEST_TIMEOUT_MS);
});

describe('examples/trades-pipeline', () => {
  it('consumes every trade once, in sequence per symbol, across three members holding disjoint partitions', async () => {
    const summary = await tradesPipeline({ dir: temporaryDir('trades'), durationMs: 2500, rate: 2000, log: () => {} });
    expect(summary.produced).toBeGreaterThan(0);
    expect(summary.consumed).toBe(summary.produced);
    expect(summary.duplicates).toBe(0);
    expect(summary.missing).toBe(0);
    expect(summary.orderViolations).toBe(0);
    expect(summary.symbolsOnSeveralPartitions).toBe(0);
    // Keyed by symbol with Kafka's default partitioner: murmur2 of the key, as the Java client and kafkajs.
    for (const [symbol, partition] of Object.entries(summary.partitionOfSymbol)) {
      expect(SYMBOLS).toContain(symbol);
      expect(partition).toBe(partitionForKey(Buffer.from(symbol), TRADES_PARTITIONS));
    }
    expect(summary.members).toHaveLength(3);
    for (const member of summary.members) expect(member.partitions.length).toBeGreaterThan(0);
    const all = summary.members.flatMap((m) => m.partitions).sort((a, b) => a - b);
    expect(all).toEqual(Array.from({ length: TRADES_PARTITIONS }, (_, i) => i));
    expect(summary.assignmentDisjoint && summary.assignmentCoversAll).toBe(true);
    expect(summary.members.reduce((total, m) => total + m.consumed, 0)).toBe(summary.produced);
  }, EXAMPLE_TEST_TIMEOUT_MS);

  it('keeps the same guarantees with JSON values and clients connected over TCP', async () => {
    const summary = await tradesPipeline({ dir: temporaryDir('trades-tcp'), durationMs: 1000, rate: 2000, format: 'json', transport: 'tcp', log: () => {} });
    expect(summary.address?.port).toBeGreaterThan(0);
    expect(summary.produced).toBeGreaterThan(0);
    expect(summary.consumed).toBe(summary.produced);
    expect(summary.orderViolations + summary.duplicates + summary.missing).toBe(0);
    expect(summary.assignmentDisjoint && summary.assignmentCoversAll).toBe(true);
  }, EXAMPLE_TEST_TIMEOUT_MS);
});

/** Alerts recomputed from scratch: per service, an alert at each error that is the threshold-th error since the last alert within the window. */
function referenceAlerts(logs: LogLine[]): number {
  const errorTimesByService = new Map<string, number[]>();
  for (const line of logs) {
    if (line.level !== 'ERROR' && line.level !== 'FATAL') continue;
    errorTimesByService.set(line.service, [...(errorTimesByService.get(line.service) ?? []), line.timestamp]);
  }
  let alerts = 0;
  for (const times of errorTimesByService.values()) {
    let since = 0;
    for (let i = 0; i < times.length; i++) {
      const inWindow = times.slice(since, i + 1).filter((t) => t > times[i] - ALERT_WINDOW_MS).length;
      if (inWindow >= ALERT_ERRORS_THRESHOLD) {
        alerts++;
        since = i + 1;
      }
    }
  }
  return alerts;
}

function countBy<T>(items: T[], key: (item: T) => string | null): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) {
    const name = key(item);
    if (name !== null) counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

describe('examples/streaming-platform', () => {
  // One run serves both tests (each run costs seconds); started by the first test that needs it.
  const seed = 7;
  let run: Promise<PlatformSummary> | undefined;
  const platformRun = () => (run ??= streamingPlatform({ dir: temporaryDir('platform'), durationMs: 2500, seed, log: () => {} }));

  it('counts in each group exactly the records the seeded generator produced, alerts included', async () => {
    const summary = await platformRun();
    expect(summary.ticks).toBeGreaterThan(0);
    const generator = new PlatformGenerator(seed, summary.startMs);
    const ticks: Tick[] = Array.from({ length: summary.ticks }, () => generator.tick());
    const events = ticks.flatMap((t) => t.events);
    const logs = ticks.flatMap((t) => t.logs);
    const metrics = ticks.flatMap((t) => t.metrics);

    expect(summary.produced).toEqual({ events: summary.ticks * EVENTS_PER_TICK, logs: summary.ticks * LOGS_PER_TICK, metrics: summary.ticks * HOSTS.length * METRICS.length });
    expect(summary.analytics.consumed).toBe(events.length);
    expect(summary.alert.consumed).toBe(logs.length);
    expect(summary.logger.consumed).toBe(metrics.length);

    expect(summary.analytics.byType).toEqual(countBy(events, (e) => e.type));
    expect(summary.analytics.purchases).toBe(events.filter((e) => e.type === 'purchase').length);
    expect(summary.analytics.uniqueUsers).toBe(new Set(events.map((e) => e.userId)).size);
    expect(summary.alert.byLevel).toEqual(countBy(logs, (l) => l.level));
    expect(summary.alert.errorsByService).toEqual(countBy(logs, (l) => (l.level === 'ERROR' || l.level === 'FATAL' ? l.service : null)));
    expect(summary.alert.alerts).toBe(referenceAlerts(logs));
    expect(summary.logger.breaches).toEqual(countBy(metrics, (m) => (m.value > METRIC_THRESHOLDS[m.metric] ? m.metric : null)));
  }, EXAMPLE_TEST_TIMEOUT_MS);

  it('replays user-events whole into a new group, cutting its large batches into chunks of 100', async () => {
    const summary = await platformRun();
    expect(summary.replay).toEqual(summary.analytics);
    const { analytics, alert, logger, replay } = summary.batching;
    for (const [stats, size] of [[analytics, 100], [alert, 100], [logger, 500], [replay, 100]] as const) {
      expect(stats.largestChunk).toBeLessThanOrEqual(size);
      expect(stats.largestChunk).toBe(Math.min(stats.largestBatch, size));
    }
    // The replay starts with the whole topic as backlog: batches beyond 100 records, so several chunks each.
    expect(replay.largestBatch).toBeGreaterThan(100);
    expect(replay.chunks).toBeGreaterThanOrEqual(Math.ceil(summary.replay.consumed / 100));
  }, EXAMPLE_TEST_TIMEOUT_MS);
});
