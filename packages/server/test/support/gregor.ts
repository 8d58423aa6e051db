/**
 * Starts a real Broker (temp dir on the real file system) and a Server on 127.0.0.1 port 0, for
 * interop tests; `close()` closes both and removes the directory.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Broker, type BrokerConfig } from '@gregor/broker';
import { nodeFileSystem, systemClock } from '@gregor/log';
import { type Logger, type ServerConfig, silentLogger, Server } from '../../src/index.js';

export interface RunningGregor {
  broker: Broker;
  server: Server;
  port: number;
  bootstrap: string;
  dir: string;
  close(): Promise<void>;
}

export async function startGregor(serverConfig: Partial<ServerConfig> = {}, logger?: Logger, brokerConfig: Partial<BrokerConfig> = {}): Promise<RunningGregor> {
  const dir = await mkdtemp(path.join(tmpdir(), 'gregor-server-'));
  const broker = await Broker.open({ dir, fs: nodeFileSystem, clock: systemClock, random: Math.random, config: { groupInitialRebalanceDelayMs: 0, ...brokerConfig } });
  const server = new Server({ broker, config: serverConfig, logger: logger ?? (process.env.GREGOR_TEST_LOG ? undefined : silentLogger) });
  const { port } = await server.listen({ host: '127.0.0.1', port: 0 });
  return {
    broker,
    server,
    port,
    bootstrap: `127.0.0.1:${port}`,
    dir,
    async close() {
      await server.close();
      await broker.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
