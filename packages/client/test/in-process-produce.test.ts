/**
 * The producer marks its Produce requests as carrying record sets it built itself
 * (recordsBuiltByProducer), and the in-process transport hands that mark to the broker in the
 * request context, so the broker skips recomputing the CRCs; no other request carries it.
 */
import { describe, expect, it } from 'vitest';
import { Api } from '../src/api.js';
import { Cluster } from '../src/cluster.js';
import { InProcessTransport } from '../src/in-process-transport.js';
import { Producer } from '../src/producer.js';
import type { Body } from '../src/transport.js';
import { FakeBroker } from './fake-broker.js';

class ContextRecordingBroker extends FakeBroker {
  readonly contexts: { apiKey: number; context: Body }[] = [];
  override handle(apiKey: number, apiVersion: number, body: Body, context?: Body): unknown {
    this.contexts.push({ apiKey, context });
    return super.handle(apiKey, apiVersion, body);
  }
}

describe('in-process produce', () => {
  it('tells the broker that the record sets of its Produce requests are the producer\'s own', async () => {
    const broker = new ContextRecordingBroker({ t: 1 });
    const producer = new Producer(new Cluster(new InProcessTransport(broker)), { lingerMs: 0 });
    await producer.connect();
    await producer.send({ topic: 't', messages: [{ key: 'k', value: 'v' }] });
    await producer.disconnect();
    const produce = broker.contexts.filter((c) => c.apiKey === Api.Produce);
    const others = broker.contexts.filter((c) => c.apiKey !== Api.Produce);
    expect(produce.length).toBeGreaterThan(0);
    expect(produce.every((c) => c.context.recordsBuiltByProducer === true)).toBe(true);
    expect(others.length).toBeGreaterThan(0);
    expect(others.some((c) => c.context.recordsBuiltByProducer !== undefined)).toBe(false);
  });
});
