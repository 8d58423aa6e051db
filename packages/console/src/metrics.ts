/**
 * `/metrics`: one prom-client Registry per console, in Prometheus text format 0.0.4.
 *
 * Names follow Kafka's JMX MBeans as the Prometheus JMX exporter's Kafka rules map them
 * (`kafka.server:type=BrokerTopicMetrics,name=BytesInPerSec,topic=T` → `kafka_server_brokertopicmetrics_bytesin_total{topic}`),
 * and the cluster-wide series as kafka-exporter names them (`kafka_consumergroup_lag`, `kafka_topic_partition_current_offset`);
 * Gregor's own additions start with `gregor_`. docs/metrics.md lists every series.
 *
 * Where each series comes from:
 *   - counters of this process's broker and server, from diagnostics channels: `gregor:broker:produce`
 *     (bytes and records in), `gregor:broker:fetch` (bytes out), `gregor:broker:isr` (ISR shrinks
 *     and expands), `gregor:server:connection` and `gregor:server:request` (connections, request
 *     counts and times). The channels are process-wide, so two brokers in one process share them;
 *   - this broker's partitions (`LocalBroker`): the log gauges of each local replica (Kafka's
 *     kafka.log:type=Log MBeans are per broker too);
 *   - the cluster, read through the broker's APIs (a snapshot shared with /api/stats, at most one a
 *     second): partition offsets and replicas, group lag, the under-replicated partitions this
 *     broker leads, the log directories' space;
 *   - the process: prom-client's default collectors (memory, event-loop delay, GC, handles).
 * Label sets are bounded by topics × partitions, groups (groupsSampledMax) and API keys.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { ApiKey } from '@gregor/protocol';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import { partitionKey } from './cluster-reader.js';
import { type ClusterSnapshot, isGroupDetail } from './snapshot.js';

/** A partition replica this process's broker holds, as its log sees it. */
export interface LocalPartitionStats {
  topic: string;
  partition: number;
  logStartOffset: number;
  logEndOffset: number;
  sizeBytes: number;
  segmentCount: number;
}

/** What the console may ask of the broker in its own process: its id, and its replicas' log gauges. */
export interface LocalBroker {
  readonly nodeId: number;
  partitions(): Iterable<LocalPartitionStats>;
}

/** What the console reads of the Kafka listener in its process (a `@gregor/server` Server). */
export interface NetworkServer {
  readonly isListening: boolean;
  readonly address: { host: string; port: number } | undefined;
  readonly connectionCount: number;
  readonly memoryUsage: { requestBytesCharged: number; requestBytesClaimed: number; responseBytes: number; waitingConnections: number };
  readonly config: { queuedMaxRequestBytes: number };
}

interface ProduceEvent {
  topic: string;
  errorCode: number;
  bytes: number;
  baseOffset?: number;
  lastOffset?: number;
}
interface FetchEvent {
  bytes: number;
  /** A follower's fetch: replication, not bytes out (as Kafka counts them). */
  replica?: boolean;
  /** Per topic, when the broker reports it. */
  topics?: { topic: string; bytes: number; records?: number }[];
}
interface IsrEvent {
  topic: string;
  partition: number;
  change: 'shrink' | 'expand';
}
interface ConnectionEvent {
  event: 'open' | 'close' | 'refused';
}
interface RequestEvent {
  apiKey: number;
  apiVersion: number;
  durationMs: number;
  failed?: string;
}

const API_NAMES = new Map<number, string>(Object.entries(ApiKey).map(([name, key]) => [key, name]));
export function requestName(apiKey: number): string {
  return API_NAMES.get(apiKey) ?? `ApiKey${apiKey}`;
}

/** Kafka's Histogram MBeans report these percentiles (50th, 75th, 95th, 98th, 99th, 999th). */
const KAFKA_PERCENTILES = [0.5, 0.75, 0.95, 0.98, 0.99, 0.999];
const LISTENER = { listener: 'PLAINTEXT', networkprocessor: '0' };

export interface ConsoleMetricsOptions {
  snapshot: () => Promise<ClusterSnapshot>;
  local?: LocalBroker;
  /** Asked at each scrape: the Kafka listener, or undefined while there is none. */
  server?: () => NetworkServer | undefined;
}

export class ConsoleMetrics {
  readonly registry = new Registry();
  private readonly subscriptions: [string, (message: unknown) => void][] = [];
  private readonly requestTime: Summary<'request'>;
  private started = false;

