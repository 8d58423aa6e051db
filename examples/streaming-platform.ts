/**
 * The streaming platform (seed 001) on one embedded broker: three producers and three consumer
 * groups, each group with its own pipeline over its own topic.
 *
 *   topic              partitions  producer (key, compression, acks)   group (chunk)   computes
 *   user-events        3           events  (user,    gzip,   all)      analytics (100) counts by event type, purchases, users
 *   application-logs   2           logs    (service, gzip,   1)        alert     (100) errors per service, alerts over a sliding window
 *   system-metrics     4           metrics (host,    snappy, 1)        logger    (500) readings per metric, threshold breaches (CPU > 80%)
 *
 * The data is generated from a seed, one tick every 100 ms, and every record carries its tick's
 * timestamp, so a test can generate the same ticks again and compute what each group must have
 * counted. Groups auto-commit every 5 s and take records with `eachBatch`, processing each batch
 * in chunks of their size. A one-line summary is printed every second (redrawn in place on a
 * terminal) and a final summary at the end. Last, a new group replays user-events from the
 * beginning and must compute the same statistics as the live one: the log is the source of truth.
 *
 *   pnpm example examples/streaming-platform.ts [--duration-ms 10000] [--dir ./data/examples/streaming-platform] [--keep] [--seed 1]
 *                                              [--listen 9092] [--http-port 8080]
 *
 * While it runs, the web console is on http://127.0.0.1:8080/ (`--http-port N` to move it, 0 to
 * turn it off): the three topics filling, a live tail of each, the three groups and their lag.
 */
import { type Consumer, Gregor, type Producer } from 'gregor';
import {
  createStatusLine,
  DURATION_MS_DEFAULT,
  type ExampleOptions,
  ExampleError,
  isRunDirectly,
  type Clients,
  exampleClients,
  prepareDataDir,
  startConsole,
  runFromCommandLine,
  seededRandom,
  sleep,
  type StatusLine,
  waitFor,
  weightedPick,
  withKeepAlive,
} from './lib/common.js';

// ---- topics, generated data and the rules the consumers apply ---------------------------------

export const TOPICS = { events: 'user-events', logs: 'application-logs', metrics: 'system-metrics' } as const;
const PARTITIONS = { events: 3, logs: 2, metrics: 4 } as const;
/** The seed's broker retention: 24 hours and 1 GB (per partition, as Kafka's retention.bytes). */
const RETENTION_MS = 24 * 3600 * 1000;
const RETENTION_BYTES = 1024 * 1024 * 1024;

/** One tick of generated data every TICK_MS; timestamps advance by TICK_MS per tick. */
export const TICK_MS = 100;
export const EVENTS_PER_TICK = 20;
export const LOGS_PER_TICK = 10;
const USERS = 200;

export const EVENT_TYPES = [
  ['page_view', 35], ['click', 25], ['search', 15], ['add_to_cart', 10], ['login', 8], ['purchase', 5], ['signup', 2],
] as const;
export const LOG_LEVELS = [['DEBUG', 20], ['INFO', 50], ['WARN', 20], ['ERROR', 8], ['FATAL', 2]] as const;
export const SERVICES = ['api-gateway', 'user-service', 'order-service', 'payment-service', 'inventory-service', 'notification-service', 'auth-service'] as const;
export const HOSTS = [
  'web-server-01', 'web-server-02', 'web-server-03', 'app-server-01', 'app-server-02',
  'db-server-01', 'db-server-02', 'cache-server-01', 'queue-server-01',
] as const;
export const METRICS = ['cpu', 'memory', 'disk', 'network'] as const;
/** A reading above its threshold is an anomaly (CPU and memory and disk in %, network in Mbit/s). */
export const METRIC_THRESHOLDS: Readonly<Record<Metric, number>> = { cpu: 80, memory: 90, disk: 90, network: 800 };
const METRIC_MAXIMUM: Readonly<Record<Metric, number>> = { cpu: 100, memory: 100, disk: 100, network: 1000 };

