/**
 * `gregor consume --topic T`: Kafka's kafka-console-consumer, with kcat's format string and JSON
 * output. In a group (--group, or a fresh one that commits nothing, as Kafka's console consumer
 * picks a new group id) or from one partition (--partition with --offset). A topic that does not
 * exist is an error, not created: reading never creates topics.
 */
import type { Admin, Consumer } from '@gregor/client';
import { CliError, CommandFailedError, integerOption, keyValueOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions } from '../connect.js';
import { jsonFormatter, kafkaFormatter, kcatFormatter, type RecordFormatter } from '../record-format.js';
import { missingTopic } from './topics.js';

const help = `usage: gregor consume --topic T [--group G] [--from-beginning] [--partition P [--offset earliest|latest|N]]
                      [--max-messages N] [--timeout-ms MS]
                      [--property print.key=true]... [--print-key] [--print-offset] | [--format FMT] | [--json]

Prints each record, one per line. With --group the consumer joins that group, starts at its
committed offsets and commits what it printed; without it a fresh group is used that commits
nothing. --from-beginning starts where no offset is committed at the first offset, instead of the
end. --partition reads one partition, from --offset (earliest, latest or an offset; default
latest, or earliest with --from-beginning). Stops after --max-messages records, after --timeout-ms
without a new record, or on Ctrl-C.

Output: the value only by default. --property sets Kafka's console consumer formatter:
print.key, print.timestamp, print.partition, print.offset, print.headers, print.value (true/false),
key.separator, line.separator, headers.separator, headers.key.separator, null.literal.
--print-key and --print-offset are short for print.key=true and print.partition/print.offset=true.
--format takes kcat's format string (%t topic, %p partition, %o offset, %k key, %s value,
%K/%S their lengths, %T timestamp, %h headers, \\n, \\t). --json prints one object per record:
{"topic","partition","offset","timestamp","key","value","headers"}.

${connectionHelp}

Examples:
  gregor consume --topic orders --group readers --from-beginning --max-messages 10 --bootstrap-server 127.0.0.1:9092
  gregor consume --topic orders --partition 0 --offset 42 --format '%p %o %k=%s\\n' --dir ./data
  gregor consume --topic orders --from-beginning --timeout-ms 1000 --json --dir ./data > orders.jsonl`;

const options = {
  ...connectionOptions,
  topic: { type: 'string' },
  group: { type: 'string' },
  'from-beginning': { type: 'boolean' },
  partition: { type: 'string' },
  offset: { type: 'string' },
  'max-messages': { type: 'string' },
  'timeout-ms': { type: 'string' },
  property: { type: 'string', multiple: true },
  'print-key': { type: 'boolean' },
  'print-offset': { type: 'boolean' },
  format: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof options>>['values'];

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
  const topic = requiredOption(values.topic, 'topic');
  const maxMessages = integerOption(values['max-messages'], 'max-messages', -1, { min: 1 });
  const timeoutMs = integerOption(values['timeout-ms'], 'timeout-ms', -1, { min: 0 });
  const partition = values.partition === undefined ? undefined : integerOption(values.partition, 'partition', 0, { min: 0 });
  if (partition !== undefined && values.group !== undefined) throw new CliError('--partition reads one partition outside any group; it cannot be used with --group');
  if (values.offset !== undefined && partition === undefined) throw new CliError('--offset needs --partition');
  if (values.offset !== undefined && values['from-beginning']) throw new CliError('give --offset or --from-beginning, not both');
  const formatter = chooseFormatter(values);

  const connection = await connect(values, 'gregor-console-consumer');
  let consumer: Consumer | undefined;
  let received = 0;
  try {
    const admin = connection.admin();
    await admin.connect();
    const partitions = await topicPartitions(admin, topic);
    const startOffset = partition === undefined ? undefined : await resolveStart(admin, topic, partition, partitions, values);
    consumer = connection.consumer({ groupId: values.group ?? `console-consumer-${Math.floor(Math.random() * 100000)}`, allowAutoTopicCreation: false });
    received = await printRecords(consumer, { topic, partition, startOffset, partitions, values, formatter, maxMessages, timeoutMs });
  } finally {
    await connection.close();
  }
  console.error(`Processed a total of ${received} messages`);
}

