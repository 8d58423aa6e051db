/**
 * The one HTTP listener of a broker process (`--http-port`): the web console (static files), the
 * REST API (`/api/...`), the live tail (server-sent events), `/metrics` (Prometheus) and `/health`.
 * It reads the cluster only through a Kafka client over the transport it is given (the facade
 * passes an in-process transport to its broker's `handle`; a TCP transport works as well), plus
 * the optional `LocalBroker` and `NetworkServer` views of its own process for per-broker metrics.
 *
 * Errors answer JSON `{ error, message, retriable }` with 400 (bad parameters), 404 (no such
 * topic, group or path), 405, 413, 503 (busy, or the broker did not answer) or 502 (the broker
 * answered an error). Requests are served concurrently on the event loop; `close()` ends the
 * tails, stops the sampler and the producer, and closes every connection.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Transport } from '@gregor/client';
import { alertsAnswer, brokersAnswer, groupAnswer, groupsAnswer, latestAnswer, messagesAnswer, requireTopicName, statsAnswer, topicAnswer, topicsAnswer } from './api.js';
import { ClusterReader } from './cluster-reader.js';
import { type ConsoleConfig, resolveConsoleConfig } from './config.js';
import type { ConsoleContext } from './context.js';
import { ConsoleError } from './errors.js';
import { requireTopic } from './messages.js';
import { ConsoleMetrics, type LocalBroker, type NetworkServer } from './metrics.js';
import { ProduceForm, readJsonBody } from './produce.js';
import { Sampler } from './sampler.js';
import { type ClusterSnapshot, SnapshotCache, takeSnapshot } from './snapshot.js';
import { serveStatic, STATIC_DIR } from './static-files.js';
import { TailStreams } from './tail.js';

export interface ConsoleServerOptions {
  /** How the console reaches the cluster (an InProcessTransport over the broker, or a TcpTransport). */
  transport: Transport;
  /** The broker in this process, for its own metrics (log gauges, what it leads). */
  local?: LocalBroker;
  /**
   * The Kafka listener in this process, for connection and memory metrics and `/health`; a
   * function is asked on each use (undefined: no listener now).
   */
  server?: NetworkServer | (() => NetworkServer | undefined);
  config?: Partial<ConsoleConfig>;
  /** Where the front end's files are (default: the package's `static/`). */
  staticDir?: string;
}

export interface ConsoleAddress {
  host: string;
  port: number;
}

type Handler = (match: RegExpExecArray, url: URL, request: http.IncomingMessage, response: http.ServerResponse) => Promise<unknown>;

export class ConsoleServer implements ConsoleContext {
  readonly config: ConsoleConfig;
  readonly reader: ClusterReader;
  readonly sampler: Sampler;
  readonly metrics: ConsoleMetrics;
  readonly local: LocalBroker | undefined;
  private readonly networkServer: () => NetworkServer | undefined;
  private readonly snapshots: SnapshotCache;
  private readonly tails: TailStreams;
  private readonly produceForm: ProduceForm;
  private readonly staticDir: string;
  private readonly routes: [string, RegExp, Handler][];
  private listener: http.Server | undefined;

  constructor(options: ConsoleServerOptions) {
    this.config = resolveConsoleConfig(options.config);
    this.reader = new ClusterReader(options.transport);
    this.local = options.local;
    const server = options.server;
    this.networkServer = typeof server === 'function' ? server : () => server;
    this.staticDir = options.staticDir ?? STATIC_DIR;
    const take = () => takeSnapshot(this.reader, this.config, Date.now);
    this.snapshots = new SnapshotCache(take, Date.now);
    this.sampler = new Sampler(this.config, async () => {
      const snapshot = await take();
      this.snapshots.offer(snapshot);
      return snapshot;
    });
    this.metrics = new ConsoleMetrics({ snapshot: () => this.snapshot(SCRAPE_MAX_AGE_MS), local: options.local, server: options.server === undefined ? undefined : this.networkServer });
    this.tails = new TailStreams(this.reader, this.config);
    this.produceForm = new ProduceForm(options.transport);
    const json = (answer: (match: RegExpExecArray, url: URL) => Promise<unknown>): Handler => async (match, url, _request, response) => sendJson(response, 200, await answer(match, url));
    this.routes = [
      ['GET', /^\/health$/, async (_m, _u, _req, response) => this.health(response)],
      ['GET', /^\/metrics$/, async (_m, _u, _req, response) => response.writeHead(200, { 'content-type': this.metrics.contentType }).end(await this.metrics.render())],
      ['GET', /^\/api\/stats$/, json(() => statsAnswer(this))],
      ['GET', /^\/api\/brokers$/, json(() => brokersAnswer(this))],
      ['GET', /^\/api\/alerts$/, json(() => alertsAnswer(this))],
      ['GET', /^\/api\/topics$/, json(() => topicsAnswer(this))],
      ['GET', /^\/api\/topics\/([^/]+)$/, json((m) => topicAnswer(this, requireTopicName(m[1])))],
      ['GET', /^\/api\/messages\/([^/]+)$/, json((m, url) => messagesAnswer(this, requireTopicName(m[1]), url.searchParams))],
      ['GET', /^\/api\/latest\/([^/]+)$/, json((m, url) => latestAnswer(this, requireTopicName(m[1]), url.searchParams))],
      ['GET', /^\/api\/groups$/, json(() => groupsAnswer(this))],
      ['GET', /^\/api\/groups\/([^/]+)$/, json((m) => groupAnswer(this, decodePathSegment(m[1], 'group')))],
      ['GET', /^\/api\/tail\/([^/]+)$/, (m, url, request, response) => this.openTail(requireTopicName(m[1]), url, request, response)],
      ['POST', /^\/api\/produce\/([^/]+)$/, async (m, _url, request, response) => this.produce(requireTopicName(m[1]), request, response)],
    ];
  }