/** An alert fires when one service logs this many ERROR/FATAL lines within the window. */
export const ALERT_ERRORS_THRESHOLD = 3;
export const ALERT_WINDOW_MS = 1000;

/** Chunk sizes of the three groups (the seed's batch sizes). */
const CHUNK = { analytics: 100, alert: 100, logger: 500 } as const;
const AUTO_COMMIT_INTERVAL_MS = 5000;
/** How long the groups may take to catch up after the producers stopped. */
const DRAIN_TIMEOUT_MS = 15_000;

export type EventType = (typeof EVENT_TYPES)[number][0];
export type LogLevel = (typeof LOG_LEVELS)[number][0];
export type Metric = (typeof METRICS)[number];

export interface UserEvent { userId: string; type: EventType; amount?: number; timestamp: number }
export interface LogLine { service: string; level: LogLevel; message: string; traceId?: string; timestamp: number }
export interface MetricReading { host: string; metric: Metric; value: number; timestamp: number }

export interface Tick {
  events: UserEvent[];
  logs: LogLine[];
  metrics: MetricReading[];
}

const LOG_MESSAGES: Readonly<Record<LogLevel, readonly string[]>> = {
  DEBUG: ['cache lookup', 'request parsed', 'connection reused'],
  INFO: ['request served', 'user authenticated', 'order accepted', 'job finished'],
  WARN: ['slow response', 'retrying call', 'pool nearly exhausted'],
  ERROR: ['upstream timeout', 'database error', 'payment declined by gateway'],
  FATAL: ['out of memory', 'unrecoverable state'],
};

/**
 * The platform's data, tick by tick, from a seed: user events, log lines and one reading of every
 * metric of every host per tick (a bounded random walk with occasional spikes). The same seed and
 * start time give the same ticks.
 */
export class PlatformGenerator {
  private readonly random: () => number;
  private readonly levels = new Map<string, number>();
  private tickIndex = 0;

  constructor(seed: number, readonly startMs: number) {
    this.random = seededRandom(seed);
    for (const host of HOSTS) for (const metric of METRICS) this.levels.set(`${host}/${metric}`, METRIC_MAXIMUM[metric] * (0.3 + this.random() * 0.3));
  }

  get ticks(): number {
    return this.tickIndex;
  }

  tick(): Tick {
    const baseMs = this.startMs + this.tickIndex * TICK_MS;
    this.tickIndex++;
    const events = Array.from({ length: EVENTS_PER_TICK }, (_, i) => this.event(baseMs + Math.floor((i * TICK_MS) / EVENTS_PER_TICK)));
    const logs = Array.from({ length: LOGS_PER_TICK }, (_, i) => this.logLine(baseMs + Math.floor((i * TICK_MS) / LOGS_PER_TICK)));
    const metrics: MetricReading[] = [];
    for (const host of HOSTS) for (const metric of METRICS) metrics.push(this.reading(host, metric, baseMs));
    return { events, logs, metrics };
  }

  private event(timestamp: number): UserEvent {
    const userId = `user-${String(1 + Math.floor(this.random() * USERS)).padStart(4, '0')}`;
    const type = weightedPick(this.random, EVENT_TYPES);
    const amount = Math.round((5 + this.random() * 195) * 100) / 100;
    return type === 'purchase' ? { userId, type, amount, timestamp } : { userId, type, timestamp };
  }

  private logLine(timestamp: number): LogLine {
    const service = SERVICES[Math.floor(this.random() * SERVICES.length)];
    const level = weightedPick(this.random, LOG_LEVELS);
    const templates = LOG_MESSAGES[level];
    const message = templates[Math.floor(this.random() * templates.length)];
    if (level !== 'ERROR' && level !== 'FATAL') return { service, level, message, timestamp };
    const traceId = Math.floor(this.random() * 0xffffffff).toString(16).padStart(8, '0');
    return { service, level, message, traceId, timestamp };
  }

