/**
 * How a CLI command reaches a broker: `--bootstrap-server host:port` connects over TCP (to
 * `gregor serve` or Apache Kafka); otherwise the command opens the data directory (`--dir`,
 * default ./data) in-process, which fails if a running `gregor serve` holds it.
 */
import type { Admin, Consumer, ConsumerOptions, Producer, ProducerOptions } from '@gregor/client';
import { Client } from '@gregor/client';
import { Gregor } from '../gregor.js';

export const connectionOptions = {
  'bootstrap-server': { type: 'string' },
  dir: { type: 'string' },
} as const;

export const connectionHelp = `connection:
  --bootstrap-server host:port   a running broker (gregor serve, or Apache Kafka)
  --dir path                     open this data directory in-process (default ./data)`;

export interface Connection {
  producer(options?: ProducerOptions): Producer;
  consumer(options: ConsumerOptions): Consumer;
  admin(): Admin;
  close(): Promise<void>;
  describe: string;
}

export async function connect(values: { 'bootstrap-server'?: string; dir?: string }, clientId: string): Promise<Connection> {
  const bootstrap = values['bootstrap-server'];
  if (bootstrap !== undefined) {
    const client = new Client({ brokers: bootstrap.split(','), clientId });
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
      describe: bootstrap,
    };
  }
  const gregor = await Gregor.open({ dir: values.dir ?? './data', clientId });
  return {
    producer: (options) => gregor.producer(options),
    consumer: (options) => gregor.consumer(options),
    admin: () => gregor.admin(),
    close: () => gregor.close(),
    describe: gregor.dir,
  };
}

/** Prints rows as aligned columns, as Kafka's tools do. */
export function printTable(header: string[], rows: (string | number | null | undefined)[][]): void {
  const cells = [header, ...rows.map((row) => row.map((cell) => (cell === null || cell === undefined ? '-' : String(cell))))];
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]?.length ?? 0)));
  for (const row of cells) console.log(row.map((cell, column) => cell.padEnd(widths[column] ?? 0)).join('  ').trimEnd());
}
