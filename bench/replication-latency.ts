/**
 * Part (c) of `pnpm bench replication` (issue 8): produce-to-consume latency at a steady rate on
 * the bench's three-process cluster, measured by `gregor perf latency --json` in a process of its
 * own (as Kafka's EndToEndLatency tool runs), so the bench's own heap, grown by the throughput
 * parts before, does not stall the measurement. A topic with replication factor 3, acks=all and
 * min.insync.replicas 2, beside a replication-factor-1 topic with acks=all in the same run:
 * `--latency-rate` records a second (default 10,000) of `--record-bytes`, linger.ms 0 (Kafka's
 * EndToEndLatency tool's setting), the consumer in its default long poll, `--latency-warmup-seconds`
 * (default 3) not counted, then `--latency-seconds` (default 15) measured. Each row's note gives
 * the settings, the rate offered, the counts and the load average when the run ended.
 */
import { spawn } from 'node:child_process';
import os from 'node:os';
import type { Admin } from '@gregor/client';
import { GREGOR_NODE_FLAGS } from '../packages/gregor/src/node-flags.js';
import type { EndToEndLatencyReport } from '../packages/gregor/src/perf/end-to-end-latency.js';
import type { Row } from './row.js';

export interface LatencyBenchOptions {
  /** The `gregor` command (packages/gregor/bin/gregor.js) and the cluster's bootstrap servers. */
  cli: string;
  bootstrap: string;
  rate: number;
  recordBytes: number;
  warmupSeconds: number;
  seconds: number;
  /** Waits until the new topic's partition has a leader and its full ISR. */
  ready: (topic: string, replicationFactor: number) => Promise<void>;
}

const LINGER_MS = 0;
/** Beyond the run itself: start, group join and the final drain. */
const SLACK_MS = 90_000;

/** One `gregor perf latency --json` run, ended by its pid if it outlives its time. */
async function measureOne(topic: string, options: LatencyBenchOptions): Promise<{ report: EndToEndLatencyReport; load: string }> {
  const args = [
    options.cli, 'perf', 'latency', '--bootstrap-server', options.bootstrap, '--topic', topic, '--acks', 'all',
    '--rate', String(options.rate), '--record-size', String(options.recordBytes), '--linger-ms', String(LINGER_MS),
    '--warmup', String(options.warmupSeconds), '--duration', String(options.seconds), '--json',
  ];
  const child = spawn(process.execPath, [...GREGOR_NODE_FLAGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The bench ends on SIGINT/SIGTERM by exiting (after its nodes): this process goes with it.
  const kill = () => {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
  };
  process.once('exit', kill);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-8192);
  });
  const timer = setTimeout(kill, (options.warmupSeconds + options.seconds) * 1000 + SLACK_MS);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve(exitCode));
    });
    if (code !== 0) throw new Error(`gregor perf latency --topic ${topic} exited with ${code}:\n${stderr}`);
    return { report: JSON.parse(stdout) as EndToEndLatencyReport, load: os.loadavg().map((value) => value.toFixed(2)).join(' ') };
  } finally {
    clearTimeout(timer);
    process.off('exit', kill);
    kill();
  }
}

export async function latencyRows(admin: Admin, options: LatencyBenchOptions): Promise<Row[]> {
  const topics = [
    { topic: 'latency-rf1', replicationFactor: 1, minIsr: 1 },
    { topic: 'latency-rf3', replicationFactor: 3, minIsr: 2 },
  ];
  await admin.createTopics({
    topics: topics.map(({ topic, replicationFactor, minIsr }) => ({ topic, numPartitions: 1, replicationFactor, configEntries: [{ name: 'min.insync.replicas', value: String(minIsr) }] })),
  });
  for (const { topic, replicationFactor } of topics) await options.ready(topic, replicationFactor);
  const rf1 = await measureOne('latency-rf1', options);
  const rf3 = await measureOne('latency-rf3', options);
  const label = 'RF3 acks=all, min.insync.replicas 2';
  const base = 'replication factor 1 (acks=all)';
  const rate = options.rate.toLocaleString('en-US');
  const counts = (run: { report: EndToEndLatencyReport; load: string }) =>
    `${run.report.received}/${run.report.sent} received, ${Math.round(run.report.offeredRate).toLocaleString('en-US')} records/s offered, p99.9 ${run.report.endToEnd.p999.toFixed(2)} ms, max ${run.report.endToEnd.max.toFixed(2)} ms, ack p99 ${run.report.acknowledgement.p99.toFixed(2)} ms; load average ${run.load}`;
  const settings = `${options.recordBytes} B records, one partition, linger.ms ${LINGER_MS}, consumer defaults (long poll), ${options.warmupSeconds} s warm-up then ${options.seconds} s; gregor perf latency in its own process; 3 node processes`;
  return [
    { name: `produce-to-consume latency p50 at ${rate} records/s, ${label}`, value: rf3.report.endToEnd.p50, unit: 'ms', baseline: rf1.report.endToEnd.p50, baselineName: base, note: settings },
    { name: `produce-to-consume latency p99 at ${rate} records/s, ${label}`, value: rf3.report.endToEnd.p99, unit: 'ms', baseline: rf1.report.endToEnd.p99, baselineName: base, note: `RF3: ${counts(rf3)}. RF1: ${counts(rf1)}` },
  ];
}