  constructor(private readonly options: ConsoleMetricsOptions) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });

    const bytesIn = new Counter({ name: 'kafka_server_brokertopicmetrics_bytesin_total', help: 'Bytes produced to this broker, per topic (kafka.server BrokerTopicMetrics BytesInPerSec).', labelNames: ['topic'], registers });
    const messagesIn = new Counter({ name: 'kafka_server_brokertopicmetrics_messagesin_total', help: 'Records appended by Produce on this broker, per topic (BrokerTopicMetrics MessagesInPerSec).', labelNames: ['topic'], registers });
    const bytesOut = new Counter({ name: 'kafka_server_brokertopicmetrics_bytesout_total', help: 'Bytes of records answered to consumers\' Fetch by this broker, all topics (no label) and per topic (BrokerTopicMetrics BytesOutPerSec).', labelNames: ['topic'], registers });
    const replicationBytesOut = new Counter({ name: 'kafka_server_brokertopicmetrics_replicationbytesout_total', help: 'Bytes of records answered to followers\' Fetch by this broker (BrokerTopicMetrics ReplicationBytesOutPerSec).', registers });
    const messagesOut = new Counter({ name: 'gregor_server_brokertopicmetrics_messagesout_total', help: 'Records answered to consumers\' Fetch by this broker, per topic (Kafka has no MBean for it).', labelNames: ['topic'], registers });
    const failedProduce = new Counter({ name: 'kafka_server_brokertopicmetrics_failedproducerequests_total', help: 'Produce partitions answered with an error (BrokerTopicMetrics FailedProduceRequestsPerSec).', labelNames: ['topic'], registers });
    const isrShrinks = new Counter({ name: 'kafka_server_replicamanager_isrshrinks_total', help: 'ISR shrinks of partitions this broker leads (ReplicaManager IsrShrinksPerSec).', registers });
    const isrExpands = new Counter({ name: 'kafka_server_replicamanager_isrexpands_total', help: 'ISR expansions of partitions this broker leads (ReplicaManager IsrExpandsPerSec).', registers });
    const connectionsCreated = new Counter({ name: 'kafka_server_socket_server_metrics_connection_creation_total', help: 'Connections accepted (socket-server-metrics connection-creation-total).', labelNames: ['listener', 'networkprocessor'], registers });
    const connectionsClosed = new Counter({ name: 'kafka_server_socket_server_metrics_connection_close_total', help: 'Connections closed (socket-server-metrics connection-close-total).', labelNames: ['listener', 'networkprocessor'], registers });
    const connectionsRefused = new Counter({ name: 'gregor_server_connections_refused_total', help: 'Connections refused at max.connections.', registers });
    const requests = new Counter({ name: 'kafka_network_requestmetrics_requests_total', help: 'Requests answered, by API and version (RequestMetrics RequestsPerSec).', labelNames: ['request', 'version'], registers });
    const requestErrors = new Counter({ name: 'kafka_network_requestmetrics_errors_total', help: 'Requests the broker failed as a whole, by API and error (RequestMetrics ErrorsPerSec).', labelNames: ['request', 'error'], registers });
    this.requestTime = new Summary({
      name: 'kafka_network_requestmetrics_totaltimems',
      help: 'Request time in ms from dispatch to answer, by API, over the last 5 minutes (RequestMetrics TotalTimeMs; Kafka\'s percentiles).',
      labelNames: ['request'],
      percentiles: KAFKA_PERCENTILES,
      maxAgeSeconds: 300,
      ageBuckets: 5,
      registers,
    });
    const requestSeconds = new Histogram({
      name: 'gregor_network_request_duration_seconds',
      help: 'Request time from dispatch to answer, by API, as a Prometheus histogram (aggregates across brokers with histogram_quantile).',
      labelNames: ['request'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });

    this.subscribe('gregor:broker:produce', (message) => {
      const event = message as ProduceEvent;
      if (event.errorCode !== 0) {
        failedProduce.inc({ topic: event.topic });
        return;
      }
      bytesIn.inc({ topic: event.topic }, event.bytes);
      if (event.baseOffset !== undefined && event.lastOffset !== undefined) messagesIn.inc({ topic: event.topic }, event.lastOffset - event.baseOffset + 1);
    });
    this.subscribe('gregor:broker:fetch', (message) => {
      const event = message as FetchEvent;
      if (event.replica === true) {
        replicationBytesOut.inc(event.bytes);
        return;
      }
      // Kafka's BrokerTopicMetrics has an all-topics series (no topic label) beside the per-topic ones.
      bytesOut.inc(event.bytes);
      for (const t of event.topics ?? []) {
        bytesOut.inc({ topic: t.topic }, t.bytes);
        if (t.records !== undefined) messagesOut.inc({ topic: t.topic }, t.records);
      }
    });
    this.subscribe('gregor:broker:isr', (message) => ((message as IsrEvent).change === 'shrink' ? isrShrinks : isrExpands).inc());
    this.subscribe('gregor:server:connection', (message) => {
      const event = (message as ConnectionEvent).event;
      if (event === 'open') connectionsCreated.inc(LISTENER);
      else if (event === 'close') connectionsClosed.inc(LISTENER);
      else connectionsRefused.inc();
    });
    this.subscribe('gregor:server:request', (message) => {
      const event = message as RequestEvent;
      const request = requestName(event.apiKey);
      requests.inc({ request, version: String(event.apiVersion) });
      if (event.failed !== undefined) requestErrors.inc({ request, error: event.failed });
      this.requestTime.observe({ request }, event.durationMs);
      requestSeconds.observe({ request }, event.durationMs / 1000);
    });

    if (options.server !== undefined) this.registerServerGauges(options.server);
    if (options.local !== undefined) this.registerLocalGauges(options.local);
    this.registerClusterGauges();
  }

  /** Subscribes to the diagnostics channels; until then the counters stay at zero. */
  start(): this {
    if (this.started) return this;
    this.started = true;
    for (const [name, handler] of this.subscriptions) diagnosticsChannel.subscribe(name, handler);
    return this;
  }

  stop(): void {
    if (!this.started) return;
    this.started = false;
    for (const [name, handler] of this.subscriptions) diagnosticsChannel.unsubscribe(name, handler);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** The 99th percentile request time in ms by API over the summary's window (for the console's alert check). */
  async requestP99Ms(): Promise<Map<string, number>> {
    const result = new Map<string, number>();
    for (const value of (await this.requestTime.get()).values) {
      const labels = value.labels as { request?: string; quantile?: number };
      if (labels.quantile === 0.99 && typeof labels.request === 'string') result.set(labels.request, value.value);
    }
    return result;
  }

  private subscribe(name: string, handler: (message: unknown) => void): void {
    this.subscriptions.push([name, handler]);
  }

  private registerServerGauges(serverNow: () => NetworkServer | undefined): void {
    const registers = [this.registry];
    const gauge = (name: string, help: string, read: (server: NetworkServer) => number, labels: Record<string, string> = {}) =>
      new Gauge({
        name,
        help,
        labelNames: Object.keys(labels),
        registers,
        collect() {
          this.reset();
          const server = serverNow();
          // No listener (yet): no sample.
          if (server !== undefined) this.set(labels, read(server));
        },
      });
    gauge('kafka_server_socket_server_metrics_connection_count', 'Open client connections (socket-server-metrics connection-count).', (server) => server.connectionCount, LISTENER);
    // The server's memory accounts (docs/decisions.md, "The server's memory").
    gauge('kafka_network_socketserver_memorypoolused', 'Request bytes charged to queued.max.request.bytes (SocketServer MemoryPoolUsed).', (server) => server.memoryUsage.requestBytesCharged);
    gauge('kafka_network_socketserver_memorypoolavailable', 'Room left in queued.max.request.bytes (SocketServer MemoryPoolAvailable).', (server) => server.config.queuedMaxRequestBytes - server.memoryUsage.requestBytesCharged);
    gauge('gregor_server_request_bytes_claimed', 'Request bytes held or claimed by all connections, reserves included.', (server) => server.memoryUsage.requestBytesClaimed);
    gauge('gregor_server_response_bytes_queued', 'Answer bytes produced and not yet taken by the clients.', (server) => server.memoryUsage.responseBytes);
    gauge('gregor_server_connections_waiting_for_memory', 'Connections waiting for room in the shared budgets.', (server) => server.memoryUsage.waitingConnections);
  }

  private registerLocalGauges(local: LocalBroker): void {
    const registers = [this.registry];
    const fields = [
      ['kafka_log_log_logendoffset', 'Log end offset of each local replica (kafka.log Log LogEndOffset).', 'logEndOffset'],
      ['kafka_log_log_logstartoffset', 'Log start offset of each local replica (Log LogStartOffset).', 'logStartOffset'],
      ['kafka_log_log_size', 'Bytes of each local replica\'s segments (Log Size).', 'sizeBytes'],
      ['kafka_log_log_numlogsegments', 'Segments of each local replica (Log NumLogSegments).', 'segmentCount'],
    ] as const;
    for (const [name, help, field] of fields) {
      new Gauge({
        name,
        help,
        labelNames: ['topic', 'partition'],
        registers,
        collect() {
          this.reset();
          for (const p of local.partitions()) this.set({ topic: p.topic, partition: String(p.partition) }, p[field]);
        },
      });
    }
  }

  private registerClusterGauges(): void {
    const registers = [this.registry];
    const snapshot = () => this.options.snapshot();
    const nodeId = this.options.local?.nodeId;
    type Setter = (snapshot: ClusterSnapshot, set: (labels: Record<string, string>, value: number) => void) => void;
    const gauge = (name: string, help: string, labelNames: string[], fill: Setter) =>
      new Gauge({
        name,
        help,
        labelNames,
        registers,
        async collect() {
          this.reset();
          let taken: ClusterSnapshot;
          try {
            taken = await snapshot();
          } catch {
            // The broker did not answer: no values rather than a failed scrape (gregor_console_up says so).
            return;
          }
          fill(taken, (labels, value) => (labelNames.length === 0 ? this.set(value) : this.set(labels, value)));
        },
      });
    new Gauge({
      name: 'gregor_console_up',
      help: '1 when the console read the cluster for this scrape, 0 when the broker did not answer.',
      registers,
      async collect() {
        try {
          await snapshot();
          this.set(1);
        } catch {
          this.set(0);
        }
      },
    });
    const eachPartition = (s: ClusterSnapshot, visit: (topic: string, p: ClusterSnapshot['metadata']['topics'][number]['partitions'][number]) => void) => {
      for (const t of s.metadata.topics) for (const p of t.partitions) visit(t.name, p);
    };
    // This broker's view, as Kafka's per-broker MBeans (needs to know which broker it is).
    if (nodeId !== undefined) {
      const ledHere = (s: ClusterSnapshot) => s.metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leader === nodeId));
      gauge('kafka_server_replicamanager_underreplicatedpartitions', 'Partitions this broker leads whose ISR is smaller than their replicas (ReplicaManager UnderReplicatedPartitions).', [], (s, set) => set({}, ledHere(s).filter((p) => p.underReplicated).length));
      gauge('kafka_server_replicamanager_leadercount', 'Partitions this broker leads (ReplicaManager LeaderCount).', [], (s, set) => set({}, ledHere(s).length));
      gauge('kafka_server_replicamanager_partitioncount', 'Partitions with a replica on this broker (ReplicaManager PartitionCount).', [], (s, set) => set({}, s.metadata.topics.reduce((n, t) => n + t.partitions.filter((p) => p.replicas.includes(nodeId)).length, 0)));
      gauge('kafka_controller_kafkacontroller_activecontrollercount', '1 on the active controller (KafkaController ActiveControllerCount).', [], (s, set) => set({}, s.metadata.controllerId === nodeId ? 1 : 0));
      gauge('kafka_controller_kafkacontroller_offlinepartitionscount', 'Partitions without a leader, reported by the active controller (KafkaController OfflinePartitionsCount).', [], (s, set) => {
        let offline = 0;
        eachPartition(s, (_, p) => (offline += p.offline ? 1 : 0));
        set({}, s.metadata.controllerId === nodeId ? offline : 0);
      });
      gauge('gregor_log_dir_total_bytes', 'Size of the file system holding each of this broker\'s log directories (DescribeLogDirs totalBytes; absent when unknown).', ['logdir'], (s, set) => {
        for (const d of s.logDirs) if (d.broker === nodeId && d.totalBytes >= 0) set({ logdir: d.logDir }, d.totalBytes);
      });
      gauge('gregor_log_dir_usable_bytes', 'Bytes still usable on the file system of each of this broker\'s log directories (DescribeLogDirs usableBytes).', ['logdir'], (s, set) => {
        for (const d of s.logDirs) if (d.broker === nodeId && d.usableBytes >= 0) set({ logdir: d.logDir }, d.usableBytes);
      });
    }
    // The cluster, as kafka-exporter reports it (the same on every broker's /metrics).
    gauge('kafka_brokers', 'Brokers in the cluster (kafka-exporter).', [], (s, set) => set({}, s.metadata.brokers.length));
    gauge('kafka_topic_partitions', 'Partitions of each topic (kafka-exporter).', ['topic'], (s, set) => {
      for (const t of s.metadata.topics) set({ topic: t.name }, t.partitions.length);
    });
    gauge('kafka_topic_partition_current_offset', 'High watermark of each partition, from its leader (kafka-exporter).', ['topic', 'partition'], (s, set) =>
      eachPartition(s, (topic, p) => {
        const hw = s.offsets.get(partitionKey(topic, p.partition))?.highWatermark;
        if (hw !== null && hw !== undefined) set({ topic, partition: String(p.partition) }, hw);
      }),
    );
    gauge('kafka_topic_partition_oldest_offset', 'Log start offset of each partition, from its leader (kafka-exporter).', ['topic', 'partition'], (s, set) =>
      eachPartition(s, (topic, p) => {
        const start = s.offsets.get(partitionKey(topic, p.partition))?.logStartOffset;
        if (start !== null && start !== undefined) set({ topic, partition: String(p.partition) }, start);
      }),
    );
    gauge('kafka_topic_partition_leader', 'Leader broker of each partition, -1 when offline (kafka-exporter).', ['topic', 'partition'], (s, set) => eachPartition(s, (topic, p) => set({ topic, partition: String(p.partition) }, p.leader)));
    gauge('kafka_topic_partition_replicas', 'Replicas of each partition (kafka-exporter).', ['topic', 'partition'], (s, set) => eachPartition(s, (topic, p) => set({ topic, partition: String(p.partition) }, p.replicas.length)));
    gauge('kafka_topic_partition_in_sync_replica', 'In-sync replicas of each partition (kafka-exporter).', ['topic', 'partition'], (s, set) => eachPartition(s, (topic, p) => set({ topic, partition: String(p.partition) }, p.isr.length)));
    gauge('kafka_topic_partition_under_replicated_partition', '1 when a partition\'s ISR is smaller than its replicas (kafka-exporter).', ['topic', 'partition'], (s, set) => eachPartition(s, (topic, p) => set({ topic, partition: String(p.partition) }, p.underReplicated ? 1 : 0)));
    gauge('gregor_cluster_underreplicatedpartitions', 'Under-replicated partitions in the whole cluster.', [], (s, set) => {
      let count = 0;
      eachPartition(s, (_, p) => (count += p.underReplicated ? 1 : 0));
      set({}, count);
    });
    gauge('gregor_cluster_offlinepartitions', 'Partitions without a leader in the whole cluster.', [], (s, set) => {
      let count = 0;
      eachPartition(s, (_, p) => (count += p.offline ? 1 : 0));
      set({}, count);
    });
    gauge('kafka_consumergroup_current_offset', 'Committed offset of each group per partition (kafka-exporter).', ['consumergroup', 'topic', 'partition'], (s, set) => {
      for (const [groupId, d] of s.groupDetails) {
        if (!isGroupDetail(d)) continue;
        for (const p of d.partitions) if (p.committedOffset !== null) set({ consumergroup: groupId, topic: p.topic, partition: String(p.partition) }, p.committedOffset);
      }
    });
    gauge('kafka_consumergroup_lag', 'Lag of each group per partition: high watermark minus committed offset (kafka-exporter).', ['consumergroup', 'topic', 'partition'], (s, set) => {
      for (const [groupId, d] of s.groupDetails) {
        if (!isGroupDetail(d)) continue;
        for (const p of d.partitions) if (p.lag !== null) set({ consumergroup: groupId, topic: p.topic, partition: String(p.partition) }, p.lag);
      }
    });
    gauge('kafka_consumergroup_lag_sum', 'Lag of each group per topic, summed over partitions (kafka-exporter).', ['consumergroup', 'topic'], (s, set) => {
      for (const [groupId, d] of s.groupDetails) {
        if (!isGroupDetail(d)) continue;
        const byTopic = new Map<string, number>();
        for (const p of d.partitions) byTopic.set(p.topic, (byTopic.get(p.topic) ?? 0) + (p.lag ?? 0));
        for (const [topic, lag] of byTopic) set({ consumergroup: groupId, topic }, lag);
      }
    });
    gauge('gregor_consumergroup_lag_total', 'Lag of each group over all its partitions.', ['consumergroup'], (s, set) => {
      for (const [groupId, d] of s.groupDetails) if (isGroupDetail(d)) set({ consumergroup: groupId }, d.lag);
    });
    gauge('kafka_consumergroup_members', 'Members of each group (kafka-exporter).', ['consumergroup'], (s, set) => {
      for (const [groupId, d] of s.groupDetails) if (isGroupDetail(d)) set({ consumergroup: groupId }, d.members.length);
    });
  }
}
