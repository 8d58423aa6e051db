/**
 * Ports for the nodes of a cluster on this machine whose voters must name each other's CONTROLLER
 * port before any of them starts (`Gregor.openCluster`, `gregor cluster start`).
 *
 * The ports are picked below the operating system's ephemeral range. A port the OS handed out for
 * port 0 and that we released again could be handed out a moment later to any other socket on the
 * machine (another server binding port 0, an outgoing connection) before the node binds it; a CI
 * run lost a test to exactly that ("address already in use" on the node's start). Below the
 * ephemeral range only a program that names the port itself can take it.
 */
import net from 'node:net';

/** Ports `[low, high)`. */
export interface PortRange {
  low: number;
  high: number;
}

/**
 * Below the ephemeral ranges of Linux (32768-60999), macOS and Windows (49152-65535), and above
 * the ports services usually register.
 */
export const CLUSTER_PORT_RANGE: PortRange = { low: 20_000, high: 32_768 };

/** Thrown when `count` bindable ports are not found in the range. */
export class NoFreePortsError extends Error {
  readonly code = 'NO_FREE_PORTS';
  readonly retriable = false;
  constructor(host: string, range: PortRange, count: number, found: number) {
    super(`found ${found} of ${count} free ports on ${host} in ${range.low}-${range.high - 1}`);
    this.name = 'NoFreePortsError';
  }
}

/** Per range, where this process's next search starts: after the last port it handed out. */
const nextStart = new Map<string, number>();

/**
 * `count` distinct ports of `range` that `host` can bind now; each is bound while the search goes
 * on and released at the end, so the nodes can bind them. The first search in a process starts at
 * a random port (`random()` in [0, 1)), every later one after the last port handed out, so this
 * process does not hand out a port again before it has gone round the range: the nodes of an
 * earlier call may not have bound theirs yet (a test that picks its nodes' ports, then its proxies'
 * ports, before any node starts).
 */
export async function freeLoopbackPorts(host: string, count: number, range: PortRange = CLUSTER_PORT_RANGE, random: () => number = Math.random): Promise<number[]> {
  const size = range.high - range.low;
  const key = `${range.low}-${range.high}`;
  const start = nextStart.get(key) ?? Math.floor(random() * size);
  const held: net.Server[] = [];
  try {
    let tried = 0;
    for (; tried < size && held.length < count; tried++) {
      const server = await bindOrNull(host, range.low + ((start + tried) % size));
      if (server !== null) held.push(server);
    }
    nextStart.set(key, (start + tried) % size);
    if (held.length < count) throw new NoFreePortsError(host, range, count, held.length);
    return held.map((server) => (server.address() as net.AddressInfo).port);
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
}

function bindOrNull(host: string, port: number): Promise<net.Server | null> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE' || error.code === 'EACCES') resolve(null);
      else reject(error);
    });
    server.listen({ host, port, exclusive: true }, () => resolve(server));
  });
}
