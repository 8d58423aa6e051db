/** `gregor produce --topic T`: Kafka's kafka-console-producer, one record per line of stdin. */
import readline from 'node:readline';
import type { CompressionInput } from '@gregor/client';
import { integerOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions } from '../connect.js';

const help = `usage: gregor produce --topic T [--key-separator SEP] [--acks -1|0|1] [--compression none|gzip|snappy|lz4|zstd]
                      [--linger-ms 5] [--batch-bytes 16384]

Reads stdin and sends one record per line. With --key-separator, the text before the first
separator is the key and the rest the value.

${connectionHelp}`;

const SEND_CHUNK_RECORDS = 1000;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseCommand(
    argv,
    {
      ...connectionOptions,
      topic: { type: 'string' },
      'key-separator': { type: 'string' },
      acks: { type: 'string' },
      compression: { type: 'string' },
      'linger-ms': { type: 'string' },
      'batch-bytes': { type: 'string' },
    },
    help,
  );
  const topic = requiredOption(values.topic, 'topic');
  const separator = values['key-separator'];
  const acks = integerOption(values.acks, 'acks', -1);
  const connection = await connect(values, 'gregor-console-producer');
  const producer = connection.producer({
    acks,
    lingerMs: integerOption(values['linger-ms'], 'linger-ms', 5),
    batchBytes: integerOption(values['batch-bytes'], 'batch-bytes', 16384),
    compression: (values.compression ?? 'none') as CompressionInput,
  });
  let sent = 0;
  try {
    await producer.connect();
    let pending: { key: string | null; value: string }[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const messages = pending;
      pending = [];
      await producer.send({ topic, messages, acks });
      sent += messages.length;
    };
    for await (const line of readline.createInterface({ input: process.stdin, crlfDelay: Number.POSITIVE_INFINITY })) {
      if (separator !== undefined && line.includes(separator)) {
        const at = line.indexOf(separator);
        pending.push({ key: line.slice(0, at), value: line.slice(at + separator.length) });
      } else {
        pending.push({ key: null, value: line });
      }
      if (pending.length >= SEND_CHUNK_RECORDS) await flush();
    }
    await flush();
  } finally {
    await connection.close();
  }
  console.error(`${sent} records sent to ${topic}`);
}
