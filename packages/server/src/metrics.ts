/**
 * Server metrics built on the `gregor:server:*` diagnostics channels, and an HTTP endpoint that
 * serves them: `GET /health` (JSON) and `GET /metrics` (Prometheus text format 0.0.4).
 * The channels are process-wide: the metrics count every Server in the process, from the moment
 * they are started (start them before the servers listen). Counters only grow; the number of
 * label sets is bounded by the api keys and versions served. Single-threaded, as the event loop.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ConnectionEvent, RequestEvent } from './channels.js';
import { ServerError } from './errors.js';
import type { BoundAddress, ListenOptions, Server } from './server.js';

interface RequestTotals {
  count: number;
  failed: number;
  durationMsSum: number;
}

/** Counts connections and requests from the diagnostics channels while started. */
export class ServerMetrics {
  connectionsOpen = 0;
  connectionsOpened = 0;
  connectionsRefused = 0;
  /** By `apiKey/apiVersion`. */
  readonly requests = new Map<string, RequestTotals>();
  private readonly onConnection = (message: unknown) => this.countConnection(message as ConnectionEvent);
  private readonly onRequest = (message: unknown) => this.countRequest(message as RequestEvent);

  start(): this {
    diagnosticsChannel.subscribe('gregor:server:connection', this.onConnection);
    diagnosticsChannel.subscribe('gregor:server:request', this.onRequest);
    return this;
  }

  stop(): void {
    diagnosticsChannel.unsubscribe('gregor:server:connection', this.onConnection);
    diagnosticsChannel.unsubscribe('gregor:server:request', this.onRequest);
  }

  /** Prometheus text exposition format. */
  render(): string {
    const lines = [
      '# TYPE gregor_server_connections_open gauge',
      `gregor_server_connections_open ${this.connectionsOpen}`,
      '# TYPE gregor_server_connections_total counter',
      `gregor_server_connections_total ${this.connectionsOpened}`,
      '# TYPE gregor_server_connections_refused_total counter',
      `gregor_server_connections_refused_total ${this.connectionsRefused}`,
      '# TYPE gregor_server_requests_total counter',
      '# TYPE gregor_server_requests_failed_total counter',
      '# TYPE gregor_server_request_duration_ms_sum counter',
    ];
    for (const [key, totals] of [...this.requests.entries()].sort()) {
      const [apiKey, apiVersion] = key.split('/');
      const labels = `{api_key="${apiKey}",api_version="${apiVersion}"}`;
      lines.push(`gregor_server_requests_total${labels} ${totals.count}`);
      lines.push(`gregor_server_requests_failed_total${labels} ${totals.failed}`);
      lines.push(`gregor_server_request_duration_ms_sum${labels} ${totals.durationMsSum.toFixed(3)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  private countConnection(event: ConnectionEvent): void {
    if (event.event === 'open') {
      this.connectionsOpen++;
      this.connectionsOpened++;
    } else if (event.event === 'close') this.connectionsOpen--;
    else this.connectionsRefused++;
  }

  private countRequest(event: RequestEvent): void {
    const key = `${event.apiKey}/${event.apiVersion}`;
    let totals = this.requests.get(key);
    if (totals === undefined) {
      totals = { count: 0, failed: 0, durationMsSum: 0 };
      this.requests.set(key, totals);
    }
    totals.count++;
    if (event.failed !== undefined) totals.failed++;
    totals.durationMsSum += event.durationMs;
  }
}

/** `GET /health` and `GET /metrics` over HTTP, for one Server (or none: health only reports the process). */
export class HttpEndpoint {
  readonly metrics: ServerMetrics;
  private readonly server: Server | undefined;
  private listener: http.Server | undefined;

  constructor(options: { server?: Server; metrics?: ServerMetrics } = {}) {
    this.server = options.server;
    this.metrics = options.metrics ?? new ServerMetrics();
  }

  async listen(options: ListenOptions = {}): Promise<BoundAddress> {
    if (this.listener !== undefined) throw new ServerError('SERVER_STATE', 'HttpEndpoint.listen() called twice');
    this.metrics.start();
    const listener = http.createServer((request, response) => this.answer(request, response));
    this.listener = listener;
    const host = options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      listener.once('error', reject);
      listener.listen({ host, port: options.port ?? 0 }, () => resolve());
    });
    const address = listener.address() as AddressInfo;
    return { host: address.address, port: address.port };
  }

  async close(): Promise<void> {
    this.metrics.stop();
    const listener = this.listener;
    if (listener === undefined) return;
    listener.closeAllConnections();
    await new Promise<void>((resolve) => listener.close(() => resolve()));
  }

  private answer(request: http.IncomingMessage, response: http.ServerResponse): void {
    const path = (request.url ?? '/').split('?')[0];
    if (request.method === 'GET' && path === '/health') {
      const listening = this.server === undefined || this.server.isListening;
      const body = JSON.stringify({ status: listening ? 'ok' : 'unavailable', kafka: this.server?.address ?? null, connections: this.server?.connectionCount ?? 0 });
      response.writeHead(listening ? 200 : 503, { 'content-type': 'application/json' }).end(body);
    } else if (request.method === 'GET' && path === '/metrics') {
      const memory = this.server === undefined ? '' : renderMemory(this.server);
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(this.metrics.render() + memory);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
    }
  }
}

/**
 * The server's memory accounts. The request pool has Kafka's names (the JMX exporter's for
 * kafka.network:type=SocketServer,name=MemoryPoolUsed / MemoryPoolAvailable); the rest are ours.
 */
function renderMemory(server: Server): string {
  const usage = server.memoryUsage;
  return [
    '# TYPE kafka_network_socketserver_memorypoolused gauge',
    `kafka_network_socketserver_memorypoolused ${usage.requestBytesCharged}`,
    '# TYPE kafka_network_socketserver_memorypoolavailable gauge',
    `kafka_network_socketserver_memorypoolavailable ${server.config.queuedMaxRequestBytes - usage.requestBytesCharged}`,
    '# TYPE gregor_server_request_bytes_claimed gauge',
    `gregor_server_request_bytes_claimed ${usage.requestBytesClaimed}`,
    '# TYPE gregor_server_response_bytes_queued gauge',
    `gregor_server_response_bytes_queued ${usage.responseBytes}`,
    '# TYPE gregor_server_connections_waiting_for_memory gauge',
    `gregor_server_connections_waiting_for_memory ${usage.waitingConnections}`,
    '',
  ].join('\n');
}
