import diagnosticsChannel from 'node:diagnostics_channel';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { type RequestContext, type RequestEvent, type RequestHandler, Server, type ServerConfig, silentLogger } from '../src/index.js';
import { jsonCodec, requestFrame, TestClient } from './support/json-codec.js';

/** A broker whose requests finish when the test says so (`gate`) or after `delayMs`. */
class FakeBroker implements RequestHandler {
  readonly started: { apiKey: number; value: unknown }[] = [];
  readonly gates = new Map<string, () => void>();
  running = 0;
  maxRunning = 0;
  advertised: [string, number, string] | undefined;
  readonly listenerNames: string[] = [];

  async handle(apiKey: number, _apiVersion: number, body: any, context: RequestContext): Promise<unknown> {
    this.started.push({ apiKey, value: body.value });
    this.listenerNames.push(context.listenerName);
    this.running++;
    this.maxRunning = Math.max(this.maxRunning, this.running);
    try {
      if (body.writeDone === true) context.writeDone?.();
      if (body.gate !== undefined) await new Promise<void>((resolve) => this.gates.set(body.gate, resolve));
      if (body.delayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, body.delayMs));
      if (body.fail !== undefined) throw Object.assign(new Error('broker failure'), { errorCode: body.fail, code: body.failCode });
      if (body.noResponse === true) return null;
      if (body.bigBytes !== undefined) return { value: body.value, padding: 'x'.repeat(body.bigBytes) };
      return { value: body.value, clientId: context.clientId };
    } finally {
      this.running--;
    }
  }

  open(gate: string): void {
    const resolve = this.gates.get(gate);
    if (resolve === undefined) throw new Error(`gate ${gate} not waiting`);
    resolve();
  }

  setAdvertisedListener(host: string, port: number, listenerName: string): void {
    this.advertised = [host, port, listenerName];
  }
}

const servers: Server[] = [];
const clients: TestClient[] = [];

async function start(config: Partial<ServerConfig> = {}): Promise<{ broker: FakeBroker; server: Server; port: number }> {
  const broker = new FakeBroker();
  const server = new Server({ broker, config, logger: silentLogger, codec: jsonCodec });
  servers.push(server);
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return { broker, server, port };
}

async function connect(port: number): Promise<TestClient> {
  const client = await TestClient.connect(port);
  clients.push(client);
  return client;
}

afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function until(predicate: () => boolean): Promise<void> {
  for (let i = 0; i < 250 && !predicate(); i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(predicate()).toBe(true);
}

describe('Server connection machinery', () => {
  it('binds port 0, reports the bound address and advertises it to the broker', async () => {
    const { broker, port, server } = await start();
    expect(port).toBeGreaterThan(0);
    expect(server.address).toEqual({ host: '127.0.0.1', port });
    expect(broker.advertised).toEqual(['127.0.0.1', port, 'PLAINTEXT']);
  });

  it('serves several named listeners, each with its own handler, and names the listener in every request context', async () => {
    const { broker, port, server } = await start();
    const controller = new FakeBroker();
    const controllerAddress = await server.listen({ name: 'CONTROLLER', host: '127.0.0.1', port: 0, handler: controller, advertisedHost: 'controller.local' });
    expect(controllerAddress.port).not.toBe(port);
    expect(server.listenerNames).toEqual(['PLAINTEXT', 'CONTROLLER']);
    expect(server.listenerAddress('CONTROLLER')).toEqual(controllerAddress);
    expect(server.address).toEqual({ host: '127.0.0.1', port });
    expect(controller.advertised).toEqual(['controller.local', controllerAddress.port, 'CONTROLLER']);
    expect(broker.advertised).toEqual(['127.0.0.1', port, 'PLAINTEXT']);
    const client = await connect(port);
    const controllerClient = await connect(controllerAddress.port);
    client.send(requestFrame(3, 1, 1, { value: 'to-broker' }));
    controllerClient.send(requestFrame(3, 1, 1, { value: 'to-controller' }));
    await client.until(() => client.responses.length === 1);
    await controllerClient.until(() => controllerClient.responses.length === 1);
    expect(broker.started.map((entry) => entry.value)).toEqual(['to-broker']);
    expect(broker.listenerNames).toEqual(['PLAINTEXT']);
    expect(controller.started.map((entry) => entry.value)).toEqual(['to-controller']);
    expect(controller.listenerNames).toEqual(['CONTROLLER']);
    await expect(server.listen({ name: 'CONTROLLER', port: 0 })).rejects.toMatchObject({ code: 'SERVER_STATE' });
    await server.close();
    await expect(TestClient.connect(controllerAddress.port)).rejects.toThrow();
    await expect(TestClient.connect(port)).rejects.toThrow();
  });

  it('fails listen() with LISTEN_FAILED when the port is taken, and refuses a second listen()', async () => {
    const { port, server } = await start();
    const second = new Server({ broker: new FakeBroker(), logger: silentLogger, codec: jsonCodec });
    servers.push(second);
    await expect(second.listen({ host: '127.0.0.1', port })).rejects.toMatchObject({ code: 'LISTEN_FAILED' });
    await expect(server.listen({ port: 0 })).rejects.toMatchObject({ code: 'SERVER_STATE' });
  });

  it('close({ graceMs: 0 }) drops requests in flight at once, as a crash would', async () => {
    // The configured grace is far longer than the test may run: only graceMs 0 lets close() finish.
    const { broker, port, server } = await start({ closeGraceMs: 600_000 });
    const client = await connect(port);
    client.send(requestFrame(3, 1, 1, { value: 'stuck', gate: 'never' }));
    await until(() => broker.started.length === 1);
    await server.close({ graceMs: 0 });
    await client.until(() => client.closed);
    expect(client.responses).toEqual([]);
  });

  it('answers pipelined requests in arrival order when later ones finish first', async () => {
    const { broker, port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(3, 1, 1, { value: 'a', gate: 'a' }), requestFrame(3, 1, 2, { value: 'b' })]));
    await until(() => broker.started.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(client.responses).toEqual([]);
    broker.open('a');
    await client.until(() => client.responses.length === 2);
    expect(client.responses.map((response) => response.correlationId)).toEqual([1, 2]);
    expect(client.responses[1].body).toEqual({ value: 'b', clientId: 'test' });
  });

  it('runs read requests concurrently but starts a write only after earlier requests finish', async () => {
    const { broker, port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(1, 4, 1, { value: 'fetch', gate: 'fetch' }), requestFrame(3, 1, 2, { value: 'metadata' }), requestFrame(0, 3, 3, { value: 'produce' }), requestFrame(3, 1, 4, { value: 'after' })]));
    await until(() => broker.started.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(broker.started.map((entry) => entry.value)).toEqual(['fetch', 'metadata']);
    broker.open('fetch');
    await client.until(() => client.responses.length === 4);
    expect(broker.started.map((entry) => entry.value)).toEqual(['fetch', 'metadata', 'produce', 'after']);
    expect(client.responses.map((response) => response.correlationId)).toEqual([1, 2, 3, 4]);
  });

  it('starts the next write once an earlier write says it is done, while that write still waits for its answer', async () => {
    const { broker, port } = await start();
    const client = await connect(port);
    // An acks=all Produce appends, says writeDone and waits (for replication); the next Produce must
    // not wait for that answer. A Produce that never says writeDone still holds back the write after it.
    client.send(Buffer.concat([
      requestFrame(0, 3, 1, { value: 'first', writeDone: true, gate: 'first' }),
      requestFrame(0, 3, 2, { value: 'second', gate: 'second' }),
      requestFrame(0, 3, 3, { value: 'third' }),
    ]));
    await until(() => broker.started.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(broker.started.map((entry) => entry.value)).toEqual(['first', 'second']);
    broker.open('second');
    await until(() => broker.started.length === 3);
    await new Promise((resolve) => setTimeout(resolve, 30));
    // The answers wait for the first one: arrival order.
    expect(client.responses).toEqual([]);
    broker.open('first');
    await client.until(() => client.responses.length === 3);
    expect(client.responses.map((response) => response.correlationId)).toEqual([1, 2, 3]);
  });

  it('stops reading beyond maxInFlightRequestsPerConnection and serves the rest afterwards', async () => {
    const { broker, port } = await start({ maxInFlightRequestsPerConnection: 2 });
    const client = await connect(port);
    const frames = [];
    for (let i = 0; i < 6; i++) frames.push(requestFrame(3, 1, i, { value: i, gate: `g${i}` }));
    client.send(Buffer.concat(frames));
    await until(() => broker.started.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(broker.started.length).toBe(2);
    for (let i = 0; i < 6; i++) {
      await until(() => broker.gates.has(`g${i}`));
      broker.open(`g${i}`);
    }
    await client.until(() => client.responses.length === 6);
    expect(broker.maxRunning).toBe(2);
    expect(client.responses.map((response) => response.correlationId)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('sends nothing for a request the broker answers with no response (acks=0) and keeps order', async () => {
    const { port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(0, 3, 1, { value: 1, noResponse: true }), requestFrame(3, 1, 2, { value: 2 })]));
    await client.until(() => client.responses.length === 1);
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(client.responses.map((response) => response.correlationId)).toEqual([2]);
  });

  it('answers an ApiVersions request of an unknown version with the fallback and stays open', async () => {
    const { port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(18, 99, 7, {}), requestFrame(18, 1, 8, { value: 'ok' })]));
    await client.until(() => client.responses.length === 2);
    expect(client.responses[0]).toEqual({ correlationId: 7, body: { errorCode: 35 } });
    expect(client.closed).toBe(false);
  });

  it('closes the connection on an unknown api or version, after answering earlier requests', async () => {
    const { port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(3, 1, 1, { value: 'first', delayMs: 20 }), requestFrame(3, 9, 2, {}), requestFrame(3, 1, 3, { value: 'dropped' })]));
    await client.until(() => client.closed);
    expect(client.responses.map((response) => response.correlationId)).toEqual([1]);
  });

  it('answers a malformed body with INVALID_REQUEST and keeps serving the connection', async () => {
    const { port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(3, 1, 1, '{not json'), requestFrame(3, 1, 2, { value: 'fine' })]));
    await client.until(() => client.responses.length === 2);
    expect(client.responses[0]).toEqual({ correlationId: 1, body: { errorCode: 42 } });
    expect(client.responses[1].body.value).toBe('fine');
  });

  it("answers a broker failure with the error's Kafka code, or closes when the api cannot carry it", async () => {
    const { port } = await start();
    const client = await connect(port);
    client.send(requestFrame(3, 1, 1, { fail: 15 }));
    await client.until(() => client.responses.length === 1);
    expect(client.responses[0].body).toEqual({ errorCode: 15 });
    client.send(requestFrame(49, 0, 2, { fail: 15 }));
    await client.until(() => client.closed);
  });

  it('closes the connection when the broker does not serve an api the protocol describes', async () => {
    const { port } = await start();
    const client = await connect(port);
    client.send(requestFrame(3, 1, 1, { fail: 35, failCode: 'UNSUPPORTED_VERSION' }));
    await client.until(() => client.closed);
    expect(client.responses).toEqual([]);
  });

  it('closes a connection that declares a frame above socketRequestMaxBytes and serves others', async () => {
    const { port } = await start({ socketRequestMaxBytes: 1024 });
    const bad = await connect(port);
    const good = await connect(port);
    const header = Buffer.alloc(4);
    header.writeInt32BE(2048);
    bad.send(header);
    await bad.until(() => bad.closed);
    good.send(requestFrame(3, 1, 5, { value: 'still here' }));
    await good.until(() => good.responses.length === 1);
    expect(good.responses[0].body.value).toBe('still here');
  });

  it('does not dispatch requests that follow a fatal frame in the same chunk', async () => {
    const { broker, port } = await start();
    const client = await connect(port);
    client.send(Buffer.concat([requestFrame(77, 0, 1, {}), requestFrame(3, 1, 2, { value: 'after' })]));
    await client.until(() => client.closed);
    expect(broker.started).toEqual([]);
  });

  it('stops reading a client that does not read its responses, and resumes when it does', async () => {
    const { broker, port } = await start();
    const client = await connect(port);
    client.socket.pause();
    const count = 30;
    for (let i = 0; i < count; i++) {
      client.send(requestFrame(3, 1, i, { value: i, bigBytes: 1024 * 1024 }));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(broker.started.length).toBeLessThan(count);
    client.socket.resume();
    await client.until(() => client.responses.length === count, 20_000);
    expect(client.responses.map((response) => response.correlationId)).toEqual(Array.from({ length: count }, (_, i) => i));
  });

  it('closes an unreadable header connection only', async () => {
    const { port } = await start();
    const bad = await connect(port);
    bad.send(Buffer.from([0, 0, 0, 2, 1, 2]));
    await bad.until(() => bad.closed);
  });

  it('refuses connections beyond maxConnections', async () => {
    const { port, server } = await start({ maxConnections: 1 });
    const first = await connect(port);
    await until(() => server.connectionCount === 1);
    const second = await connect(port);
    await second.until(() => second.closed);
    first.send(requestFrame(3, 1, 1, { value: 1 }));
    await first.until(() => first.responses.length === 1);
  });

  it('closes a connection idle for connectionsMaxIdleMs', async () => {
    const { port } = await start({ connectionsMaxIdleMs: 50 });
    const client = await connect(port);
    await client.until(() => client.closed, 3000);
  });

  it('close() answers in-flight requests before closing connections', async () => {
    const { port, server } = await start();
    const client = await connect(port);
    client.send(requestFrame(3, 1, 1, { value: 'late', delayMs: 50 }));
    await until(() => server.connectionCount === 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    await server.close();
    expect(client.responses.map((response) => response.correlationId)).toEqual([1]);
    await client.until(() => client.closed);
  });

  it('publishes connection and request events on diagnostics channels', async () => {
    const events: unknown[] = [];
    const requests: RequestEvent[] = [];
    const onConnection = (message: unknown) => events.push(message);
    const onRequest = (message: unknown) => requests.push(message as RequestEvent);
    diagnosticsChannel.subscribe('gregor:server:connection', onConnection);
    diagnosticsChannel.subscribe('gregor:server:request', onRequest);
    try {
      const { port } = await start();
      const client = await connect(port);
      client.send(requestFrame(3, 2, 9, { value: 1 }));
      await client.until(() => client.responses.length === 1);
      await until(() => requests.length === 1);
      expect(requests[0]).toMatchObject({ apiKey: 3, apiVersion: 2, correlationId: 9 });
      expect(requests[0].durationMs).toBeGreaterThanOrEqual(0);
      expect(events).toContainEqual(expect.objectContaining({ event: 'open' }));
    } finally {
      diagnosticsChannel.unsubscribe('gregor:server:connection', onConnection);
      diagnosticsChannel.unsubscribe('gregor:server:request', onRequest);
    }
  });

  it('answers any pipelined mix of delays, write APIs and acks=0 in arrival order (property)', async () => {
    const { port } = await start({ maxInFlightRequestsPerConnection: 4 });
    let nextCorrelation = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(fc.record({ delayMs: fc.integer({ min: 0, max: 5 }), apiKey: fc.constantFrom(0, 1, 3, 8), silent: fc.boolean() }), { minLength: 1, maxLength: 12 }), async (requests) => {
        const client = await connect(port);
        const expected: number[] = [];
        const frames = requests.map((request) => {
          const correlationId = nextCorrelation++;
          const noResponse = request.apiKey === 0 && request.silent;
          if (!noResponse) expected.push(correlationId);
          return requestFrame(request.apiKey, 3, correlationId, { delayMs: request.delayMs, value: correlationId, noResponse });
        });
        client.send(Buffer.concat(frames));
        await client.until(() => client.responses.length === expected.length);
        client.close();
        expect(client.responses.map((response) => response.correlationId)).toEqual(expected);
      }),
      { numRuns: 25 },
    );
  });
});

