/**
 * How a CLI command reaches a broker: `--bootstrap-server host:port` connects over TCP (to
 * `gregor serve` or Apache Kafka), as every Kafka tool does; otherwise the command opens the data
 * directory (`--dir`, default ./data) in-process, which fails while a running `gregor serve` holds
 * it: the failure says to use `--bootstrap-server` instead.
 */
import type { Admin, Consumer, ConsumerOptions, Producer, ProducerOptions } from '@gregor/client';
import { Client } from '@gregor/client';
import { Gregor } from '../gregor.js';
import { CliError, CommandFailedError } from './args.js';
import { clientSecurity, readClientProperties } from './client-properties.js';

export const connectionOptions = {
  'bootstrap-server': { type: 'string' },
  'command-config': { type: 'string' },
  dir: { type: 'string' },
} as const;

export const connectionHelp = `connection (one of):
  --bootstrap-server host:port   a running broker: gregor serve (pnpm start serves 127.0.0.1:9092), or Apache Kafka
  --dir path                     open this data directory in this process (default ./data; not while gregor serve uses it)
  --command-config file          Kafka client settings for --bootstrap-server: security.protocol, sasl.mechanism,
                                 sasl.username/sasl.password or sasl.jaas.config, ssl.ca.location (docs/security.md)`;

export interface Connection {
  producer(options?: ProducerOptions & { allowAutoTopicCreation?: boolean }): Producer;
  consumer(options: ConsumerOptions & { allowAutoTopicCreation?: boolean }): Consumer;
  admin(): Admin;
  close(): Promise<void>;
  /** The bootstrap address, or the data directory's absolute path. */
  describe: string;
  /** The data directory when opened in-process. */
  dir: string | undefined;
}

/** `host:port[,host:port...]`, each checked, so a missing port is one clear line. */
export function bootstrapAddresses(value: string): string[] {
  return value.split(',').map((item) => {
    const address = item.trim();
    const at = address.lastIndexOf(':');
    const port = Number(address.slice(at + 1));
    if (at <= 0 || address.slice(at + 1) === '' || !Number.isInteger(port) || port < 1 || port > 65535) {
      throw new CliError(`--bootstrap-server takes host:port with a port from 1 to 65535 (for example 127.0.0.1:9092), got '${address}'`);
    }
    return address;
  });
}

export async function connect(values: { 'bootstrap-server'?: string; dir?: string; 'command-config'?: string }, clientId: string): Promise<Connection> {
  const bootstrap = values['bootstrap-server'];
  if (bootstrap !== undefined && values.dir !== undefined) throw new CliError('give either --bootstrap-server or --dir, not both');
  const commandConfig = values['command-config'];
  if (commandConfig !== undefined && bootstrap === undefined) throw new CliError('--command-config applies to --bootstrap-server connections');
  if (bootstrap !== undefined) {
    const brokers = bootstrapAddresses(bootstrap);
    const security = commandConfig === undefined ? {} : clientSecurity(readClientProperties(commandConfig));
    const client = new Client({ brokers, clientId, ...security });
    const opened: { disconnect(): Promise<void> }[] = [];
    const keep = <T extends { disconnect(): Promise<void> }>(item: T): T => {
      opened.push(item);
      return item;
    };
    return {
      producer: (options) => keep(client.producer(options)),
      consumer: (options) => keep(client.consumer(options)),
      admin: () => keep(client.admin()),
      close: async () => {
        await Promise.allSettled(opened.map((item) => item.disconnect()));
      },
      describe: brokers.join(','),
      dir: undefined,
    };
  }
  const gregor = await openDataDir(values.dir ?? './data', clientId);
  return {
    producer: (options) => gregor.producer(options),
    consumer: (options) => gregor.consumer(options),
    admin: () => gregor.admin(),
    close: () => gregor.close(),
    describe: gregor.dir,
    dir: gregor.dir,
  };
}

async function openDataDir(dir: string, clientId: string): Promise<Gregor> {
  try {
    // This command is the directory's only user, so no other member can join its groups: waiting
    // group.initial.rebalance.delay.ms for them would only delay the console consumer.
    return await Gregor.open({ dir, clientId, config: { groupInitialRebalanceDelayMs: 0 } });
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'DATA_DIR_LOCKED') throw error;
    throw dataDirLocked(dir, error, '(a running gregor serve?); reach that broker with --bootstrap-server host:port instead (pnpm start serves 127.0.0.1:9092), or stop it');
  }
}

/** The one line for a DATA_DIR_LOCKED `error`: which process holds `dir`, then `whatToDo`. */
export function dataDirLocked(dir: string, error: unknown, whatToDo: string): CommandFailedError {
  const pid = (error as { pid?: unknown }).pid;
  const holder = typeof pid === 'number' && pid > 0 ? `process ${pid}` : 'another process';
  return new CommandFailedError('DATA_DIR_LOCKED', `the data directory ${dir} is in use by ${holder} ${whatToDo}`, { cause: error });
}

/** Prints rows as aligned columns, as Kafka's tools do. */
export function printTable(header: string[], rows: (string | number | boolean | null | undefined)[][]): void {
  const cells = [header, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined || cell === '' ? '-' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  for (const row of cells) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}

/** Runs `work` with an admin client connected, closing the connection afterwards. */
export async function withAdmin<T>(connection: Connection, work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = connection.admin();
  try {
    await admin.connect();
    return await work(admin);
  } finally {
    await connection.close();
  }
}
