/**
 * What every example shares: the command line (`--dir`, `--duration-ms`, `--keep`, `--seed`,
 * `--json`, `--listen`, `--tcp`), preparing the data directory, running `main` only when the file
 * is run directly, the clients (in-process or over TCP), a seeded random generator so generated
 * data can be checked, bounded waiting, and a live status line.
 * Only the examples import this file; it is not part of the library's API.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Gregor } from 'gregor';

type BoundAddress = NonNullable<Gregor['address']>;

/** The options every example's `main` accepts. */
export interface ExampleOptions {
  /** Data directory (default `./data/examples/<name>`). */
  dir?: string;
  /** How long the example produces (or, for the quickstart, the longest any step may wait). */
  durationMs?: number;
  /** Where lines go (default: stdout). */
  log?: (line: string) => void;
  /** Keep what the data directory holds instead of starting empty. */
  keep?: boolean;
  /** Seed of the generated data, so a run can be repeated and its expected counts computed. */
  seed?: number;
  /** Also serve Kafka's wire protocol on this port (0: any free port) for kcat or kafkajs to watch. */
  listenPort?: number;
  /**
   * Serve the web console, the REST API and /metrics on this HTTP port while the example runs
   * (0: any free port); omitted: no console. The command line's `--http-port` defaults to 8080
   * (0 turns it off), so `pnpm example` runs with the console on.
   */
  httpPort?: number;
  /**
   * How the example's clients reach the broker: 'in-process' (default, direct calls) or 'tcp'
   * (Kafka's wire protocol over loopback, as a separate application would connect).
   */
  transport?: 'in-process' | 'tcp';
}

/** Typed failure of an example (a wait that ran out, a broken expectation). */
export class ExampleError extends Error {
  constructor(
    readonly code: 'TIMED_OUT' | 'BAD_ARGUMENT',
    message: string,
  ) {
    super(message);
    this.name = 'ExampleError';
  }
}

export const DURATION_MS_DEFAULT = 10_000;

/**
 * The example's data directory: `./data/examples/<name>` unless given; emptied unless `keep`. Only
 * an empty directory or a broker's data directory (it holds `meta.properties`) is emptied, so a
 * mistyped `--dir` never deletes anything else.
 */
