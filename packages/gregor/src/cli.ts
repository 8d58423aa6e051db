/**
 * The `gregor` command line. Each command lives in `cli/commands/<name>.ts` and follows the Kafka
 * tool of the same purpose (kafka-server-start, kafka-topics, kafka-console-producer and -consumer,
 * kafka-consumer-groups, kafka-dump-log, kafka-producer-perf-test).
 */
import { CliError } from './cli/args.js';

const commands: Record<string, { summary: string; load: () => Promise<{ main: (argv: string[]) => Promise<void> }> }> = {
  serve: { summary: 'run the broker: serve --dir ./data --port 9092', load: () => import('./cli/commands/serve.js') },
  topics: { summary: 'topics create|list|describe|delete', load: () => import('./cli/commands/topics.js') },
  produce: { summary: 'produce --topic T: one record per line of stdin', load: () => import('./cli/commands/produce.js') },
  consume: { summary: 'consume --topic T [--group G] [--from-beginning]', load: () => import('./cli/commands/consume.js') },
  groups: { summary: 'groups list|describe G|reset-offsets G: consumer groups, their lag, resets', load: () => import('./cli/commands/groups.js') },
  'dump-log': { summary: 'dump-log <file> [--records]: batches of a .log, entries of an index', load: () => import('./cli/commands/dump-log.js') },
  perf: { summary: 'perf produce|consume|matrix: throughput beside the raw disk', load: () => import('./cli/commands/perf.js') },
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, { summary }]) => `  ${name.padEnd(10)} ${summary}`);
  return `usage: gregor <command> [options]\n\ncommands:\n${lines.join('\n')}\n\nRun 'gregor <command> --help' for a command's options.`;
}

async function main(argv: string[]): Promise<void> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(usage());
    return;
  }
  const command = commands[name];
  if (command === undefined) throw new CliError(`unknown command '${name}'\n\n${usage()}`);
  await (await command.load()).main(rest);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  if (error instanceof CliError) {
    console.error(`gregor: ${error.message}`);
    process.exitCode = 2;
    return;
  }
  if ((error as { code?: unknown } | null)?.code === 'DATA_DIR_LOCKED') {
    // The library's message says who holds the directory; the way around it is the CLI's to say.
    console.error(`gregor: ${(error as Error).message}; stop it, or connect to it with --bootstrap-server host:port`);
    process.exitCode = 1;
    return;
  }
  console.error(error);
  process.exitCode = 1;
});
