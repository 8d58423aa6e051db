/**
 * `gregor metadata`: what a cluster says about itself, as `kcat -L` and `rpk cluster info` print
 * it: the cluster id, the brokers (the controller marked), and every topic with its partitions'
 * leaders, replicas and in-sync replicas. `--json` for scripts.
 */
import { CliError, parseCommand } from '../args.js';
import { connect, connectionHelp, connectionOptions, withAdmin } from '../connect.js';
import { missingTopic } from './topics.js';

const help = `usage: gregor metadata [--topic T]... [--json]

Prints the cluster id, the brokers (the controller marked) and the topics with their partitions:
leader, replicas and in-sync replicas, as kcat -L does. --topic limits it to some topics.

${connectionHelp}

Examples:
  gregor metadata --bootstrap-server 127.0.0.1:9092
  gregor metadata --topic orders --json --dir ./data`;

const options = { ...connectionOptions, topic: { type: 'string', multiple: true }, json: { type: 'boolean' } } as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
  const connection = await connect(values, 'gregor-metadata');
  await withAdmin(connection, async (admin) => {
    const cluster = await admin.describeCluster();
    const all = (await admin.fetchTopicMetadata()).topics;
    for (const name of values.topic ?? []) if (!all.some((t) => t.name === name)) throw missingTopic(name);
    const topics = all.filter((t) => values.topic === undefined || values.topic.includes(t.name)).sort((a, b) => a.name.localeCompare(b.name));
    for (const topic of topics) topic.partitions.sort((a, b) => a.partitionId - b.partitionId);
    if (values.json) {
      console.log(
        JSON.stringify({
          clusterId: cluster.clusterId,
          controller: cluster.controller,
          brokers: cluster.brokers,
          topics: topics.map((t) => ({ name: t.name, topicId: t.topicId, partitions: t.partitions.map((p) => ({ partition: p.partitionId, leader: p.leader, replicas: p.replicas, isr: p.isr })) })),
        }),
      );
      return;
    }
    console.log(`Metadata for ${values.topic === undefined ? 'all topics' : values.topic.join(', ')} (from ${connection.describe}), cluster ${cluster.clusterId ?? 'unknown'}:`);
    console.log(` ${cluster.brokers.length} brokers:`);
    for (const b of cluster.brokers) console.log(`  broker ${b.nodeId} at ${b.host}:${b.port}${b.nodeId === cluster.controller ? ' (controller)' : ''}`);
    console.log(` ${topics.length} topics:`);
    for (const t of topics) {
      console.log(`  topic "${t.name}" with ${t.partitions.length} partitions:`);
      for (const p of t.partitions) console.log(`    partition ${p.partitionId}, leader ${p.leader}, replicas: ${p.replicas.join(',')}, isrs: ${p.isr.join(',')}`);
    }
  });
}
