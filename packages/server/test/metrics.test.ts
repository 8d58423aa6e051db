import { afterEach, describe, expect, it } from 'vitest';
import { HttpEndpoint, Server, silentLogger } from '../src/index.js';
import { jsonCodec, requestFrame, TestClient } from './support/json-codec.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('HttpEndpoint', () => {
  it('serves /health while the Kafka listener is up and counts connections and requests on /metrics', async () => {
    const broker = { handle: async (_apiKey: number, _apiVersion: number, body: any) => (body.fail ? Promise.reject(new Error('no')) : { ok: true }) };
    const server = new Server({ broker, logger: silentLogger, codec: jsonCodec });
    const { port } = await server.listen({ port: 0 });
    const endpoint = new HttpEndpoint({ server });
    const http = await endpoint.listen({ port: 0 });
    cleanups.push(() => endpoint.close());
    const base = `http://127.0.0.1:${http.port}`;

    const client = await TestClient.connect(port);
    cleanups.push(() => client.close());
    client.send(Buffer.concat([requestFrame(3, 1, 1, {}), requestFrame(3, 1, 2, {}), requestFrame(3, 2, 3, { fail: true })]));
    await client.until(() => client.responses.length === 3);

    const health = await fetch(`${base}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok', kafka: { host: '127.0.0.1', port }, connections: 1 });
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('gregor_server_connections_open 1\n');
    expect(metrics).toContain('gregor_server_requests_total{api_key="3",api_version="1"} 2\n');
    expect(metrics).toContain('gregor_server_requests_failed_total{api_key="3",api_version="2"} 1\n');
    expect(metrics).toContain('kafka_network_socketserver_memorypoolused 0\n');
    expect(metrics).toContain(`kafka_network_socketserver_memorypoolavailable ${server.config.queuedMaxRequestBytes}\n`);
    expect(metrics).toContain('gregor_server_response_bytes_queued 0\n');
    expect((await fetch(`${base}/nothing`)).status).toBe(404);

    await server.close();
    expect((await fetch(`${base}/health`)).status).toBe(503);
  });
});