  private reading(host: string, metric: Metric, timestamp: number): MetricReading {
    const key = `${host}/${metric}`;
    const maximum = METRIC_MAXIMUM[metric];
    const spike = this.random() < 0.03;
    const previous = this.levels.get(key) ?? maximum / 2;
    const next = spike ? maximum * (0.82 + this.random() * 0.18) : Math.min(maximum, Math.max(0, previous + (this.random() - 0.52) * maximum * 0.08));
    this.levels.set(key, spike ? previous : next);
    return { host, metric, value: Math.round(next * 10) / 10, timestamp };
  }
}

// ---- what each group computes ------------------------------------------------------------------

export interface AnalyticsSummary { consumed: number; byType: Record<string, number>; purchases: number; revenue: number; uniqueUsers: number }
export interface AlertSummary { consumed: number; byLevel: Record<string, number>; errorsByService: Record<string, number>; alerts: number; alertsByService: Record<string, number> }
/** How a group's records arrived: batches (one partition's fetched records) and the chunks they were cut into. */
export interface BatchStats { batches: number; largestBatch: number; chunks: number; largestChunk: number }
export interface LoggerSummary { consumed: number; byMetric: Record<string, number>; breaches: Record<string, number>; maxCpuByHost: Record<string, number> }

class Analytics {
  readonly summary: AnalyticsSummary = { consumed: 0, byType: {}, purchases: 0, revenue: 0, uniqueUsers: 0 };
  private readonly users = new Set<string>();

  process(events: UserEvent[]): void {
    const s = this.summary;
    for (const event of events) {
      s.consumed++;
      s.byType[event.type] = (s.byType[event.type] ?? 0) + 1;
      this.users.add(event.userId);
      if (event.type === 'purchase') {
        s.purchases++;
        s.revenue = Math.round((s.revenue + (event.amount ?? 0)) * 100) / 100;
      }
    }
    s.uniqueUsers = this.users.size;
  }
}

/**
 * Errors per service over a sliding window of ALERT_WINDOW_MS (by the records' timestamps): when a
 * service reaches ALERT_ERRORS_THRESHOLD errors within the window an alert fires, and the window
 * starts empty again so one burst raises one alert. A service's lines share a key, hence a
 * partition, so each service's lines arrive in order and the alerts do not depend on timing.
 */
class Alerting {
  readonly summary: AlertSummary = { consumed: 0, byLevel: {}, errorsByService: {}, alerts: 0, alertsByService: {} };
  private readonly windows = new Map<string, number[]>();

  constructor(private readonly onAlert: (service: string, errors: number, atMs: number) => void) {}

  process(lines: LogLine[]): void {
    const s = this.summary;
    for (const line of lines) {
      s.consumed++;
      s.byLevel[line.level] = (s.byLevel[line.level] ?? 0) + 1;
      if (line.level !== 'ERROR' && line.level !== 'FATAL') continue;
      s.errorsByService[line.service] = (s.errorsByService[line.service] ?? 0) + 1;
      this.countError(line.service, line.timestamp);
    }
  }

  private countError(service: string, timestamp: number): void {
    let window = this.windows.get(service);
    if (window === undefined) {
      window = [];
      this.windows.set(service, window);
    }
    window.push(timestamp);
    while (window.length > 0 && window[0] <= timestamp - ALERT_WINDOW_MS) window.shift();
    if (window.length < ALERT_ERRORS_THRESHOLD) return;
    this.summary.alerts++;
    this.summary.alertsByService[service] = (this.summary.alertsByService[service] ?? 0) + 1;
    this.onAlert(service, window.length, timestamp);
    window.length = 0;
  }
}

class MetricsMonitor {
  readonly summary: LoggerSummary = { consumed: 0, byMetric: {}, breaches: {}, maxCpuByHost: {} };

