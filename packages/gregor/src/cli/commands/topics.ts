/** `gregor topics create|list|describe|delete`: Kafka's kafka-topics. */
import { CliError, integerOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions, printTable } from '../connect.js';

const help = `usage: gregor topics create --topic T [--partitions 1] [--replication-factor 1] [--config k=v]...
       gregor topics list
       gregor topics describe [--topic T]
       gregor topics delete --topic T

${connectionHelp}`;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    argv,
    {
      ...connectionOptions,
      topic: { type: 'string' },
      partitions: { type: 'string' },
      'replication-factor': { type: 'string' },
      config: { type: 'string', multiple: true },
    },
    help,
  );
  const action = positionals[0];
  if (!['create', 'list', 'describe', 'delete'].includes(action ?? '')) throw new CliError(`choose create, list, describe or delete\n\n${help}`);
  const connection = await connect(values, 'gregor-topics');
  const admin = connection.admin();
  try {
    await admin.connect();
    if (action === 'create') {
      const topic = requiredOption(values.topic, 'topic');
      const configEntries = (values.config ?? []).map((entry) => {
        const at = entry.indexOf('=');
        if (at <= 0) throw new CliError(`--config takes name=value, got '${entry}'`);
        return { name: entry.slice(0, at), value: entry.slice(at + 1) };
      });
      await admin.createTopics({
        topics: [{ topic, numPartitions: integerOption(values.partitions, 'partitions', 1), replicationFactor: integerOption(values['replication-factor'], 'replication-factor', 1), configEntries }],
      });
      console.log(`Created topic ${topic}.`);
    } else if (action === 'list') {
      for (const name of (await admin.listTopics()).sort()) console.log(name);
    } else if (action === 'delete') {
      const topic = requiredOption(values.topic, 'topic');
      await admin.deleteTopics({ topics: [topic] });
      console.log(`Deleted topic ${topic}.`);
    } else {
      const { topics } = await admin.fetchTopicMetadata(values.topic ? { topics: [values.topic] } : {});
      for (const topic of topics.sort((a, b) => a.name.localeCompare(b.name))) {
        const offsets = await admin.fetchTopicOffsets(topic.name);
        console.log(`Topic: ${topic.name}\tTopicId: ${topic.topicId}\tPartitionCount: ${topic.partitions.length}\tReplicationFactor: ${topic.partitions[0]?.replicas.length ?? 0}`);
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
  } finally {
    await connection.close();
  }
}
