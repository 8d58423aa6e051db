/** `gregor serve`: Kafka's kafka-server-start. Runs until SIGINT or SIGTERM, then closes cleanly. */
import { Gregor } from '../../gregor.js';
import { integerOption, parseCommand } from '../args.js';

const help = `usage: gregor serve [--dir ./data] [--port 9092] [--host 127.0.0.1] [--advertised-host H]
                    [--no-auto-create-topics] [--num-partitions N]

Runs a broker on the data directory and serves Kafka's wire protocol. Stop with Ctrl-C: in-flight
requests are answered, the logs flushed, and a clean-shutdown marker written.`;

export async function main(argv: string[]): Promise<void> {
  const { values } = parseCommand(
    argv,
    {
      dir: { type: 'string' },
      port: { type: 'string' },
      host: { type: 'string' },
      'advertised-host': { type: 'string' },
      'no-auto-create-topics': { type: 'boolean' },
      'num-partitions': { type: 'string' },
    },
    help,
  );
  const port = integerOption(values.port, 'port', 9092);
  const host = values.host ?? '127.0.0.1';
  const gregor = await Gregor.open({
    dir: values.dir ?? './data',
    config: {
      autoCreateTopicsEnable: !values['no-auto-create-topics'],
      numPartitions: integerOption(values['num-partitions'], 'num-partitions', 1),
    },
  });
  const address = await gregor.listen({ host, port, config: values['advertised-host'] ? { advertisedHost: values['advertised-host'] } : {} });
  const target = `${values['advertised-host'] ?? (address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host)}:${address.port}`;
  console.log(`Gregor is serving Kafka's protocol on ${target} (node ${gregor.broker.nodeId}, cluster ${gregor.broker.clusterId}, data in ${gregor.dir})`);
  console.log('');
  console.log('Connect any Kafka client to it, for example:');
  console.log(`  kcat -L -b ${target}                                     # metadata`);
  console.log(`  echo 'hello' | kcat -P -b ${target} -t greetings         # produce (topics are auto-created)`);
  console.log(`  kcat -C -b ${target} -t greetings -o beginning -e        # consume`);
  console.log(`  new Kafka({ brokers: ['${target}'] })                     // kafkajs`);
  console.log(`  pnpm gregor topics list --bootstrap-server ${target}`);
  console.log('');
  console.log('Press Ctrl-C to stop.');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${signal}: closing (answering in-flight requests, flushing the logs)`);
    gregor.close().then(
      () => {
        console.log('closed cleanly');
        process.exit(0);
      },
      (error: unknown) => {
        console.error('close failed:', error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}
