/**
 * `gregor topics create|list|describe|alter|delete|delete-records`: Kafka's kafka-topics (and
 * kafka-delete-records). Internal topics (`__consumer_offsets`) are listed and described unless
 * `--exclude-internal`, as Kafka does.
 */
import type { Admin } from '@gregor/client';
import { CliError, CommandFailedError, integerOption, keyValueOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions, printTable, withAdmin } from '../connect.js';

const help = `usage: gregor topics create --topic T [--partitions N] [--replication-factor N] [--config k=v]... [--if-not-exists]
       gregor topics list [--exclude-internal]
       gregor topics describe [--topic T] [--exclude-internal]
       gregor topics alter --topic T [--partitions N] [--config k=v]... [--delete-config k]...
       gregor topics delete --topic T [--if-exists]
       gregor topics delete-records --topic T [--partition P] --offset O

create makes a topic (--partitions and --replication-factor default to the broker's num.partitions
and default.replication.factor; --config sets a topic config such as retention.ms). describe prints
each partition's leader, replicas, ISR, log start offset and high watermark, and the configs set
on the topic. alter adds partitions (never removes them) and sets or deletes topic configs.
delete-records trims a prefix: the records before --offset (in --partition, or every partition)
are deleted; --offset -1 trims up to the high watermark.

${connectionHelp}

Examples:
  gregor topics create --topic orders --partitions 3 --config retention.ms=86400000 --bootstrap-server 127.0.0.1:9092
  gregor topics describe --topic orders --dir ./data
  gregor topics alter --topic orders --partitions 6 --bootstrap-server 127.0.0.1:9092
  gregor topics delete-records --topic orders --partition 0 --offset 100 --bootstrap-server 127.0.0.1:9092`;

const options = {
  ...connectionOptions,
  topic: { type: 'string' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  config: { type: 'string', multiple: true },
  'delete-config': { type: 'string', multiple: true },
  'if-not-exists': { type: 'boolean' },
  'if-exists': { type: 'boolean' },
  'exclude-internal': { type: 'boolean' },
  partition: { type: 'string' },
  offset: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof options>>['values'];
/** DescribeConfigs' configSource of a config set on the topic itself. */
const DYNAMIC_TOPIC_CONFIG = 1;
const ACTIONS = ['create', 'list', 'describe', 'alter', 'delete', 'delete-records'] as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  const action = positionals[0];
  if (action === undefined) throw new CliError(`choose an action: ${ACTIONS.join(', ')}`);
  if (!(ACTIONS as readonly string[]).includes(action)) throw new CliError(`unknown action '${action}'; choose one of ${ACTIONS.join(', ')}`);
  if (positionals.length > 1) throw new CliError(`unexpected argument '${positionals[1]}' (the topic goes in --topic)`);
  const run = { create, list, describe, alter, delete: remove, 'delete-records': deleteRecords }[action as (typeof ACTIONS)[number]];
  const check = preflight[action as (typeof ACTIONS)[number]];
  check?.(values);
  await withAdmin(await connect(values, 'gregor-topics'), (admin) => run(admin, values));
}

/** Usage mistakes found before connecting. */
const preflight: Partial<Record<(typeof ACTIONS)[number], (values: Values) => void>> = {
  create: (values) => {
    requiredOption(values.topic, 'topic');
    integerOption(values.partitions, 'partitions', -1, { min: 1 });
    integerOption(values['replication-factor'], 'replication-factor', -1, { min: 1, max: 32767 });
    keyValueOption(values.config, 'config');
  },
  alter: (values) => {
    requiredOption(values.topic, 'topic');
    integerOption(values.partitions, 'partitions', -1, { min: 1 });
    keyValueOption(values.config, 'config');
    if (values.partitions === undefined && values.config === undefined && values['delete-config'] === undefined) throw new CliError('alter needs --partitions, --config or --delete-config');
  },
  delete: (values) => void requiredOption(values.topic, 'topic'),
  'delete-records': (values) => {
    requiredOption(values.topic, 'topic');
    integerOption(requiredOption(values.offset, 'offset'), 'offset', -1, { min: -1 });
    integerOption(values.partition, 'partition', -1, { min: 0 });
  },
};

async function create(admin: Admin, values: Values): Promise<void> {
  const topic = values.topic as string;
  const created = await admin.createTopics({
    topics: [
      {
        topic,
        numPartitions: integerOption(values.partitions, 'partitions', -1),
        replicationFactor: integerOption(values['replication-factor'], 'replication-factor', -1),
        configEntries: keyValueOption(values.config, 'config'),
      },
    ],
  });
  if (created) console.log(`Created topic ${topic}.`);
  else if (!values['if-not-exists']) throw new CommandFailedError('TOPIC_ALREADY_EXISTS', `topic '${topic}' already exists (add --if-not-exists to accept that)`);
}

async function list(admin: Admin, values: Values): Promise<void> {
  for (const name of (await topicNames(admin, values)).sort()) console.log(name);
}

async function topicNames(admin: Admin, values: Values): Promise<string[]> {
  const { topics } = await admin.fetchTopicMetadata();
  return topics.filter((topic) => !(values['exclude-internal'] && topic.name.startsWith('__'))).map((topic) => topic.name);
}

async function describe(admin: Admin, values: Values): Promise<void> {
  const names = values.topic !== undefined ? [await existingTopic(admin, values.topic)] : await topicNames(admin, values);
  if (names.length === 0) return;
  const { topics } = await admin.fetchTopicMetadata({ topics: names });
  const configs = await topicConfigs(admin, names);
  for (const topic of topics.sort((a, b) => a.name.localeCompare(b.name))) {
    const offsets = await admin.fetchTopicOffsets(topic.name);
    const set = configs.get(topic.name) ?? [];
    console.log(
      `Topic: ${topic.name}\tTopicId: ${topic.topicId}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${topic.partitions[0]?.replicas.length ?? 0}\tConfigs: ${set.join(',')}`,
    );
    printTable(
      ['PARTITION', 'LEADER', 'REPLICAS', 'ISR', 'LOG-START-OFFSET', 'HIGH-WATERMARK'],
      topic.partitions
        .sort((a, b) => a.partitionId - b.partitionId)
        .map((p) => {
          const o = offsets.find((x) => x.partition === p.partitionId);
          return [p.partitionId, p.leader, p.replicas.join(','), p.isr.join(','), o?.low, o?.high];
        }),
    );
  }
}

/** The configs set on each topic (not defaults), as `name=value`, as Kafka's describe prints them. */
async function topicConfigs(admin: Admin, names: string[]): Promise<Map<string, string[]>> {
  const { resources } = await admin.describeConfigs({ resources: names.map((name) => ({ type: 2, name })), includeSynonyms: false });
  const byTopic = new Map<string, string[]>();
  for (const resource of resources) {
    const set = resource.configEntries.filter((entry: { configSource: number }) => entry.configSource === DYNAMIC_TOPIC_CONFIG);
    byTopic.set(resource.resourceName, set.map((entry: { configName: string; configValue: string | null }) => `${entry.configName}=${entry.configValue ?? ''}`));
  }
  return byTopic;
}

async function existingTopic(admin: Admin, topic: string): Promise<string> {
  const { topics } = await admin.fetchTopicMetadata();
  if (!topics.some((t) => t.name === topic)) throw missingTopic(topic);
  return topic;
}

export function missingTopic(topic: string): CommandFailedError {
  return new CommandFailedError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist (gregor topics list shows the topics; gregor topics create --topic ${topic} makes it)`);
}

async function alter(admin: Admin, values: Values): Promise<void> {
  const topic = await existingTopic(admin, values.topic as string);
  if (values.partitions !== undefined) {
    const count = integerOption(values.partitions, 'partitions', -1);
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    const current = topics[0]?.partitions.length ?? 0;
    if (count < current) throw new CommandFailedError('INVALID_PARTITIONS', `topic '${topic}' has ${current} partitions; a topic's partitions can be added but never removed`);
    if (count > current) {
      await admin.createPartitions({ topicPartitions: [{ topic, count }] });
      console.log(`Topic ${topic} now has ${count} partitions (was ${current}).`);
    } else console.log(`Topic ${topic} already has ${count} partitions.`);
  }
  const set = keyValueOption(values.config, 'config');
  const removed = values['delete-config'] ?? [];
  if (set.length > 0 || removed.length > 0) {
    await alterTopicConfigs(admin, topic, set, removed);
    console.log(`Altered the configs of topic ${topic}: ${[...set.map((c) => `${c.name}=${c.value}`), ...removed.map((name) => `-${name}`)].join(', ')}.`);
  }
}

