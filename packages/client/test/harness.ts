/**
 * One broker on a MemoryFileSystem that tests reach either in-process or over TCP loopback
 * (`@gregor/server`), and that `restart()` closes and reopens on the same directory (and port),
 * so the same scenario bodies run over both transports.
 */
import { Broker } from '@gregor/broker';
import { MemoryFileSystem } from '@gregor/log';
import { Server, silentLogger } from '@gregor/server';
import { InProcessTransport } from '../src/in-process-transport.js';
import { TcpTransport } from '../src/tcp-transport.js';
import type { Body, Transport } from '../src/transport.js';
import { fastGroupConfig } from './helpers.js';

export interface Harness {
  start(): Promise<void>;
  restart(): Promise<void>;
  transport(): Transport;
  close(): Promise<void>;
}

abstract class BrokerHarness implements Harness {
  protected readonly fs = new MemoryFileSystem();
  protected broker: Broker | null = null;
  protected async openBroker(): Promise<Broker> {
    this.broker = await Broker.open({ dir: '/data', fs: this.fs, config: fastGroupConfig });
    return this.broker;
  }
  abstract start(): Promise<void>;
  abstract restart(): Promise<void>;
  abstract transport(): Transport;
  abstract close(): Promise<void>;
}

export class InProcessHarness extends BrokerHarness {
  // Transports call whichever broker is current, so they survive a restart.
  private readonly handler = { handle: (apiKey: number, apiVersion: number, body: Body, context: Body) => this.broker!.handle(apiKey, apiVersion, body, context) };
  async start() {
    await this.openBroker();
  }
  async restart() {
    await this.broker!.close();
    await this.openBroker();
  }
  transport(): Transport {
    return new InProcessTransport(this.handler);
  }
  async close() {
    await this.broker?.close();
  }
}

export class TcpHarness extends BrokerHarness {
  private server: Server | null = null;
  private port = 0;
  private readonly transports: Transport[] = [];
  private async listen() {
    const broker = await this.openBroker();
    this.server = new Server({ broker, logger: silentLogger });
    this.port = (await this.server.listen({ host: '127.0.0.1', port: this.port })).port;
  }
  async start() {
    await this.listen();
  }
  async restart() {
    await this.server!.close();
    await this.broker!.close();
    await this.listen();
  }
  transport(): Transport {
    const transport = new TcpTransport({ brokers: [`127.0.0.1:${this.port}`], requestTimeoutMs: 5000, reconnectBackoffMs: 20, reconnectBackoffMaxMs: 200 });
    this.transports.push(transport);
    return transport;
  }
  async close() {
    for (const t of this.transports.splice(0)) await t.close();
    await this.server?.close();
    await this.broker?.close();
  }
}
