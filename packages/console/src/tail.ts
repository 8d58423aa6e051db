/**
 * The live tail: `GET /api/tail/<topic>` answers with server-sent events, one `records` event per
 * Fetch that brought matching records, as they arrive (a long-poll Fetch of `tailWaitMs` to each
 * partition's leader). Each stream reads on its own from its own positions: the high watermarks
 * when it opened, or `positions=0:15,1:20` (where an `/api/messages` answer stopped), so a page
 * that first lists recent records and then tails misses nothing in between. Filters and the field
 * format are those of `/api/messages`.
 *
 * Bounds: at most `tailStreamsMax` streams (503 beyond); one event carries at most
 * `responseBytesMax` of record bytes (a larger Fetch is split over several events); a client that
 * does not take its events (more than `responseBytesMax` waiting in the socket) is disconnected
 * rather than buffered. Streams end when the client goes, the topic disappears, or the console
 * closes (within `tailWaitMs`, the in-flight Fetch). One async loop per stream; nothing shared.
 */
import type http from 'node:http';
import { type ClusterReader, partitionKey, type TopicMetadata } from './cluster-reader.js';
import type { ConsoleConfig } from './config.js';
import { badParameter, ConsoleError } from './errors.js';
import { filterParameters, formatParameter, partitionParameter } from './messages.js';
import { fetchPartitions } from './partition-fetcher.js';
import { type FieldFormat, matches, type RecordFilter, type RecordView, viewRecord } from './record-view.js';

const TAIL_PARAMETERS = new Set(['partition', 'offset', 'end_offset', 'timestamp', 'to_timestamp', 'search', 'key', 'format', 'positions']);
const METADATA_REFRESH_MS = 5000;

interface TailQuery {
  partitions: number[] | null;
  filter: RecordFilter;
  format: FieldFormat;
  positions: Map<number, number> | null;
}

function parseTailQuery(params: URLSearchParams, topic: TopicMetadata): TailQuery {
  for (const name of params.keys()) if (!TAIL_PARAMETERS.has(name)) throw badParameter(name, `is not known; the parameters are ${[...TAIL_PARAMETERS].join(', ')}`);
  let positions: Map<number, number> | null = null;
  const raw = params.get('positions');
  if (raw !== null && raw !== '') {
    positions = new Map();
    for (const item of raw.split(',')) {
      const match = /^(\d+):(\d+)$/.exec(item);
      if (match === null) throw badParameter('positions', `must be partition:offset pairs separated by commas, got '${item}'`);
      const partition = Number(match[1]);
      if (partition >= topic.partitions.length) throw badParameter('positions', `names partition ${partition}; ${topic.name} has ${topic.partitions.length}`);
      positions.set(partition, Number(match[2]));
    }
  }
  return { partitions: partitionParameter(params, topic), filter: filterParameters(params), format: formatParameter(params), positions };
}

export class TailStreams {
  private readonly streams = new Set<TailStream>();

  constructor(
    private readonly reader: ClusterReader,
    private readonly config: ConsoleConfig,
  ) {}

  get size(): number {
    return this.streams.size;
  }

  /** Starts a stream on `response`, or throws a ConsoleError (400 bad parameters, 503 too many streams) before any byte is sent. */
  open(topic: TopicMetadata, params: URLSearchParams, request: http.IncomingMessage, response: http.ServerResponse): void {
    const query = parseTailQuery(params, topic);
    if (this.streams.size >= this.config.tailStreamsMax) throw new ConsoleError('TOO_MANY_TAIL_STREAMS', `${this.config.tailStreamsMax} live tails are open (tailStreamsMax)`, 503);
    const stream = new TailStream(this.reader, this.config, topic, query, response);
    this.streams.add(stream);
    const end = () => {
      stream.stop();
      this.streams.delete(stream);
    };
    request.on('close', end);
    response.on('close', end);
    stream.run().finally(end);
  }

  async close(): Promise<void> {
    const running = [...this.streams].map((s) => s.stop());
    this.streams.clear();
    await Promise.all(running);
  }
}

class TailStream {
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private keepAlive: NodeJS.Timeout | null = null;
  private topic: TopicMetadata;
  private metadataAtMs = 0;

  constructor(
    private readonly reader: ClusterReader,
    private readonly config: ConsoleConfig,
    topic: TopicMetadata,
    private readonly query: TailQuery,
    private readonly response: http.ServerResponse,
  ) {
    this.topic = topic;
  }

  run(): Promise<void> {
    this.loop = this.read();
    return this.loop;
  }

  async stop(): Promise<void> {
    if (!this.stopped) {
      this.stopped = true;
      if (this.keepAlive !== null) clearInterval(this.keepAlive);
      if (!this.response.writableEnded) this.response.end();
    }
    await this.loop;
  }

