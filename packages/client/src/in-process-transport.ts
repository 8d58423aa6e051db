/**
 * A Transport that calls a broker's `handle(apiKey, apiVersion, body, context)` in the same
 * process: no encoding, no sockets. It asks the broker's ApiVersions handler which versions it
 * serves and uses the highest one the client also knows, so the in-process and TCP paths run the
 * same request handlers with the same versions. A Produce from Gregor's Producer carries
 * `recordsBuiltByProducer` in its context, so the broker does not recompute the CRCs the producer
 * has just computed over the same memory.
 */
import { Api, negotiateVersions } from './api.js';
import { systemClock, type TimerHandle } from './clock.js';
import { abandonOnAbort, KafkaClientError, UnsupportedApiError } from './errors.js';
import type { Body, BrokerAddress, RequestHandler, RequestOptions, Transport } from './transport.js';

export interface InProcessTransportOptions {
  clientId?: string;
  /** Passed to the broker as the request context (client host, listener...). */
  context?: Record<string, unknown>;
}

/** The keep-alive timer's period: any long one (it is re-armed if it ever fires). */
const KEEP_ALIVE_MS = 2 ** 30;

export class InProcessTransport implements Transport {
  // The broker checks each batch's CRC when it reads it from the log (segment read), and the
  // bytes reach the consumer without leaving the process.
  readonly deliversCheckedRecords = true;
  private versions: Map<number, number> | null = null;
  private connecting: Promise<void> | null = null;
  private readonly context: Record<string, unknown>;
  /** The context of a Produce whose record sets the Producer just built (RequestOptions.recordsBuiltByProducer). */
  private readonly producerContext: Record<string, unknown>;

  constructor(
    private readonly broker: RequestHandler,
    options: InProcessTransportOptions = {},
  ) {
    this.context = { clientId: options.clientId ?? 'gregor', clientHost: 'in-process', correlationId: 0, ...options.context };
    this.producerContext = { ...this.context, recordsBuiltByProducer: true };
  }

  connect(): Promise<void> {
    if (this.closed) return Promise.reject(closedError());
    this.connecting ??= (async () => {
      const response = await this.broker.handle(Api.ApiVersions, 3, { clientSoftwareName: 'gregor', clientSoftwareVersion: '0.1.0' }, this.context);
      this.versions = negotiateVersions((response as Body).apiKeys);
    })();
    return this.connecting;
  }

  apiVersion(apiKey: number): number {
    const version = this.versions?.get(apiKey);
    if (version === undefined) throw new UnsupportedApiError(`the broker serves no version of API ${apiKey} this client knows`);
    return version;
  }

  async request(apiKey: number, apiVersion: number, body: Body, options: RequestOptions = {}): Promise<Body> {
    if (this.closed) throw closedError();
    this.holdProcess();
    try {
      // Awaiting the broker's promise through abandonOnAbort lets a stopping consumer leave a
      // parked Fetch at once; the broker completes it later (its timer, or close) and the answer is dropped.
      const context = options.recordsBuiltByProducer === true ? this.producerContext : this.context;
      const response = await abandonOnAbort(Promise.resolve(this.broker.handle(apiKey, apiVersion, body, context)), options.signal, `API ${apiKey} request`);
      return options.expectResponse === false ? null : response;
    } finally {
      this.releaseProcess();
    }
  }

  // A parked request (long-poll Fetch, JoinGroup) waits on the broker's timers, which do not keep
  // the process alive; a socket would. While requests are pending, a referenced timer stands in.
  // It measures no time (it never needs to fire), so it is the real process's, on the system clock
  // whatever clock the client runs on: a fake clock's timer would hold nothing.
  private pending = 0;
  private keepAlive: TimerHandle | null = null;

  private holdProcess(): void {
    if (this.pending++ === 0 && this.keepAlive === null) this.armKeepAlive();
  }

  private armKeepAlive(): void {
    this.keepAlive = systemClock.setTimeout(() => this.armKeepAlive(), KEEP_ALIVE_MS);
  }

  private releaseProcess(): void {
    if (--this.pending === 0 && this.keepAlive !== null) {
      systemClock.clearTimeout(this.keepAlive);
      this.keepAlive = null;
    }
  }

  setBrokers(_brokers: readonly BrokerAddress[]): void {
    // One broker in the process: every node id routes to it.
  }

  private closed = false;

  /** Called by the broker's owner when it closes the broker: every later call fails with BROKER_CLOSED. */
  async close(): Promise<void> {
    this.closed = true;
  }
}

function closedError(): KafkaClientError {
  return new KafkaClientError('BROKER_CLOSED', 'the broker this client talks to in-process is closed; open the data directory again (Gregor.open)');
}
