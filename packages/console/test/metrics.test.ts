import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '@gregor/server';
import { type ConsoleFixture, eventually, startConsole } from './support.js';

let fixture: ConsoleFixture;

interface Family {
  name: string;
  type: string;
  metrics: { labels?: Record<string, string>; value?: string; buckets?: Record<string, string>; quantiles?: Record<string, string>; count?: string }[];
}

async function scrape(): Promise<{ text: string; families: Map<string, Family> }> {
  const response = await fetch(`${fixture.base}/metrics`);
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await response.text();
  const families = new Map((parsePrometheusTextFormat(text) as Family[]).map((f) => [f.name, f]));
  return { text, families };
}

function value(families: Map<string, Family>, name: string, labels: Record<string, string> = {}): number {
  const family = families.get(name);
  if (family === undefined) throw new Error(`no metric ${name}`);
  const metric = family.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v));
  if (metric === undefined) throw new Error(`no ${name} with ${JSON.stringify(labels)}`);
  return Number(metric.value);
}

beforeAll(async () => {
  fixture = await startConsole();
  const admin = fixture.gregor.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'metered', numPartitions: 2 }] });
  const producer = fixture.gregor.producer();
  await producer.connect();
  await producer.send({ topic: 'metered', messages: Array.from({ length: 12 }, (_, i) => ({ key: `k${i}`, value: 'v'.repeat(10) })) });
  await admin.setOffsets({ groupId: 'metered-readers', topic: 'metered', partitions: [{ partition: 0, offset: 0 }, { partition: 1, offset: 0 }] });
  // One read of everything, through the console's own reader (a Fetch per partition leader).
  const read = (await (await fetch(`${fixture.base}/api/messages/metered?offset=0&limit=100`)).json()) as { records: unknown[] };
  expect(read.records).toHaveLength(12);
  // Requests over the Kafka listener, so the network metrics have something to count.
  const { Client } = await import('@gregor/client');
  const remote = new Client({ brokers: [`127.0.0.1:${fixture.gregor.address!.port}`] }).admin();
  await remote.connect();
  await remote.listTopics();
  await remote.disconnect();
});

afterAll(async () => {
  await fixture?.close();
});