  process(readings: MetricReading[]): void {
    const s = this.summary;
    for (const reading of readings) {
      s.consumed++;
      s.byMetric[reading.metric] = (s.byMetric[reading.metric] ?? 0) + 1;
      if (reading.value > METRIC_THRESHOLDS[reading.metric]) s.breaches[reading.metric] = (s.breaches[reading.metric] ?? 0) + 1;
      if (reading.metric === 'cpu') s.maxCpuByHost[reading.host] = Math.max(s.maxCpuByHost[reading.host] ?? 0, reading.value);
    }
  }
}

// ---- the run -------------------------------------------------------------------------------------

export interface PlatformSummary {
  dir: string;
  /** Where Kafka's protocol was served (`listenPort`), else null. */
  address: { host: string; port: number } | null;
  /** Where the web console was served (`httpPort`), else null. */
  console: { host: string; port: number } | null;
  seed: number;
  /** The generator's start time: with `seed` and `ticks`, it regenerates exactly the data produced. */
  startMs: number;
  ticks: number;
  produced: { events: number; logs: number; metrics: number };
  analytics: AnalyticsSummary;
  alert: AlertSummary;
  logger: LoggerSummary;
  /** A new group reading user-events from the beginning after the run: the log replays whole. */
  replay: AnalyticsSummary;
  batching: { analytics: BatchStats; alert: BatchStats; logger: BatchStats; replay: BatchStats };
}

function emptyStats(): BatchStats {
  return { batches: 0, largestBatch: 0, chunks: 0, largestChunk: 0 };
}

export function main(options: ExampleOptions = {}): Promise<PlatformSummary> {
  return withKeepAlive(() => run(options));
}

async function run(options: ExampleOptions): Promise<PlatformSummary> {
  const status = createStatusLine(options.log);
  const log = status.log;
  const durationMs = options.durationMs ?? DURATION_MS_DEFAULT;
  const seed = options.seed ?? 1;
  const dir = prepareDataDir('streaming-platform', options);
  // Each group has a single member, so the broker need not wait for more before the first rebalance.
  const gregor = await Gregor.open({ dir, config: { groupInitialRebalanceDelayMs: 0 } });
  try {
    const { clients, address } = await exampleClients(gregor, options, TOPICS.events, log);
    const web = await startConsole(gregor, options, log);
    await createTopics(clients, log);
    const analytics = new Analytics();
    const alerting = new Alerting((service, errors, atMs) => log(`ALERT ${service}: ${errors} errors within ${ALERT_WINDOW_MS} ms (at ${new Date(atMs).toISOString()})`));
    const monitor = new MetricsMonitor();
    const batching = { analytics: emptyStats(), alert: emptyStats(), logger: emptyStats(), replay: emptyStats() };
    const consumers = [
      await startGroup(clients, 'analytics-group', TOPICS.events, CHUNK.analytics, batching.analytics, (records: UserEvent[]) => analytics.process(records)),
      await startGroup(clients, 'alert-group', TOPICS.logs, CHUNK.alert, batching.alert, (records: LogLine[]) => alerting.process(records)),
      await startGroup(clients, 'logger-group', TOPICS.metrics, CHUNK.logger, batching.logger, (records: MetricReading[]) => monitor.process(records)),
    ];
    const generator = new PlatformGenerator(seed, Date.now());
    const produced = { events: 0, logs: 0, metrics: 0 };
    const line = () => statusText(generator, produced, analytics.summary, alerting.summary, monitor.summary);
    await producePlatformData(clients, generator, produced, durationMs, status, line);
    const caughtUp = () => analytics.summary.consumed >= produced.events && alerting.summary.consumed >= produced.logs && monitor.summary.consumed >= produced.metrics;
    await waitFor(caughtUp, 'every group to consume what was produced', DRAIN_TIMEOUT_MS).catch((error: unknown) => {
      if (!(error instanceof ExampleError)) throw error;
      log(`! ${error.message}`);
    });
    status.update(line());
    status.end();
    await Promise.all(consumers.map((consumer) => consumer.disconnect()));
    const replay = await replayEvents(clients, produced.events, batching.replay);
    const summary: PlatformSummary = { dir, address, console: web, seed, startMs: generator.startMs, ticks: generator.ticks, produced, analytics: analytics.summary, alert: alerting.summary, logger: monitor.summary, replay, batching };
    printSummary(summary, log);
    return summary;
  } finally {
    await gregor.close();
  }
}

