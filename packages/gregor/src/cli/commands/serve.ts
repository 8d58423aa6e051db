/** `gregor serve`: Kafka's kafka-server-start. Runs until SIGINT or SIGTERM, then closes cleanly. */
import { Gregor } from '../../gregor.js';
import { integerOption, parseCommand } from '../args.js';

const help = `usage: gregor serve [--dir ./data] [--port 9092] [--host 127.0.0.1] [--advertised-host H]
                    [--no-auto-create-topics] [--num-partitions N] [--http-port 8080]

Runs a broker on the data directory and serves Kafka's wire protocol. Stop with Ctrl-C: in-flight
requests are answered, the logs flushed, and a clean-shutdown marker written.

--http-port N serves the web console, the REST API (/api/...), /metrics (Prometheus) and /health
on http://<host>:N (default 8080; 0 turns it off; a port in use is reported and skipped).`;

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
      'http-port': { type: 'string' },
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
  // Before the banner: whoever reads "Press Ctrl-C to stop" may signal at once.
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
  console.log(`Gregor is serving Kafka's protocol on ${target} (node ${gregor.broker.nodeId}, cluster ${gregor.broker.clusterId}, data in ${gregor.dir})`);
  console.log('');
  console.log('Connect any Kafka client to it, for example:');
  console.log(`  kcat -L -b ${target}                                     # metadata`);
  console.log(`  echo 'hello' | kcat -P -b ${target} -t greetings         # produce (topics are auto-created)`);
  console.log(`  kcat -C -b ${target} -t greetings -o beginning -e        # consume`);
  console.log(`  new Kafka({ brokers: ['${target}'] })                     // kafkajs`);
  console.log(`  pnpm gregor topics list --bootstrap-server ${target}`);
  console.log(await serveConsole(gregor, host, integerOption(values['http-port'], 'http-port', 8080)));
  console.log('');
  console.log('Press Ctrl-C to stop.');
}

/** Starts the console on `port` (0: off); the banner line saying where it is, or why it is not. */
async function serveConsole(gregor: Gregor, host: string, port: number): Promise<string> {
  if (port === 0) return 'Web console, REST API and /metrics: off (--http-port 0)';
  try {
    const address = await gregor.serveConsole({ host, port });
    const shown = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
    return `Web console: http://${shown}:${address.port}/  (REST API under /api/, Prometheus /metrics, /health)`;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return `Web console: not started, port ${port} is in use (choose one with --http-port N, or 0 to turn it off)`;
  }
}