describe('/metrics', () => {
  it('parses as Prometheus text and names series as the JMX exporter and kafka-exporter do', async () => {
    // Offsets come from a snapshot up to a second old (shared by pages and scrapes): wait for one taken after the produce.
    const hwSum = (f: Map<string, Family>) => (f.get('kafka_topic_partition_current_offset')?.metrics ?? []).filter((m) => m.labels?.topic === 'metered').reduce((sum, m) => sum + Number(m.value), 0);
    const { families } = await eventually(scrape, ({ families: f }) => hwSum(f) === 12);
    expect(value(families, 'kafka_server_brokertopicmetrics_messagesin_total', { topic: 'metered' })).toBe(12);
    expect(value(families, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'metered' })).toBeGreaterThan(120);
    // The consumer read all 12 records once: records and bytes out per topic.
    expect(value(families, 'gregor_server_brokertopicmetrics_messagesout_total', { topic: 'metered' })).toBe(12);
    expect(value(families, 'kafka_server_brokertopicmetrics_bytesout_total', { topic: 'metered' })).toBe(value(families, 'kafka_server_brokertopicmetrics_bytesin_total', { topic: 'metered' }));
    const endOffsets = families.get('kafka_log_log_logendoffset')!.metrics.filter((m) => m.labels?.topic === 'metered');
    expect(endOffsets.reduce((sum, m) => sum + Number(m.value), 0)).toBe(12);
    expect(value(families, 'kafka_log_log_numlogsegments', { topic: 'metered', partition: '0' })).toBe(1);
    expect(value(families, 'kafka_log_log_size', { topic: 'metered', partition: '0' })).toBeGreaterThan(0);
    expect(value(families, 'kafka_log_log_logstartoffset', { topic: 'metered', partition: '1' })).toBe(0);
    const hw0 = value(families, 'kafka_topic_partition_current_offset', { topic: 'metered', partition: '0' });
    expect(hw0 + value(families, 'kafka_topic_partition_current_offset', { topic: 'metered', partition: '1' })).toBe(12);
    expect(value(families, 'kafka_consumergroup_lag', { consumergroup: 'metered-readers', topic: 'metered', partition: '0' })).toBe(hw0);
    expect(value(families, 'kafka_consumergroup_lag_sum', { consumergroup: 'metered-readers', topic: 'metered' })).toBe(12);
    expect(value(families, 'gregor_consumergroup_lag_total', { consumergroup: 'metered-readers' })).toBe(12);
    expect(value(families, 'kafka_server_replicamanager_underreplicatedpartitions')).toBe(0);
    expect(value(families, 'kafka_controller_kafkacontroller_offlinepartitionscount')).toBe(0);
    expect(value(families, 'kafka_controller_kafkacontroller_activecontrollercount')).toBe(1);
    expect(value(families, 'kafka_server_replicamanager_isrshrinks_total')).toBe(0);
    expect(value(families, 'kafka_brokers')).toBe(1);
    expect(value(families, 'gregor_console_up')).toBe(1);
    expect(value(families, 'gregor_log_dir_total_bytes')).toBeGreaterThan(0);
  });

  it('has request latency by API key as Kafka percentiles and as a histogram, connections, memory accounts and the process', async () => {
    const { families } = await scrape();
    const { text } = await scrape();
    expect(families.get('kafka_network_requestmetrics_totaltimems')?.type).toBe('SUMMARY');
    expect(families.get('gregor_network_request_duration_seconds')?.type).toBe('HISTOGRAM');
    // This parser drops the other labels of summary and histogram samples: read those lines directly.
    for (const quantile of ['0.5', '0.75', '0.95', '0.98', '0.99', '0.999']) {
      expect(text).toMatch(new RegExp(`^kafka_network_requestmetrics_totaltimems\\{quantile="${quantile}",request="Metadata"\\} [0-9.e-]+$`, 'm'));
    }
    expect(text).toMatch(/^kafka_network_requestmetrics_totaltimems_count\{request="Metadata"\} [1-9]/m);
    expect(text).toMatch(/^gregor_network_request_duration_seconds_bucket\{le="\+Inf",request="ApiVersions"\} [1-9]/m);
    expect(value(families, 'kafka_network_requestmetrics_requests_total', { request: 'Metadata' })).toBeGreaterThanOrEqual(1);
    expect(value(families, 'kafka_server_socket_server_metrics_connection_creation_total', { listener: 'PLAINTEXT' })).toBeGreaterThanOrEqual(1);
    expect(value(families, 'kafka_server_socket_server_metrics_connection_count', { listener: 'PLAINTEXT' })).toBe(0);
    // The server's memory accounts (h-memory's), kept under the same names.
    expect(value(families, 'kafka_network_socketserver_memorypoolused')).toBe(0);
    expect(value(families, 'kafka_network_socketserver_memorypoolavailable')).toBe(256 * 1024 * 1024);
    expect(value(families, 'gregor_server_response_bytes_queued')).toBe(0);
    expect(value(families, 'gregor_server_connections_waiting_for_memory')).toBe(0);
    expect(value(families, 'process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(families.has('nodejs_eventloop_lag_p99_seconds')).toBe(true);
    expect(families.has('nodejs_heap_size_used_bytes')).toBe(true);
  });

  it('passes promtool check metrics (Prometheus\'s own parser and linter)', async () => {
    const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => fs.existsSync(p));
    if (promtool === undefined) {
      // CI installs it (.ci/run); a developer machine without it still has the parser test above.
      expect(process.env.CI, 'promtool is missing in CI: .ci/run installs the prometheus package').toBeUndefined();
      return;
    }
    const { text } = await scrape();
    // promtool exits 1 for lint findings too (a gauge named `..._count`, as Kafka's
    // connection-count maps to, or prom-client's `nodejs_active_handles_total`); a text that does
    // not parse is reported as an error instead of findings.
    const result = spawnSync(promtool, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    expect(result.error).toBeUndefined();
    const findings = `${result.stdout}${result.stderr}`;
    expect(findings).not.toMatch(/error|pars/i);
    for (const line of findings.split('\n').filter((l) => l.trim() !== '')) expect(line).toMatch(/^\S+ (non-histogram and non-summary metrics should not have "_(count|sum)" suffix|non-counter metrics should not have "_total" suffix)$/);
  });

  it('a console started before the Kafka listener is healthy, and reports the listener once it is up', async () => {
    const embedded = await startConsole({}, { kafkaListener: false });
    try {
      const health = await fetch(`${embedded.base}/health`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', kafka: null });
      const before = await (await fetch(`${embedded.base}/metrics`)).text();
      expect(before).not.toMatch(/^kafka_server_socket_server_metrics_connection_count\{/m);
      const { port } = await embedded.gregor.listen({ port: 0, logger: silentLogger });
      const after = await (await fetch(`${embedded.base}/metrics`)).text();
      expect(after).toMatch(/^kafka_server_socket_server_metrics_connection_count\{listener="PLAINTEXT",networkprocessor="0"\} 0$/m);
      expect(((await (await fetch(`${embedded.base}/health`)).json()) as { kafka: { port: number } }).kafka.port).toBe(port);
    } finally {
      await embedded.close();
    }
  });
});
