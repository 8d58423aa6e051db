/**
 * Argument parsing shared by the CLI commands, with Kafka's tools' conventions: `--name value` or
 * `--name=value` (a value may start with a dash: `--acks -1`, `--shift-by -5`), boolean flags,
 * repeatable options, `--` ends the options. A mistake is a `CliError`: one line naming the
 * option, exit code 1 as Kafka's tools (`gregor <command> --help` shows the options).
 */

/** A mistake in how the command was called: printed as one line, without a stack trace. */
export class CliError extends Error {
  readonly code = 'CLI_USAGE';
  readonly retriable = false;
}

/**
 * The command could not do what was asked (a missing topic, a group with members...): `message`
 * is the whole line the user sees, naming the problem and what to do.
 */
export class CommandFailedError extends Error {
  readonly retriable = false;
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export type OptionSpec = { type: 'string' | 'boolean'; multiple?: boolean };
type Options = Record<string, OptionSpec>;

export type ParsedValues<T extends Options> = {
  [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : T[K] extends { multiple: true } ? string[] : string;
};

/** Set by `--verbose` (any command) or GREGOR_VERBOSE=1: failures print their stack trace. */
export const verboseOption = '--verbose';

/**
 * Parses `argv` against `options`. `--help`/`-h` prints `help` and exits 0. Unknown options,
 * missing values and values given to flags are CliErrors.
 */
export function parseCommand<T extends Options>(argv: string[], options: T, help: string): { values: ParsedValues<T>; positionals: string[] } {
  const values: Record<string, string | boolean | string[]> = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const token = argv[i] as string;
    if (token === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (token === '--help' || token === '-h') {
      console.log(help);
      process.exit(0);
    }
    if (!token.startsWith('-') || token === '-' || /^-\d/.test(token)) {
      positionals.push(token);
      continue;
    }
    if (!token.startsWith('--')) throw new CliError(`unknown option '${token}'${suggestion(token, options)}`);
    const equals = token.indexOf('=');
    const name = token.slice(2, equals < 0 ? undefined : equals);
    const spec = options[name];
    if (spec === undefined) throw new CliError(`unknown option '--${name}'${suggestion(name, options)}`);
    if (spec.type === 'boolean') {
      if (equals >= 0) throw new CliError(`--${name} is a flag and takes no value`);
      values[name] = true;
      continue;
    }
    let value: string;
    if (equals >= 0) value = token.slice(equals + 1);
    else {
      const next = argv[i + 1];
      // The next token is the value unless it is one of this command's options: `--acks -1` works.
      if (next === undefined || (next.startsWith('--') && options[next.slice(2).split('=')[0] as string] !== undefined)) throw new CliError(`--${name} needs a value`);
      value = next;
      i++;
    }
    if (spec.multiple) values[name] = [...((values[name] as string[] | undefined) ?? []), value];
    else values[name] = value;
  }
  return { values: values as ParsedValues<T>, positionals };
}

/** " (did you mean --topic?)" when an option is one or two edits away from a known one. */
function suggestion(given: string, options: Options): string {
  const name = given.replace(/^-+/, '').split('=')[0] as string;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of [...Object.keys(options), 'help']) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance || (distance === bestDistance && best === undefined && candidate.startsWith(name))) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined && name.length >= 3) best = Object.keys(options).find((candidate) => candidate.startsWith(name));
  return best === undefined ? '' : ` (did you mean --${best}?)`;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, diagonal + (a[i - 1] === b[j - 1] ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length] as number;
}

export function integerOption(value: string | undefined, name: string, fallback: number, range: { min?: number; max?: number } = {}): number {
  if (value === undefined) return fallback;
  const number = Number(value);
  if (value.trim() === '' || !Number.isSafeInteger(number)) throw new CliError(`--${name} must be an integer, got '${value}'`);
  if (range.min !== undefined && number < range.min) throw new CliError(`--${name} must be at least ${range.min}, got ${value}`);
  if (range.max !== undefined && number > range.max) throw new CliError(`--${name} must be at most ${range.max}, got ${value}`);
  return number;
}

export function requiredOption(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new CliError(`--${name} is required`);
  return value;
}

/** One of `choices`; the error lists them. */
export function choiceOption<T extends string>(value: string | undefined, name: string, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (!(choices as readonly string[]).includes(value)) throw new CliError(`--${name} must be one of ${choices.join(', ')}, got '${value}'`);
  return value as T;
}

/** `--acks`: all (or -1), 1 or 0, as Kafka's `acks` / `--request-required-acks`. */
export function acksOption(value: string | undefined, fallback = -1): number {
  if (value === undefined) return fallback;
  if (value === 'all' || value === '-1') return -1;
  if (value === '0' || value === '1') return Number(value);
  throw new CliError(`--acks must be all, -1, 0 or 1, got '${value}'`);
}

/** `name=value` pairs (`--config`, `--property`, `--override`), split at the first '='. */
export function keyValueOption(entries: readonly string[] | undefined, name: string): { name: string; value: string }[] {
  return (entries ?? []).map((entry) => {
    const at = entry.indexOf('=');
    if (at <= 0) throw new CliError(`--${name} takes name=value, got '${entry}'`);
    return { name: entry.slice(0, at).trim(), value: entry.slice(at + 1) };
  });
}