  private send(event: string, data: unknown): void {
    if (this.stopped || this.response.writableEnded) return;
    this.response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    // A client that does not read: stop rather than buffer without bound.
    if (this.response.writableLength > this.config.responseBytesMax) {
      this.response.write(`event: error\ndata: ${JSON.stringify({ error: 'SLOW_CLIENT', message: 'the client did not take its events; reconnect to go on' })}\n\n`);
      void this.stop();
    }
  }

  private async read(): Promise<void> {
    this.response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    this.keepAlive = setInterval(() => {
      if (!this.response.writableEnded) this.response.write(': keep-alive\n\n');
    }, this.config.tailKeepAliveMs);
    this.keepAlive.unref();
    const positions = await this.startPositions();
    this.send('ready', { topic: this.topic.name, positions: Object.fromEntries(positions) });
    while (!this.stopped) {
      if (Date.now() - this.metadataAtMs > METADATA_REFRESH_MS) {
        const refreshed = (await this.reader.metadata([this.topic.name]).catch(() => null))?.topics.find((t) => t.name === this.topic.name);
        if (refreshed === undefined) {
          this.send('error', { error: 'UNKNOWN_TOPIC_OR_PARTITION', message: `topic '${this.topic.name}' no longer exists` });
          break;
        }
        this.topic = refreshed;
        this.metadataAtMs = Date.now();
        // Partitions added while tailing are read from their start.
        for (const p of refreshed.partitions) if (!positions.has(p.partition) && this.follows(p.partition)) positions.set(p.partition, 0);
      }
      await this.readRound(positions);
    }
  }

  private follows(partition: number): boolean {
    return this.query.partitions === null || this.query.partitions.includes(partition);
  }

  private async startPositions(): Promise<Map<number, number>> {
    const followed = this.topic.partitions.filter((p) => this.follows(p.partition));
    const positions = new Map<number, number>();
    const offsets = await this.reader.offsets([{ ...this.topic, partitions: followed }]);
    this.metadataAtMs = Date.now();
    for (const p of followed) {
      const given = this.query.positions?.get(p.partition);
      const known = offsets.get(partitionKey(this.topic.name, p.partition));
      positions.set(p.partition, given ?? known?.highWatermark ?? 0);
    }
    return positions;
  }

  private async readRound(positions: Map<number, number>): Promise<void> {
    const byLeader = new Map<number, Map<number, number>>();
    for (const [partition, offset] of positions) {
      const leader = this.topic.partitions[partition]?.leader ?? -1;
      if (leader < 0) continue;
      if (!byLeader.has(leader)) byLeader.set(leader, new Map());
      byLeader.get(leader)!.set(partition, offset);
    }
    if (byLeader.size === 0) {
      // Nothing readable now (every leader offline): wait a round before asking again.
      await new Promise((resolve) => setTimeout(resolve, this.config.tailWaitMs).unref());
      this.metadataAtMs = 0;
      return;
    }
    await Promise.all(
      [...byLeader].map(async ([leader, wanted]) => {
        let fetched: Awaited<ReturnType<typeof fetchPartitions>>;
        try {
          fetched = await fetchPartitions(this.reader.cluster, this.topic, leader, wanted, { maxBytes: this.config.fetchBytesMax, maxWaitMs: this.config.tailWaitMs, decompressedBytesMax: this.config.fetchBytesMax * 64 });
        } catch (error) {
          this.metadataAtMs = 0;
          this.send('warning', { error: (error as { code?: string }).code ?? 'FETCH_FAILED', message: (error as Error).message });
          await new Promise((resolve) => setTimeout(resolve, this.config.tailWaitMs).unref());
          return;
        }
        let batch: RecordView[] = [];
        let bytes = 0;
        for (const part of fetched) {
          if (part.error !== null) {
            if (part.error === 'OFFSET_OUT_OF_RANGE' && part.logStartOffset >= 0) positions.set(part.partition, part.logStartOffset);
            else this.metadataAtMs = 0;
            this.send('warning', { error: part.error, partition: part.partition, message: `partition ${part.partition}: ${part.error}` });
            continue;
          }
          for (const message of part.messages) {
            if (!matches(message, this.query.filter)) continue;
            const view = viewRecord(part.partition, message, this.query.format, this.config.fieldBytesMax);
            if (bytes + view.sizeBytes > this.config.responseBytesMax && batch.length > 0) {
              this.send('records', { records: batch });
              batch = [];
              bytes = 0;
            }
            batch.push(view);
            bytes += Math.min(view.sizeBytes, this.config.fieldBytesMax * (2 + view.headers.length));
          }
          if (part.nextOffset > (positions.get(part.partition) ?? 0)) positions.set(part.partition, part.nextOffset);
        }
        if (batch.length > 0) this.send('records', { records: batch });
      }),
    );
  }
}

