/**
 * How a failed command ends: one line on stderr naming the problem and what to do, exit code 1 (as
 * Kafka's tools: kafka-topics, kafka-consumer-groups and kafka-console-producer exit 1 on any
 * error, usage mistakes included), and the stack trace only with `--verbose` or GREGOR_VERBOSE=1,
 * for bug reports. Errors are recognized by their stable `code` (ours, Kafka's error names, Node's
 * system error codes), looked for along the `cause` chain.
 */
import { CliError, CommandFailedError } from './args.js';

export const FAILURE_EXIT_CODE = 1;

interface CodedError {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  path?: unknown;
  address?: unknown;
  port?: unknown;
  hostname?: unknown;
}

/** The first error in the cause chain whose code is a string, or undefined. */
function codedErrors(error: unknown): CodedError[] {
  const chain: CodedError[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 8 && typeof current === 'object' && current !== null; depth++) {
    chain.push(current as CodedError);
    current = (current as CodedError).cause;
  }
  return chain;
}

function systemErrorLine(error: CodedError, message: string): string | undefined {
  const code = String(error.code);
  // "cannot connect to h:p: connect ECONNREFUSED h:p" says the code twice: keep what precedes it.
  const outer = message.replace(new RegExp(`:\\s*[^:]*\\b${code}\\b.*$`), '');
  const path = typeof error.path === 'string' ? error.path : undefined;
  switch (code) {
    case 'EADDRINUSE':
      return `${outer}: the address is already in use; stop what listens there or choose another --port (--port 0 picks a free one)`;
    case 'EADDRNOTAVAIL':
      return `${outer}: no network interface has that address; choose another --host (127.0.0.1 or 0.0.0.0)`;
    case 'ERR_SOCKET_BAD_PORT':
      return `${outer}: a port is a number from 0 to 65535`;
    case 'EACCES':
    case 'EPERM':
      return path !== undefined
        ? `permission denied: ${path}; give this user access to it or choose another --dir`
        : `${outer}: permission denied (ports below 1024 need privileges; choose another --port)`;
    case 'ENOTDIR':
      return `${path ?? 'a path'}: a part of this path is a file, not a directory; choose another --dir`;
    case 'EEXIST':
      return `${path ?? 'a path'} exists and is not a directory; choose another --dir`;
    case 'EISDIR':
      return `${path ?? 'a path'} is a directory where a file was expected`;
    case 'ENOENT':
      return `${path ?? 'a file'} does not exist`;
    case 'EROFS':
      return `${path ?? 'the data directory'} is on a read-only file system; choose another --dir`;
    case 'ENOSPC':
      return `no space left on the device holding ${path ?? 'the data directory'}; free some space or choose another --dir`;
    case 'ECONNREFUSED':
      return `${outer}: connection refused; is a broker running there? (start one with gregor serve, or check --bootstrap-server)`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `${outer}: the host name does not resolve; check --bootstrap-server`;
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `${outer}: the host cannot be reached; check --bootstrap-server`;
    default:
      return undefined;
  }
}

/** Kafka's error names, as a user of the tools would want them explained. */
const KAFKA_ERROR_HINTS: Record<string, string> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'the topic or partition does not exist (gregor topics list shows the topics)',
  TOPIC_ALREADY_EXISTS: 'the topic already exists (add --if-not-exists to accept that)',
  INVALID_PARTITIONS: 'the number of partitions is not valid',
  INVALID_REPLICATION_FACTOR: 'the replication factor is not valid: it must be at least 1 and at most the number of brokers',
  INVALID_TOPIC_EXCEPTION: "the topic name is not valid: up to 249 ASCII letters, digits, '.', '_' and '-', not '.' or '..'",
  INVALID_CONFIG: 'a config is not valid',
  INVALID_REQUIRED_ACKS: 'acks must be all (-1), 0 or 1',
  NON_EMPTY_GROUP: 'the group has active members; stop its consumers first',
  GROUP_ID_NOT_FOUND: 'the group does not exist (gregor groups list shows the groups)',
  GROUP_SUBSCRIBED_TO_TOPIC: 'the group has active members subscribed to this topic; stop its consumers first',
  COORDINATOR_NOT_AVAILABLE: 'the group coordinator is not available yet; try again',
  NOT_COORDINATOR: 'the broker is not the coordinator of this group; try again',
  BROKER_NOT_AVAILABLE: 'the broker is not available (it may be closing)',
  MESSAGE_TOO_LARGE: 'a record is larger than the topic accepts (max.message.bytes)',
  TOPIC_DELETION_DISABLED: 'the broker does not allow deleting topics (delete.topic.enable=false)',
  POLICY_VIOLATION: 'the request breaks a broker policy',
  NOT_ENOUGH_REPLICAS: "fewer replicas are in sync than the topic's min.insync.replicas, so acks=all writes are refused (bring replicas back, lower min.insync.replicas, or use --acks 1)",
};

/** The one line a failure prints (without the "gregor: " prefix). */
export function describeFailure(error: unknown, command?: string): string {
  if (error instanceof CliError) {
    return `${error.message} (see 'gregor${command === undefined ? '' : ` ${command}`} --help')`;
  }
  if (error instanceof CommandFailedError) return error.message;
  const chain = codedErrors(error);
  const outer = firstLine(chain[0]?.message);
  for (const link of chain) {
    const line = typeof link.code === 'string' ? systemErrorLine(link, outer) : undefined;
    if (line !== undefined) return line;
  }
  // A Kafka error may come wrapped (RETRIES_EXHAUSTED around UNKNOWN_TOPIC_OR_PARTITION): explain the innermost one we know.
  const known = chain.find((link) => typeof link.code === 'string' && KAFKA_ERROR_HINTS[link.code] !== undefined);
  if (known !== undefined) {
    const code = known.code as string;
    const detail = kafkaDetail(firstLine(known.message));
    return `${code}: ${KAFKA_ERROR_HINTS[code]}${detail === '' ? '' : ` (${detail})`}`;
  }
  const code = typeof chain[0]?.code === 'string' ? chain[0].code : undefined;
  if (code !== undefined) return `${code}: ${outer}`;
  return `${outer || String(error)} (an unexpected error: run again with --verbose for the stack trace to report it)`;
}

/** The broker's own words after Kafka's generic message, e.g. "orders: Topic 'orders' already exists." */
function kafkaDetail(message: string): string {
  const at = message.indexOf('.: ');
  return (at < 0 ? '' : message.slice(at + 3)).replace(/:\s*$/, '').trim();
}

function firstLine(message: unknown): string {
  return typeof message === 'string' ? (message.split('\n')[0] ?? '') : '';
}

export function isVerbose(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return argv.includes('--verbose') || (env.GREGOR_VERBOSE !== undefined && env.GREGOR_VERBOSE !== '' && env.GREGOR_VERBOSE !== '0');
}

/** Prints a failure as the CLI does (one line; the stack too when verbose) and sets the exit code. */
export function reportFailure(error: unknown, options: { command?: string; verbose: boolean; stream?: NodeJS.WritableStream }): void {
  const stream = options.stream ?? process.stderr;
  stream.write(`gregor: ${describeFailure(error, options.command)}\n`);
  if (options.verbose && !(error instanceof CliError)) stream.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = FAILURE_EXIT_CODE;
}