async function createTopics(clients: Clients, log: (line: string) => void): Promise<void> {
  const admin = clients.admin();
  await admin.connect();
  const configEntries = [
    { name: 'retention.ms', value: String(RETENTION_MS) },
    { name: 'retention.bytes', value: String(RETENTION_BYTES) },
  ];
  try {
    await admin.createTopics({
      topics: (Object.keys(TOPICS) as (keyof typeof TOPICS)[]).map((name) => ({ topic: TOPICS[name], numPartitions: PARTITIONS[name], configEntries })),
    });
  } finally {
    await admin.disconnect();
  }
  log(`topics: ${TOPICS.events} (${PARTITIONS.events}), ${TOPICS.logs} (${PARTITIONS.logs}), ${TOPICS.metrics} (${PARTITIONS.metrics}); retention 24 h, 1 GB`);
}

/**
 * One group with one member that takes records a batch at a time and processes each batch in
 * chunks of `chunkSize`, resolving each chunk's last offset so the auto-commit (every 5 s) and a
 * rebalance commit exactly what was processed.
 */
async function startGroup<T>(clients: Clients, groupId: string, topic: string, chunkSize: number, stats: BatchStats, process: (records: T[]) => void): Promise<Consumer> {
  const consumer = clients.consumer({ groupId, maxWaitTimeInMs: 250 });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommitInterval: AUTO_COMMIT_INTERVAL_MS,
    eachBatchAutoResolve: false,
    eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
      stats.batches++;
      stats.largestBatch = Math.max(stats.largestBatch, batch.messages.length);
      for (let start = 0; start < batch.messages.length; start += chunkSize) {
        if (!isRunning() || isStale()) return;
        const chunk = batch.messages.slice(start, start + chunkSize);
        stats.chunks++;
        stats.largestChunk = Math.max(stats.largestChunk, chunk.length);
        process(chunk.map((message) => JSON.parse(String(message.value)) as T));
        resolveOffset(chunk[chunk.length - 1].offset);
        await heartbeat();
      }
    },
  });
  return consumer;
}

/**
 * Event sourcing's promise: the log is durable, so a new group (`analytics-replay`) can read all of
 * user-events from the beginning and compute the same statistics. It starts with the whole topic as
 * backlog, so its batches are large and the 100-record chunking shows.
 */
async function replayEvents(clients: Clients, expected: number, stats: BatchStats): Promise<AnalyticsSummary> {
  const replay = new Analytics();
  const consumer = await startGroup(clients, 'analytics-replay', TOPICS.events, CHUNK.analytics, stats, (records: UserEvent[]) => replay.process(records));
  try {
    await waitFor(() => replay.summary.consumed >= expected, 'the replay of user-events', DRAIN_TIMEOUT_MS);
  } finally {
    await consumer.disconnect();
  }
  return replay.summary;
}

/** The three producers, configured as the seed's: compression, acks and linger per stream. */
function createProducers(clients: Clients): { events: Producer; logs: Producer; metrics: Producer } {
  return {
    events: clients.producer({ compression: 'gzip', acks: -1, lingerMs: 10, batchBytes: 16_384, retry: { retries: 3 } }),
    logs: clients.producer({ compression: 'gzip', acks: 1, lingerMs: 10 }),
    metrics: clients.producer({ compression: 'snappy', acks: 1, lingerMs: 10 }),
  };
}

