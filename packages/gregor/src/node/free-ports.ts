/**
 * Ports for the nodes of a cluster on this machine whose voters must name each other's CONTROLLER
 * port before any of them starts (`Gregor.openCluster`, `gregor cluster start`).
 */
import net from 'node:net';

/**
 * `count` ports the OS hands out for port 0 on `host`, released at once so the nodes can bind
 * them: the voters must name each controller's port before any node starts. Another process may
 * take one in between (rare); the open then fails with the bind error.
 */
export async function freeLoopbackPorts(host: string, count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: count }, () =>
      new Promise<net.Server>((resolve, reject) => {
        const server = net.createServer();
        server.once('error', reject);
        server.listen({ host, port: 0 }, () => resolve(server));
      }),
    ),
  );
  const ports = servers.map((server) => (server.address() as net.AddressInfo).port);
  await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  return ports;
}