/**
 * A client that starts a frame of `declaredBytes` and sends its body only as fast as the server
 * takes it, stopping after `sendBytes` or when the server has taken nothing for `stallMs`.
 */
async function stallPartway(port: number, declaredBytes: number, sendBytes: number, stallMs = 300): Promise<{ client: TestClient; sent: number }> {
  const client = await connect(port);
  const header = Buffer.alloc(12);
  header.writeInt32BE(declaredBytes, 0);
  header.writeInt16BE(0, 4);
  header.writeInt16BE(3, 6);
  client.send(header);
  const block = Buffer.alloc(256 * 1024, 0x20);
  let sent = 0;
  while (sent < sendBytes && !client.closed) {
    const size = Math.min(block.length, sendBytes - sent);
    sent += size;
    if (client.socket.write(block.subarray(0, size))) continue;
    const drained = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), stallMs);
      client.socket.once('drain', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    if (!drained) break;
  }
  return { client, sent };
}

describe('Server memory limits', () => {
  const MiB = 1024 * 1024;

  it('starts a Fetch only when earlier answers are taken, so a client that never reads holds a bounded queue', async () => {
    const { broker, port, server } = await start({ queuedMaxResponseBytesPerConnection: 4 * MiB });
    const client = await connect(port);
    client.socket.pause();
    const count = 80;
    client.send(Buffer.concat(Array.from({ length: count }, (_, i) => requestFrame(1, 4, i, { value: i, bigBytes: MiB }))));
    await until(() => broker.started.length > 0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // What the kernel's socket buffers absorb is started too; the rest waits in the server.
    expect(broker.started.length).toBeLessThan(40);
    expect(broker.maxRunning).toBe(1);
    expect(server.memoryUsage.responseBytes).toBeLessThanOrEqual(4 * MiB + 2 * MiB);
    client.socket.resume();
    await client.until(() => client.responses.length === count, 30_000);
    expect(client.responses.map((response) => response.correlationId)).toEqual(Array.from({ length: count }, (_, i) => i));
    await until(() => server.memoryUsage.responseBytes === 0);
  });

  it('starts nothing more on connections with untaken answers once queuedMaxResponseBytes is passed, and resumes as they drain', async () => {
    const { broker, port, server } = await start({ queuedMaxResponseBytesPerConnection: 64 * MiB, queuedMaxResponseBytes: 4 * MiB });
    const readers = [await connect(port), await connect(port)];
    readers.forEach((client, n) => {
      client.socket.pause();
      client.send(Buffer.concat(Array.from({ length: 5 }, (_, i) => requestFrame(1, 4, i, { value: `${n}-${i}`, bigBytes: 8 * MiB }))));
    });
    await until(() => broker.started.length >= 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Each connection's first answer starts (it had nothing untaken); then the total holds them.
    expect(broker.started.length).toBeLessThanOrEqual(4);
    expect(server.memoryUsage.waitingConnections).toBeGreaterThanOrEqual(1);
    for (const client of readers) client.socket.resume();
    for (const client of readers) await client.until(() => client.responses.length === 5, 30_000);
    expect(broker.started.length).toBe(10);
  });

  it('holds stalled large frames within queuedMaxRequestBytes, still answers small requests, and frees all on close', async () => {
    const config = { socketRequestMaxBytes: 8 * MiB, queuedMaxRequestBytes: 16 * MiB, queuedRequestBytesReservedPerConnection: 64 * 1024 };
    const { broker, port, server } = await start(config);
    const stalled = [];
    for (let i = 0; i < 6; i++) stalled.push(await stallPartway(port, 8 * MiB, 7 * MiB));
    const usage = server.memoryUsage;
    expect(usage.requestBytesCharged).toBeLessThanOrEqual(16 * MiB);
    expect(usage.requestBytesClaimed).toBeLessThanOrEqual(16 * MiB + 6 * 64 * 1024);
    // Two frames fit the budget and were read; the others wait at their reserve.
    expect(stalled.filter(({ sent }) => sent === 7 * MiB).length).toBeGreaterThanOrEqual(2);
    expect(usage.waitingConnections).toBeGreaterThanOrEqual(1);
    const normal = await connect(port);
    normal.send(requestFrame(3, 1, 77, { value: 'small' }));
    await normal.until(() => normal.responses.length === 1);
    expect(normal.responses[0].body).toEqual({ value: 'small', clientId: 'test' });
    for (const { client } of stalled) client.close();
    await until(() => server.connectionCount === 1);
    expect(server.memoryUsage).toEqual({ requestBytesCharged: 0, requestBytesClaimed: 0, responseBytes: 0, waitingConnections: 0 });
    expect(broker.started.map((entry) => entry.value)).toEqual(['small']);
  });

  it('lets a waiting frame in when the budget frees, and answers it', async () => {
    const config = { socketRequestMaxBytes: 2 * MiB, queuedMaxRequestBytes: 2 * MiB, queuedRequestBytesReservedPerConnection: 0 };
    const { port, server } = await start(config);
    const holder = await stallPartway(port, 2 * MiB - 8, MiB);
    const body = JSON.stringify({ value: 'late', pad: 'y'.repeat(MiB) });
    const waiting = await connect(port);
    waiting.send(requestFrame(3, 1, 5, body));
    await until(() => server.memoryUsage.waitingConnections === 1);
    expect(waiting.responses).toEqual([]);
    holder.client.close();
    await waiting.until(() => waiting.responses.length === 1);
    expect(waiting.responses[0].body).toEqual({ value: 'late', clientId: 'test' });
  });

  it('refuses queuedMaxRequestBytes below socketRequestMaxBytes', () => {
    expect(() => new Server({ broker: new FakeBroker(), config: { socketRequestMaxBytes: 10, queuedMaxRequestBytes: 9 }, codec: jsonCodec })).toThrow(/queuedMaxRequestBytes/);
  });
});