export function prepareDataDir(name: string, options: ExampleOptions): string {
  const dir = path.resolve(options.dir ?? path.join('data', 'examples', name));
  if (options.keep !== true && fs.existsSync(dir) && fs.readdirSync(dir).length > 0) {
    if (!fs.existsSync(path.join(dir, 'meta.properties'))) {
      throw new ExampleError('BAD_ARGUMENT', `${dir} is not empty and is not a data directory (no meta.properties); not deleting it`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

const COMMON_OPTIONS = {
  dir: { type: 'string' },
  'duration-ms': { type: 'string' },
  keep: { type: 'boolean' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
  listen: { type: 'string' },
  tcp: { type: 'boolean' },
  'http-port': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  verbose: { type: 'boolean' },
} as const;

const COMMON_HELP = `options:
  --duration-ms N   how long the producers run (the quickstart: the longest any step may wait); default 10000
  --dir PATH        data directory, emptied at start; default ./data/examples/<name>
  --keep            keep what the directory holds instead of emptying it
  --seed N          seed of the generated data (same seed, same data); default 1
  --json            print the summary object at the end as JSON
  --listen PORT     also serve Kafka's wire protocol on 127.0.0.1:PORT (not the quickstart)
  --tcp             the example's own clients connect over loopback TCP instead of in-process (not the quickstart)
  --http-port N     serve the web console on 127.0.0.1:N while it runs (not the quickstart); default 8080, 0 off
  --verbose         print the stack trace of a failure
  --help            this text`;

/** Parses `--dir`, `--duration-ms`, `--keep`, `--seed`, `--json`, `--listen`, `--tcp`, `--http-port` plus the example's own flags. */
export function parseCommandLine(argv: string[], extra: Record<string, { type: 'string' | 'boolean' }> = {}) {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: argv, options: { ...COMMON_OPTIONS, ...extra }, strict: true });
  } catch (error) {
    // Node's parser says more than the option ("To specify a positional argument..."): the first sentence is enough.
    throw new ExampleError('BAD_ARGUMENT', ((error as Error).message.split(/\.\s/)[0] ?? '').replace(/\.$/, ''));
  }
  const values = parsed.values;
  const named = values as Record<string, string | boolean | undefined>;
  const number = (name: string): number | undefined => {
    const text = named[name];
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!Number.isFinite(value) || value < 0) throw new ExampleError('BAD_ARGUMENT', `--${name} needs a number >= 0, got ${String(text)}`);
    return value;
  };
  return { values: named, number, json: values.json === true, common: { dir: values.dir as string | undefined, durationMs: number('duration-ms'), keep: values.keep === true, seed: number('seed'), listenPort: number('listen'), httpPort: httpPortOption(number('http-port')), transport: values.tcp === true ? ('tcp' as const) : ('in-process' as const) } };
}

/** `--http-port`: 8080 unless given, 0 turns the console off. */
export const HTTP_PORT_DEFAULT = 8080;
function httpPortOption(value: number | undefined): number | undefined {
  if (value === undefined) return HTTP_PORT_DEFAULT;
  return value === 0 ? undefined : value;
}

/**
 * Starts the web console when `options.httpPort` is set and says where it is; a port in use is
 * reported and skipped (the example runs on without it). Resolves to the address, or null.
 */
export async function startConsole(gregor: Gregor, options: ExampleOptions, log: (line: string) => void): Promise<BoundAddress | null> {
  if (options.httpPort === undefined) return null;
  try {
    const address = await gregor.serveConsole({ host: '127.0.0.1', port: options.httpPort, config: { sampleIntervalMs: 1000 } });
    log(`web console: http://${address.host}:${address.port}/ (topics, live tail, groups and their lag; REST API under /api/, Prometheus /metrics)`);
    return address;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    log(`web console: not started, port ${options.httpPort} is in use (choose one with --http-port N, 0 turns it off)`);
    return null;
  }
}

/** True when `moduleUrl` is the file node was started with (`pnpm example examples/x.ts`). */
export function isRunDirectly(moduleUrl: string): boolean {
  const started = process.argv[1];
  return started !== undefined && path.resolve(started) === fileURLToPath(moduleUrl);
}

export interface ExampleCommand {
  /** What the example does, for --help. */
  description: string;
  /** The example's own options beyond the common ones, and their help lines. */
  extra?: Record<string, { type: 'string' | 'boolean' }>;
  extraHelp?: string;
  /** Runs the example with the parsed command line. */
  run: (parsed: ReturnType<typeof parseCommandLine>) => Promise<unknown>;
}

/**
 * Runs an example from the command line: `--help` prints its options and an example; a bad option
 * or a failure prints one line (the stack too with --verbose) and exits 1; with `--json` the
 * summary it returned is printed as JSON.
 */
export function runFromCommandLine(moduleUrl: string, command: ExampleCommand): void {
  const argv = process.argv.slice(2);
  const file = path.relative(process.cwd(), fileURLToPath(moduleUrl));
  const verbose = argv.includes('--verbose');
  const fail = (error: unknown) => {
    const code = (error as { code?: unknown }).code;
    console.error(`${file}: ${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`);
    if (verbose && error instanceof Error) console.error(error.stack);
    process.exit(1);
  };
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(`usage: pnpm example ${file} [options]\n\n${command.description}\n\n${COMMON_HELP}${command.extraHelp === undefined ? '' : `\n${command.extraHelp}`}\n\nExample:\n  pnpm example ${file} --duration-ms 5000`);
    return;
  }
  let parsed: ReturnType<typeof parseCommandLine>;
  try {
    parsed = parseCommandLine(argv, command.extra);
  } catch (error) {
    fail(error);
    return;
  }
  command.run(parsed).then((summary) => {
    if (parsed.json) console.log(JSON.stringify(summary, null, 2));
  }, fail);
}