function chooseFormatter(values: Values): RecordFormatter {
  const properties = new Map(keyValueOption(values.property, 'property').map(({ name, value }) => [name, value]));
  const chosen = [values.format !== undefined, values.json === true, properties.size > 0 || values['print-key'] === true || values['print-offset'] === true].filter(Boolean).length;
  if (chosen > 1) throw new CliError('choose one output: --format, --json, or --property/--print-key/--print-offset');
  if (values.format !== undefined) return kcatFormatter(values.format);
  if (values.json) return jsonFormatter();
  if (values['print-key']) properties.set('print.key', 'true');
  if (values['print-offset']) {
    properties.set('print.partition', 'true');
    properties.set('print.offset', 'true');
  }
  return kafkaFormatter(properties);
}

async function topicPartitions(admin: Admin, topic: string): Promise<number[]> {
  const { topics } = await admin.fetchTopicMetadata();
  const found = topics.find((t) => t.name === topic);
  if (found === undefined) throw missingTopic(topic);
  return found.partitions.map((p) => p.partitionId).sort((a, b) => a - b);
}

/** The first offset to read of a single partition: earliest, latest or a number within the log. */
async function resolveStart(admin: Admin, topic: string, partition: number, partitions: number[], values: Values): Promise<number> {
  if (!partitions.includes(partition)) throw new CommandFailedError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' has no partition ${partition} (it has ${partitions.length})`);
  const offsets = (await admin.fetchTopicOffsets(topic)).find((o) => o.partition === partition);
  const low = Number(offsets?.low ?? 0);
  const high = Number(offsets?.high ?? 0);
  const requested = values.offset ?? (values['from-beginning'] ? 'earliest' : 'latest');
  if (requested === 'earliest') return low;
  if (requested === 'latest') return high;
  const offset = integerOption(requested, 'offset', 0);
  if (offset < low || offset > high) throw new CommandFailedError('OFFSET_OUT_OF_RANGE', `--offset ${offset} is outside ${topic}-${partition}, which holds offsets ${low} to ${high - 1} (earliest and latest also work)`);
  return offset;
}

interface PrintPlan {
  topic: string;
  partition: number | undefined;
  startOffset: number | undefined;
  partitions: number[];
  values: Values;
  formatter: RecordFormatter;
  maxMessages: number;
  timeoutMs: number;
}

/** Runs the consumer until enough records, the idle timeout or Ctrl-C; resolves to the count printed. */
async function printRecords(consumer: Consumer, plan: PrintPlan): Promise<number> {
  const { topic, partition, maxMessages, timeoutMs, formatter } = plan;
  let received = 0;
  let idleTimer: NodeJS.Timeout | undefined;
  let finish!: () => void;
  let fail!: (error: unknown) => void;
  const done = new Promise<void>((resolve, reject) => {
    finish = resolve;
    fail = reject;
  });
  const armIdleTimer = () => {
    if (timeoutMs < 0) return;
    clearTimeout(idleTimer);
    idleTimer = setTimeout(finish, timeoutMs);
  };
  const onSignal = () => finish();
  process.once('SIGINT', onSignal);
  consumer.on('consumer.crash', (event: { payload: { error: unknown } }) => fail(event.payload.error));
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: plan.values['from-beginning'] ?? false });
    if (partition !== undefined) {
      // One partition: the others are paused before the group hands them out, and the partition
      // starts at the chosen offset (a seek given before assignment applies on assignment).
      const others = plan.partitions.filter((p) => p !== partition);
      if (others.length > 0) consumer.pause([{ topic, partitions: others }]);
      consumer.seek({ topic, partition, offset: plan.startOffset ?? 0 });
    }
    armIdleTimer();
    await consumer.run({
      autoCommit: plan.values.group !== undefined,
      eachMessage: async ({ partition: from, message }) => {
        if (maxMessages >= 0 && received >= maxMessages) return;
        received++;
        process.stdout.write(
          formatter({
            topic,
            partition: from,
            offset: message.offset,
            timestamp: message.timestamp,
            key: message.key,
            value: message.value,
            headers: message.headers,
          }),
        );
        armIdleTimer();
        if (maxMessages >= 0 && received >= maxMessages) finish();
      },
    });
    await done;
  } finally {
    clearTimeout(idleTimer);
    process.off('SIGINT', onSignal);
  }
  return received;
}
