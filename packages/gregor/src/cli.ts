/**
 * The `gregor` command line. Each command lives in `cli/commands/<name>.ts` and follows the Kafka
 * tool of the same purpose (kafka-server-start, kafka-topics, kafka-console-producer and -consumer,
 * kafka-consumer-groups, kafka-dump-log, kafka-producer-perf-test, kcat -L). A command's `main`
 * resolves when its work is done (`serve`: when the broker has closed); the process then exits
 * with the code it set, so no timer or socket left behind can keep it alive. Any failure prints
 * one line (see cli/failure.ts) and exits 1; `--verbose` adds the stack trace.
 */
import { CliError } from './cli/args.js';
import { isVerbose, reportFailure } from './cli/failure.js';

interface Command {
  summary: string;
  load: () => Promise<{ main: (argv: string[]) => Promise<void> }>;
}

const commands: Record<string, Command> = {
  serve: { summary: 'run the broker: serve --dir ./data --port 9092 [--config server.properties]', load: () => import('./cli/commands/serve.js') },
  topics: { summary: 'topics create|list|describe|alter|delete|delete-records', load: () => import('./cli/commands/topics.js') },
  produce: { summary: 'produce --topic T: one record per line of stdin', load: () => import('./cli/commands/produce.js') },
  consume: { summary: 'consume --topic T [--group G] [--from-beginning]: print records', load: () => import('./cli/commands/consume.js') },
  groups: { summary: 'groups list|describe|delete|reset-offsets: consumer groups, their lag, resets', load: () => import('./cli/commands/groups.js') },
  cluster: { summary: 'cluster start|status: a local cluster of node processes; its quorum, brokers and ISRs', load: () => import('./cli/commands/cluster.js') },
  metadata: { summary: 'metadata: brokers, controller, topics and partitions (kcat -L)', load: () => import('./cli/commands/metadata.js') },
  acls: { summary: 'acls --add|--remove|--list: ACLs, as kafka-acls', load: () => import('./cli/commands/acls.js') },
  configs: { summary: "configs --alter|--describe --entity-type users: SCRAM credentials, as kafka-configs", load: () => import('./cli/commands/configs.js') },
  'dump-log': { summary: 'dump-log <file>: the batches of a .log, the entries of an index', load: () => import('./cli/commands/dump-log.js') },
  perf: { summary: 'perf produce|consume|latency|matrix: throughput beside the raw disk, produce-to-consume latency', load: () => import('./cli/commands/perf.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`);
  return [
    'usage: gregor <command> [options]',
    '',
    'commands:',
    ...lines,
    '',
    "Run 'gregor <command> --help' for a command's options and examples. Every command takes",
    '--verbose (or GREGOR_VERBOSE=1) to print the stack trace of a failure.',
    '',
    'Example:',
    '  gregor topics create --topic orders --partitions 3 --bootstrap-server 127.0.0.1:9092',
  ].join('\n');
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  if (name === undefined) {
    console.error(usage());
    process.exitCode = 1;
    return;
  }
  const command = commands[name];
  if (command === undefined) throw new CliError(`unknown command '${name}'; the commands are ${Object.keys(commands).join(', ')}`);
  await (await command.load()).main(rest);
}

const argv = process.argv.slice(2);
const verbose = isVerbose(argv);
const commandArgv = argv.filter((arg) => arg !== '--verbose');
const commandName = commandArgv[0] !== undefined && commands[commandArgv[0]] !== undefined ? commandArgv[0] : undefined;

const fail = (error: unknown) => {
  reportFailure(error, { command: commandName, verbose });
  process.exit();
};
process.on('uncaughtException', fail);
process.on('unhandledRejection', fail);

// Exits once stdout has taken everything written to it: a pipe to a slow reader (`consume | wc -l`)
// holds the output in the process until the reader takes it, and exiting sooner would lose it.
main(commandArgv).then(() => process.stdout.write('', () => process.exit()), fail);