  snapshot(maxAgeMs: number): Promise<ClusterSnapshot> {
    return this.snapshots.get(maxAgeMs);
  }

  /** Binds the listener (port 0 picks a free one), starts the metrics' channels and the sampler. */
  async listen(options: { host?: string; port?: number } = {}): Promise<ConsoleAddress> {
    if (this.listener !== undefined) throw new ConsoleError('CONSOLE_STATE', 'ConsoleServer.listen() called twice', 500);
    const listener = http.createServer((request, response) => {
      this.answer(request, response).catch((error) => sendError(response, error));
    });
    this.listener = listener;
    this.metrics.start();
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 }, () => {
        listener.off('error', reject);
        resolve();
      });
    });
    this.sampler.start();
    const address = listener.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  get address(): ConsoleAddress | undefined {
    const address = this.listener?.address() as AddressInfo | null | undefined;
    return address ? { host: address.address, port: address.port } : undefined;
  }

  async close(): Promise<void> {
    const listener = this.listener;
    this.listener = undefined;
    this.metrics.stop();
    await this.tails.close();
    await this.sampler.stop();
    await this.produceForm.close().catch(() => {});
    if (listener === undefined) return;
    listener.closeAllConnections();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  private async answer(request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://console');
    const method = request.method ?? 'GET';
    let pathMatched = false;
    for (const [routeMethod, pattern, handler] of this.routes) {
      const match = pattern.exec(url.pathname);
      if (match === null) continue;
      pathMatched = true;
      if (routeMethod !== method && !(routeMethod === 'GET' && method === 'HEAD')) continue;
      await handler(match, url, request, response);
      return;
    }
    if (pathMatched) throw new ConsoleError('METHOD_NOT_ALLOWED', `${method} is not allowed on ${url.pathname}`, 405);
    if (url.pathname.startsWith('/api/')) throw new ConsoleError('NOT_FOUND', `no endpoint ${url.pathname}; see docs/console.md`, 404);
    if ((method === 'GET' || method === 'HEAD') && serveStatic(this.staticDir, url.pathname, response, method === 'HEAD')) return;
    throw new ConsoleError('NOT_FOUND', `nothing at ${url.pathname}`, 404);
  }

  private async health(response: http.ServerResponse): Promise<void> {
    const server = this.networkServer();
    // Without a Kafka listener (an embedded broker) only the broker's answers count.
    const listening = server === undefined || server.isListening;
    let brokerAnswers = true;
    try {
      await this.snapshot(SCRAPE_MAX_AGE_MS);
    } catch {
      brokerAnswers = false;
    }
    const ok = listening && brokerAnswers;
    sendJson(response, ok ? 200 : 503, {
      status: ok ? 'ok' : 'unavailable',
      kafka: server?.address ?? null,
      connections: server?.connectionCount ?? 0,
      brokerAnswers,
    });
  }

  private async openTail(name: string, url: URL, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const metadata = await this.reader.metadata([name]).catch(() => null);
    const topic = requireTopic(metadata?.topics ?? [], name);
    this.tails.open(topic, url.searchParams, request, response);
  }

  private async produce(name: string, request: http.IncomingMessage, response: http.ServerResponse): Promise<void> {
    const body = await readJsonBody(request, this.config.produceBodyBytesMax);
    const metadata = await this.reader.metadata([name]).catch(() => null);
    const topic = requireTopic(metadata?.topics ?? [], name);
    sendJson(response, 200, await this.produceForm.produce(topic, body));
  }
}

/** A scrape and `/health` accept a snapshot this old (Prometheus scrapes every 15 s or so). */
const SCRAPE_MAX_AGE_MS = 1000;

function decodePathSegment(raw: string, name: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new ConsoleError('INVALID_PARAMETER', `${name} '${raw}' is not a valid URL path segment`, 400);
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) }).end(text);
}

function sendError(response: http.ServerResponse, error: unknown): void {
  if (response.headersSent) {
    response.destroy();
    return;
  }
  const e = error as { code?: unknown; message?: string; retriable?: boolean; status?: number };
  let status: number;
  if (error instanceof ConsoleError) status = error.status;
  else if (typeof e.code === 'string' && typeof e.retriable === 'boolean') status = e.retriable ? 503 : 502;
  else status = 500;
  sendJson(response, status, { error: typeof e.code === 'string' ? e.code : 'INTERNAL_ERROR', message: e.message ?? String(error), retriable: e.retriable ?? status === 503 });
}
