/**
 * Quickstart: the embedded log in five steps. Opens a data directory, creates a topic, produces,
 * consumes in a group and commits, closes; then reopens the same directory, produces more, and a
 * consumer of the same group starts exactly after the committed offsets, because the group's
 * offsets live in `__consumer_offsets` on disk like any other data.
 *
 *   pnpm example examples/quickstart.ts [--dir ./data/examples/quickstart] [--duration-ms 10000] [--keep]
 */
import { type Consumer, Gregor } from 'gregor';
import { DURATION_MS_DEFAULT, type ExampleOptions, isRunDirectly, logger, prepareDataDir, runFromCommandLine, waitFor, withKeepAlive } from './lib/common.js';

const TOPIC = 'greetings';
const GROUP = 'quickstart-group';
const PARTITIONS = 2;
const FIRST_RUN_RECORDS = 10;
const SECOND_RUN_RECORDS = 5;

/** Broker settings a local setup uses: rebalance at once instead of waiting 3 s for more members. */
const BROKER_CONFIG = { groupInitialRebalanceDelayMs: 0 };

export interface ConsumedRecord {
  partition: number;
  offset: number;
  key: string;
  value: string;
}

export interface QuickstartSummary {
  dir: string;
  firstRun: { produced: number; consumed: ConsumedRecord[]; committed: Record<number, number> };
  secondRun: { produced: number; consumed: ConsumedRecord[]; firstOffsetByPartition: Record<number, number> };
  /** True when the second run's first offset on every partition is the first run's committed offset. */
  resumedAtCommitted: boolean;
}

export function main(options: ExampleOptions = {}): Promise<QuickstartSummary> {
  return withKeepAlive(() => run(options));
}

async function run(options: ExampleOptions): Promise<QuickstartSummary> {
  const log = logger(options);
  const timeoutMs = options.durationMs ?? DURATION_MS_DEFAULT;
  const dir = prepareDataDir('quickstart', options);

  log(`1. open ${dir}`);
  const first = await Gregor.open({ dir, config: BROKER_CONFIG });
  let firstRun: QuickstartSummary['firstRun'];
  try {
    const admin = first.admin();
    await admin.connect();
    const created = await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
    log(`2. topic ${TOPIC} with ${PARTITIONS} partitions ${created ? 'created' : 'already there'}`);
    log('3. produce, then consume in the group and commit');
    const produced = await produce(first, 'hello', FIRST_RUN_RECORDS, log);
    const consumed = await consumeAll(first, FIRST_RUN_RECORDS, timeoutMs, log);
    const committed = await committedOffsets(first);
    log(`4. committed offsets of ${GROUP}: ${formatOffsets(committed)}`);
    firstRun = { produced, consumed, committed };
  } finally {
    await first.close();
  }
  log('5. closed; reopening the same directory');

  const second = await Gregor.open({ dir, config: BROKER_CONFIG });
  try {
    log('6. produce more; a consumer of the same group starts after the committed offsets');
    const produced = await produce(second, 'welcome back', SECOND_RUN_RECORDS, log);
    const consumed = await consumeAll(second, SECOND_RUN_RECORDS, timeoutMs, log);
    const firstOffsetByPartition: Record<number, number> = {};
    for (const record of consumed) firstOffsetByPartition[record.partition] ??= record.offset;
    const resumedAtCommitted = Object.entries(firstOffsetByPartition).every(([partition, offset]) => offset === (firstRun.committed[Number(partition)] ?? 0));
    log(`7. the group resumed at ${formatOffsets(firstOffsetByPartition)}: ${resumedAtCommitted ? 'exactly after the committed offsets' : 'NOT at the committed offsets'}`);
    return { dir, firstRun, secondRun: { produced, consumed, firstOffsetByPartition }, resumedAtCommitted };
  } finally {
    await second.close();
  }
}

async function produce(gregor: Gregor, greeting: string, count: number, log: (line: string) => void): Promise<number> {
  const producer = gregor.producer({ lingerMs: 1 });
  await producer.connect();
  const messages = Array.from({ length: count }, (_, i) => ({ key: `user-${i}`, value: `${greeting} user-${i}` }));
  const results = await producer.send({ topic: TOPIC, messages });
  await producer.disconnect();
  log(`   produced ${count} records: ${results.map((r) => `partition ${r.partition} from offset ${r.baseOffset}`).join(', ')}`);
  return count;
}

/**
 * Consumes in the group until `expected` records arrived, then commits the next offset to read
 * per partition explicitly (auto-commit is off to show the commit) and leaves the group.
 */
async function consumeAll(gregor: Gregor, expected: number, timeoutMs: number, log: (line: string) => void): Promise<ConsumedRecord[]> {
  const consumer: Consumer = gregor.consumer({ groupId: GROUP, maxWaitTimeInMs: 100 });
  const consumed: ConsumedRecord[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ partition, message }) => {
      const record = { partition, offset: Number(message.offset), key: String(message.key), value: String(message.value) };
      consumed.push(record);
      log(`   consumed partition ${record.partition} offset ${record.offset}: ${record.key} = ${record.value}`);
    },
  });
  try {
    await waitFor(() => consumed.length >= expected, `${expected} records in ${GROUP}`, timeoutMs);
    const next = new Map<number, number>();
    for (const record of consumed) next.set(record.partition, Math.max(next.get(record.partition) ?? 0, record.offset + 1));
    await consumer.commitOffsets([...next].map(([partition, offset]) => ({ topic: TOPIC, partition, offset })));
    log(`   committed ${formatOffsets(Object.fromEntries(next))}`);
  } finally {
    await consumer.disconnect();
  }
  return consumed;
}

async function committedOffsets(gregor: Gregor): Promise<Record<number, number>> {
  const admin = gregor.admin();
  await admin.connect();
  const [topic] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
  return Object.fromEntries(topic.partitions.map((p) => [p.partition, Number(p.offset)]));
}

function formatOffsets(offsets: Record<number, number>): string {
  return Object.entries(offsets)
    .map(([partition, offset]) => `p${partition}@${offset}`)
    .join(' ');
}

if (isRunDirectly(import.meta.url)) {
  runFromCommandLine(import.meta.url, {
    description: 'The embedded log in five steps: create a topic, produce, consume in a group and commit, reopen the directory, resume at the committed offsets.',
    run: ({ common }) => main(common),
  });
}
