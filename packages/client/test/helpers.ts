/** Test scaffolding: an in-process broker on a MemoryFileSystem, clients over it, and waiting. */
import { Broker } from '@gregor/broker';
import { MemoryFileSystem } from '@gregor/log';
import { createClient } from '../src/client.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import type { Body, BrokerAddress, RequestOptions, Transport } from '../src/transport.js';

export const fastGroupConfig = { groupMinSessionTimeoutMs: 50, groupInitialRebalanceDelayMs: 0, autoCreateTopicsEnable: false };

export async function openBroker(fs = new MemoryFileSystem(), dir = '/data') {
  const broker = await Broker.open({ dir, fs, config: fastGroupConfig });
  return { broker, fs, dir };
}

export function inProcessClient(broker: Broker) {
  return createClient({ transport: new InProcessTransport(broker) });
}

/** Polls `condition` every 10 ms up to `timeoutMs`; throws with `what` if it never holds. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Wraps a transport to inject faults: `dropNextResponse(apiKey)` lets the request reach the
 * broker, then throws a retriable error as if the response were lost; `partitioned` fails every
 * request as if the network were cut.
 */
export class FaultyTransport implements Transport {
  private drops = new Map<number, number>();
  private onDrop: (() => Promise<unknown>) | null = null;
  partitioned = false;
  constructor(private readonly inner: Transport) {}
  /** The next response to `apiKey` is lost after the broker handled the request; `onDrop` runs first. */
  dropNextResponse(apiKey: number, onDrop?: () => Promise<unknown>): void {
    this.drops.set(apiKey, (this.drops.get(apiKey) ?? 0) + 1);
    this.onDrop = onDrop ?? null;
  }
  connect() {
    return this.inner.connect();
  }
  apiVersion(apiKey: number) {
    return this.inner.apiVersion(apiKey);
  }
  async request(apiKey: number, apiVersion: number, body: Body, options?: RequestOptions): Promise<Body> {
    const { KafkaConnectionError } = await import('../src/errors.js');
    if (this.partitioned) throw new KafkaConnectionError('network partitioned (test)');
    const response = await this.inner.request(apiKey, apiVersion, body, options);
    const drops = this.drops.get(apiKey) ?? 0;
    if (drops > 0) {
      this.drops.set(apiKey, drops - 1);
      const onDrop = this.onDrop;
      this.onDrop = null;
      if (onDrop !== null) await onDrop();
      throw new KafkaConnectionError('response lost (test)');
    }
    return response;
  }
  setBrokers(brokers: readonly BrokerAddress[]) {
    this.inner.setBrokers(brokers);
  }
  close() {
    return this.inner.close();
  }
}