/** Waits until `condition` holds, polling every `pollMs`; throws TIMED_OUT after `timeoutMs`. */
export async function waitFor(condition: () => boolean, what: string, timeoutMs: number, pollMs = 20): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new ExampleError('TIMED_OUT', `timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(pollMs);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * mulberry32: a small seeded generator in [0, 1). The examples generate their data from it so a
 * test can generate the same data again and compute what the consumers must have counted.
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Picks from `choices` with the given weights (need not sum to 1). */
export function weightedPick<T>(random: () => number, choices: readonly (readonly [T, number])[]): T {
  let total = 0;
  for (const [, weight] of choices) total += weight;
  let point = random() * total;
  for (const [choice, weight] of choices) {
    point -= weight;
    if (point < 0) return choice;
  }
  return choices[choices.length - 1][0];
}

/**
 * A status line: redrawn in place on a terminal (stdout is a TTY and no `log` was given), plain
 * lines otherwise, so logs and tests stay readable. `log` prints a line above the status line, so
 * lines printed while it is drawn (alerts, joins) do not land in the middle of it.
 */
export interface StatusLine {
  update(text: string): void;
  log(line: string): void;
  /** Ends the in-place line so the next output starts on a fresh line. */
  end(): void;
}

export function createStatusLine(log: ((line: string) => void) | undefined): StatusLine {
  if (log === undefined && process.stdout.isTTY) {
    let drawn: string | null = null;
    return {
      update(text) {
        process.stdout.write(`\r${text}\x1b[K`);
        drawn = text;
      },
      log(line) {
        process.stdout.write(drawn === null ? `${line}\n` : `\r${line}\x1b[K\n${drawn}`);
      },
      end() {
        if (drawn !== null) process.stdout.write('\n');
        drawn = null;
      },
    };
  }
  const write = log ?? ((line: string) => console.log(line));
  return { update: write, log: write, end() {} };
}

/** What the examples need of a client: the facade's in-process one or `Gregor.Client` over TCP. */
export type Clients = Pick<Gregor, 'producer' | 'consumer' | 'admin'>;

/**
 * The clients an example uses, and where Kafka's protocol is served (null when it is not). With
 * `transport: 'tcp'` the broker listens (on `listenPort`, else any free port) and the clients are
 * `Gregor.Client`s connected to it, exactly as another process's application would be; otherwise
 * they are the facade's in-process clients, and the broker listens only when `listenPort` is set.
 */
export async function exampleClients(gregor: Gregor, options: ExampleOptions, topic: string, log: (line: string) => void): Promise<{ clients: Clients; address: BoundAddress | null }> {
  if (options.transport !== 'tcp') {
    const address = options.listenPort === undefined ? null : await listen(gregor, options.listenPort, topic, log);
    return { clients: gregor, address };
  }
  const address = await listen(gregor, options.listenPort ?? 0, topic, log);
  log(`clients connect over TCP to ${address.host}:${address.port}`);
  return { clients: new Gregor.Client({ brokers: [`${address.host}:${address.port}`], clientId: 'gregor-example' }), address };
}

/** Serves Kafka's wire protocol beside the in-process clients and says how to watch `topic` with kcat. */
async function listen(gregor: Gregor, port: number, topic: string, log: (line: string) => void): Promise<BoundAddress> {
  // The server's own lines (connections, errors) go where the example's lines go.
  const serverLine = (level: string) => (message: string, fields?: Record<string, unknown>) => log(`server ${level}: ${message}${fields === undefined ? '' : ` ${JSON.stringify(fields)}`}`);
  const logger = { info: serverLine('info'), warn: serverLine('warn'), error: serverLine('error') };
  const address = await gregor.listen({ host: '127.0.0.1', port, logger });
  log(`serving Kafka's protocol on ${address.host}:${address.port}; watch with: kcat -b ${address.host}:${address.port} -C -t ${topic} -o beginning`);
  return address;
}

export function logger(options: ExampleOptions): (line: string) => void {
  return options.log ?? ((line: string) => console.log(line));
}

/**
 * Runs `work` with a referenced timer alive. The broker parks long-poll fetches on its clock, whose
 * timers are unreferenced (so a scheduled flush never keeps a process alive); a consumer stopping
 * while its fetch is parked would otherwise let Node exit with `stop()` still pending.
 */
export async function withKeepAlive<T>(work: () => Promise<T>): Promise<T> {
  const timer = setInterval(() => {}, 1000);
  try {
    return await work();
  } finally {
    clearInterval(timer);
  }
}
