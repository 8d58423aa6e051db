import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_PORT_RANGE, freeLoopbackPorts, NoFreePortsError } from '../../src/node/free-ports.js';
import { workerPortRange } from './support.js';

const held: net.Server[] = [];

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port }, () => {
      held.push(server);
      resolve(server);
    });
  });
}

afterEach(async () => {
  await Promise.all(held.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

describe('free loopback ports for cluster nodes', () => {
  it('hands out distinct ports below the ephemeral range that a node can bind afterwards', async () => {
    const ports = await freeLoopbackPorts('127.0.0.1', 6);
    expect(new Set(ports).size).toBe(6);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(CLUSTER_PORT_RANGE.low);
      expect(port).toBeLessThan(32_768);
      await listen(port);
    }
  });

  it('skips a port something else listens on', async () => {
    const first = await freeLoopbackPorts('127.0.0.1', 1);
    const range = { low: first[0] as number, high: (first[0] as number) + 50 };
    await listen(range.low);
    const ports = await freeLoopbackPorts('127.0.0.1', 2, range, () => 0);
    expect(ports).not.toContain(range.low);
    expect(ports.every((port) => port > range.low && port < range.high)).toBe(true);
  });

  it('does not hand out again a port an earlier call handed out, though nothing has bound it yet', async () => {
    const [base] = await freeLoopbackPorts('127.0.0.1', 1);
    const range = { low: base as number, high: (base as number) + 40 };
    // The nodes' ports, then the proxies' ports, all picked before any node binds its own.
    const nodes = await freeLoopbackPorts('127.0.0.1', 6, range, () => 0);
    const proxies = await freeLoopbackPorts('127.0.0.1', 3, range, () => 0);
    expect(new Set([...nodes, ...proxies]).size).toBe(9);
  });

  it('wraps around the end of the range and fails with a typed error when too few ports are free', async () => {
    const [port] = await freeLoopbackPorts('127.0.0.1', 1);
    const range = { low: port as number, high: (port as number) + 2 };
    await listen(range.low + 1);
    expect(await freeLoopbackPorts('127.0.0.1', 1, range, () => 0.99)).toEqual([range.low]);
    await listen(range.low);
    const error = await freeLoopbackPorts('127.0.0.1', 2, range).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(NoFreePortsError);
    expect(error).toMatchObject({ code: 'NO_FREE_PORTS', retriable: false });
  });

  it('gives every test worker its own slice of the range', () => {
    expect(Number(process.env.VITEST_POOL_ID)).toBeGreaterThan(0);
    const slices = Array.from({ length: 8 }, (_, index) => workerPortRange(index + 1));
    for (const [index, slice] of slices.entries()) {
      // Below the range Gregor.openCluster and gregor cluster start pick from, and above the well-known ports.
      expect(slice.low).toBeGreaterThanOrEqual(10_000);
      expect(slice.high).toBeLessThanOrEqual(CLUSTER_PORT_RANGE.low);
      expect(slice.high - slice.low).toBeGreaterThan(1000);
      if (index > 0) expect(slice.low).toBeGreaterThanOrEqual((slices[index - 1] as { high: number }).high);
    }
    expect(workerPortRange(9)).toEqual(workerPortRange(1));
  });
});