/** Sets and deletes topic configs with IncrementalAlterConfigs (each config on its own, as kafka-configs --alter). */
async function alterTopicConfigs(admin: Admin, topic: string, set: { name: string; value: string }[], removed: string[]): Promise<void> {
  await admin.incrementalAlterConfigs({
    resources: [{ type: 2, name: topic, configEntries: [...set.map((c) => ({ name: c.name, value: c.value, operation: 'SET' as const })), ...removed.map((name) => ({ name, value: null, operation: 'DELETE' as const }))] }],
  });
}

async function remove(admin: Admin, values: Values): Promise<void> {
  const topic = values.topic as string;
  const { topics } = await admin.fetchTopicMetadata();
  if (!topics.some((t) => t.name === topic)) {
    if (values['if-exists']) return;
    throw missingTopic(topic);
  }
  await admin.deleteTopics({ topics: [topic] });
  console.log(`Deleted topic ${topic}.`);
}

async function deleteRecords(admin: Admin, values: Values): Promise<void> {
  const topic = await existingTopic(admin, values.topic as string);
  const offset = integerOption(values.offset, 'offset', -1);
  const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
  const all = (topics[0]?.partitions ?? []).map((p) => p.partitionId).sort((a, b) => a - b);
  const partition = integerOption(values.partition, 'partition', -1);
  if (partition >= 0 && !all.includes(partition)) throw new CommandFailedError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' has no partition ${partition} (it has ${all.length})`);
  const chosen = partition >= 0 ? [partition] : all;
  if (offset >= 0) {
    const ends = await admin.fetchTopicOffsets(topic);
    for (const p of chosen) {
      const high = Number(ends.find((e) => e.partition === p)?.high ?? 0);
      if (offset > high) throw new CommandFailedError('OFFSET_OUT_OF_RANGE', `--offset ${offset} is beyond the high watermark ${high} of ${topic}-${p}; records can be deleted only up to it`);
    }
  }
  const results = await admin.deleteRecords({ topic, partitions: chosen.map((p) => ({ partition: p, offset })) });
  printTable(['TOPIC', 'PARTITION', 'LOW-WATERMARK'], results.sort((a, b) => a.partition - b.partition).map((r) => [topic, r.partition, r.lowWatermark]));
}