/** Produces one tick every TICK_MS for `durationMs`, counting acknowledged records in `produced`. */
async function producePlatformData(clients: Clients, generator: PlatformGenerator, produced: PlatformSummary['produced'], durationMs: number, status: StatusLine, line: () => string): Promise<void> {
  const producers = createProducers(clients);
  await Promise.all(Object.values(producers).map((producer) => producer.connect()));
  const startMs = Date.now();
  let nextStatusMs = startMs + 1000;
  try {
    while (Date.now() - startMs < durationMs) {
      const tickStartMs = Date.now();
      const tick = generator.tick();
      await Promise.all([
        producers.events.send({ topic: TOPICS.events, messages: tick.events.map((e) => ({ key: e.userId, value: JSON.stringify(e), timestamp: e.timestamp })) }),
        producers.logs.send({ topic: TOPICS.logs, messages: tick.logs.map((l) => ({ key: l.service, value: JSON.stringify(l), timestamp: l.timestamp })) }),
        producers.metrics.send({ topic: TOPICS.metrics, messages: tick.metrics.map((m) => ({ key: m.host, value: JSON.stringify(m), timestamp: m.timestamp })) }),
      ]);
      produced.events += tick.events.length;
      produced.logs += tick.logs.length;
      produced.metrics += tick.metrics.length;
      if (Date.now() >= nextStatusMs) {
        nextStatusMs += 1000;
        status.update(line());
      }
      await sleep(Math.max(0, TICK_MS - (Date.now() - tickStartMs)));
    }
  } finally {
    await Promise.all(Object.values(producers).map((producer) => producer.disconnect()));
  }
}

function statusText(generator: PlatformGenerator, produced: PlatformSummary['produced'], a: AnalyticsSummary, l: AlertSummary, m: LoggerSummary): string {
  const seconds = ((generator.ticks * TICK_MS) / 1000).toFixed(0).padStart(3);
  return `${seconds}s | events ${a.consumed}/${produced.events} purchases ${a.purchases} | logs ${l.consumed}/${produced.logs} errors ${sum(l.errorsByService)} alerts ${l.alerts} | metrics ${m.consumed}/${produced.metrics} breaches ${sum(m.breaches)}`;
}

function sum(counts: Record<string, number>): number {
  let total = 0;
  for (const value of Object.values(counts)) total += value;
  return total;
}

function printSummary(s: PlatformSummary, log: (line: string) => void): void {
  const batching = (stats: BatchStats) => `${stats.batches} batches (largest ${stats.largestBatch}), ${stats.chunks} chunks (largest ${stats.largestChunk})`;
  log(`analytics-group: ${s.analytics.consumed} of ${s.produced.events} events in ${batching(s.batching.analytics)}; ${s.analytics.uniqueUsers} users; ${s.analytics.purchases} purchases worth ${s.analytics.revenue.toFixed(2)}`);
  log(`  by type: ${formatCounts(s.analytics.byType)}`);
  log(`alert-group: ${s.alert.consumed} of ${s.produced.logs} log lines in ${batching(s.batching.alert)}; ${s.alert.alerts} alerts (${ALERT_ERRORS_THRESHOLD} errors within ${ALERT_WINDOW_MS} ms)`);
  log(`  by level: ${formatCounts(s.alert.byLevel)}; errors by service: ${formatCounts(s.alert.errorsByService)}`);
  log(`logger-group: ${s.logger.consumed} of ${s.produced.metrics} readings in ${batching(s.batching.logger)}; above threshold: ${formatCounts(s.logger.breaches)}`);
  log(`  max CPU by host: ${formatCounts(s.logger.maxCpuByHost)}`);
  const same = JSON.stringify(sortedCounts(s.replay.byType)) === JSON.stringify(sortedCounts(s.analytics.byType));
  log(`analytics-replay (a new group, from the beginning): ${s.replay.consumed} events in ${batching(s.batching.replay)}; counts by type ${same ? 'match' : 'DIFFER FROM'} the live group's`);
}

function sortedCounts(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function formatCounts(counts: Record<string, number>): string {
  return sortedCounts(counts)
    .map(([name, count]) => `${name}=${count}`)
    .join(' ') || '(none)';
}

if (isRunDirectly(import.meta.url)) {
  runFromCommandLine(import.meta.url, {
    description: 'Three topics, three producers, and analytics, alert and logger consumer groups on one broker, with a live summary.',
    run: ({ common }) => main(common),
  });
}
