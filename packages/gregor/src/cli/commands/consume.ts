/** `gregor consume --topic T`: Kafka's kafka-console-consumer. */
import { integerOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions } from '../connect.js';

const help = `usage: gregor consume --topic T [--group G] [--from-beginning] [--max-messages N]
                      [--timeout-ms MS] [--print-key] [--print-offset]

Prints each record's value, one per line. Without --group a fresh group is used (as Kafka's
console consumer does), so it starts from the end unless --from-beginning. Stops after
--max-messages records, after --timeout-ms without a new record, or on Ctrl-C.

${connectionHelp}`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseCommand(
    argv,
    {
      ...connectionOptions,
      topic: { type: 'string' },
      group: { type: 'string' },
      'from-beginning': { type: 'boolean' },
      'max-messages': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'print-key': { type: 'boolean' },
      'print-offset': { type: 'boolean' },
    },
    help,
  );
  const topic = requiredOption(values.topic, 'topic');
  const maxMessages = integerOption(values['max-messages'], 'max-messages', -1);
  const timeoutMs = integerOption(values['timeout-ms'], 'timeout-ms', -1);
  const groupId = values.group ?? `console-consumer-${Math.floor(Math.random() * 100000)}`;
  const connection = await connect(values, 'gregor-console-consumer');
  const consumer = connection.consumer({ groupId });
  let received = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  let crashed: Error | null = null;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // A consumer that stops on its own (a damaged batch, an error it cannot retry) ends the command.
  consumer.on('consumer.crash', (event: { payload: { error: Error } }) => {
    crashed = event.payload.error;
    finish();
  });
  const armIdleTimer = () => {
    if (timeoutMs < 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(finish, timeoutMs);
  };
  process.once('SIGINT', () => finish());
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: values['from-beginning'] ?? false });
    armIdleTimer();
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        if (maxMessages >= 0 && received >= maxMessages) return;
        received++;
        const parts: string[] = [];
        if (values['print-offset']) parts.push(`${partition}:${message.offset}`);
        if (values['print-key']) parts.push(message.key === null ? 'null' : message.key.toString());
        parts.push(message.value === null ? 'null' : message.value.toString());
        process.stdout.write(`${parts.join('\t')}\n`);
        armIdleTimer();
        if (maxMessages >= 0 && received >= maxMessages) finish();
      },
    });
    await done;
  } finally {
    clearTimeout(idleTimer);
    await connection.close();
  }
  console.error(`Processed a total of ${received} messages`);
  if (crashed !== null) {
    console.error(`gregor: ${(crashed as Error).message}`);
    process.exitCode = 1;
  }
}
