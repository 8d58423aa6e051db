/**
 * `gregor produce --topic T`: Kafka's kafka-console-producer. One record per line of stdin (or
 * --file), parsed as Kafka's LineMessageReader does (`--property parse.key=true ...`) or as JSON
 * lines (`--json`). A missing topic is created when the broker allows it, as kcat and kafkajs do.
 */
import fs from 'node:fs';
import readline from 'node:readline';
import type { CompressionInput, Message } from '@gregor/client';
import { acksOption, choiceOption, CliError, integerOption, keyValueOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions } from '../connect.js';
import { jsonLineParser, kafkaLineParser, type LineParser } from '../record-parse.js';

const help = `usage: gregor produce --topic T [--property parse.key=true] [--property key.separator=:]... [--key-separator SEP]
                      [--header k=v]... [--partition P] [--json] [--file PATH] [--acks all|1|0]
                      [--compression none|gzip|snappy|lz4|zstd] [--linger-ms 5] [--batch-bytes 16384]

Reads stdin (or --file) and sends one record per line. The line format is Kafka's console
producer's, set with --property: parse.key=true splits the key off at key.separator (a tab by
default), parse.headers=true reads headers first (h1:v1,h2:v2 then headers.delimiter, a tab),
null.marker=X sends X as a null key or value, ignore.error=true accepts lines without a
separator. --key-separator SEP is short for parse.key=true and key.separator=SEP.
With --json, each line is an object: {"key":"k","value":"v","headers":{"h":"1"},"partition":0}
(what gregor consume --json prints). --header adds a header to every record; --partition sends
every record to one partition (otherwise keyed records go where Kafka's partitioner puts them).
--acks all (or -1) waits for every in-sync replica, 1 for the leader, 0 for nothing. With acks all
(the default) the producer is idempotent, as Kafka's producer is by default: a batch is retried
until it is acknowledged or delivery.timeout.ms (120 s) passes, through a leader failover in a
cluster, and a retried batch the broker already has is not stored twice.

${connectionHelp}

Examples:
  printf 'user-1:hello\\nuser-2:hi\\n' | gregor produce --topic orders --key-separator : --bootstrap-server 127.0.0.1:9092
  gregor produce --topic orders --json --file orders.jsonl --acks all --dir ./data`;

const SEND_CHUNK_RECORDS = 1000;
const COMPRESSIONS = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const;

const options = {
  ...connectionOptions,
  topic: { type: 'string' },
  property: { type: 'string', multiple: true },
  'key-separator': { type: 'string' },
  header: { type: 'string', multiple: true },
  partition: { type: 'string' },
  json: { type: 'boolean' },
  file: { type: 'string' },
  acks: { type: 'string' },
  compression: { type: 'string' },
  'linger-ms': { type: 'string' },
  'batch-bytes': { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
  const topic = requiredOption(values.topic, 'topic');
  const acks = acksOption(values.acks);
  const compression = choiceOption(values.compression, 'compression', COMPRESSIONS, 'none');
  const partition = values.partition === undefined ? undefined : integerOption(values.partition, 'partition', 0, { min: 0 });
  const lingerMs = integerOption(values['linger-ms'], 'linger-ms', 5, { min: 0 });
  const batchBytes = integerOption(values['batch-bytes'], 'batch-bytes', 16384, { min: 1 });
  const parse = lineParser(values);
  const extraHeaders = Object.fromEntries(keyValueOption(values.header, 'header').map(({ name, value }) => [name, value]));
  const input = values.file === undefined ? process.stdin : openInput(values.file);

  const connection = await connect(values, 'gregor-console-producer');
  // Kafka's producer default since 3.0: enable.idempotence=true with acks=all.
  const producer = connection.producer({ acks, lingerMs, batchBytes, compression: compression as CompressionInput, idempotent: acks === -1 });
  let sent = 0;
  try {
    await producer.connect();
    let pending: Message[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const messages = pending;
      pending = [];
      await producer.send({ topic, messages, acks });
      sent += messages.length;
    };
    let lineNumber = 0;
    for await (const line of readline.createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY })) {
      lineNumber++;
      if (values.json && line.trim() === '') continue;
      const record = parse(line, lineNumber);
      const headers = values.header === undefined ? record.headers : { ...record.headers, ...extraHeaders };
      pending.push({ key: record.key, value: record.value, headers, partition: partition ?? record.partition, timestamp: record.timestamp });
      if (pending.length >= SEND_CHUNK_RECORDS) await flush();
    }
    await flush();
  } finally {
    await connection.close();
  }
  console.error(`${sent} records sent to ${topic}`);
}

function lineParser(values: { property?: string[]; 'key-separator'?: string; json?: boolean }): LineParser {
  const properties = new Map(keyValueOption(values.property, 'property').map(({ name, value }) => [name, value]));
  if (values.json) {
    if (properties.size > 0 || values['key-separator'] !== undefined) throw new CliError('--json reads whole records; it takes no --property or --key-separator');
    return jsonLineParser();
  }
  if (values['key-separator'] !== undefined) {
    properties.set('parse.key', 'true');
    properties.set('key.separator', values['key-separator']);
  }
  return kafkaLineParser(properties);
}

function openInput(file: string): NodeJS.ReadableStream {
  // Opened synchronously so a missing file is reported before connecting.
  const fd = fs.openSync(file, 'r');
  return fs.createReadStream('', { fd });
}
