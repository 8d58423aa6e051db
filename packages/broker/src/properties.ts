/**
 * Java's `.properties` text format, as Kafka reads `server.properties` and `meta.properties`
 * (java.util.Properties.load): one `key=value`, `key:value` or `key value` per logical line;
 * lines starting with `#` or `!` are comments; a line ending in an odd number of backslashes
 * continues on the next one (leading whitespace of the continuation dropped); `\t`, `\n`, `\r`,
 * `\f`, `\uXXXX` and `\<char>` escapes in keys and values. A later key replaces an earlier one.
 * Pure functions.
 */

/** Parses properties text into a map, in the order keys first appear. */
export function parseProperties(text: string): Map<string, string> {
  const properties = new Map<string, string>();
  for (const line of logicalLines(text)) {
    const { key, value } = splitLine(line);
    properties.set(decodeEscapes(key), decodeEscapes(value));
  }
  return properties;
}

/** Joins continued lines and drops blank and comment lines. */
function* logicalLines(text: string): Generator<string> {
  let pending: string | null = null;
  for (const raw of text.split(/\r\n|\r|\n/)) {
    const line: string = pending === null ? raw.replace(/^[ \t\f]+/, '') : pending + raw.replace(/^[ \t\f]+/, '');
    if (pending === null && (line === '' || line.startsWith('#') || line.startsWith('!'))) continue;
    const trailing = /\\+$/.exec(line)?.[0].length ?? 0;
    if (trailing % 2 === 1) {
      pending = line.slice(0, -1);
      continue;
    }
    pending = null;
    if (line !== '') yield line;
  }
  if (pending !== null && pending !== '') yield pending;
}

/** The key ends at the first unescaped `=`, `:` or whitespace; the separator may be surrounded by whitespace. */
function splitLine(line: string): { key: string; value: string } {
  let end = 0;
  while (end < line.length) {
    const char = line[end];
    if (char === '\\') {
      end += 2;
      continue;
    }
    if (char === '=' || char === ':' || char === ' ' || char === '\t' || char === '\f') break;
    end++;
  }
  const key = line.slice(0, Math.min(end, line.length));
  let rest = line.slice(Math.min(end, line.length)).replace(/^[ \t\f]+/, '');
  if (rest.startsWith('=') || rest.startsWith(':')) rest = rest.slice(1).replace(/^[ \t\f]+/, '');
  return { key, value: rest };
}

const ESCAPES: Record<string, string> = { t: '\t', n: '\n', r: '\r', f: '\f' };

function decodeEscapes(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, escaped: string) => {
    if (escaped.length === 5) return String.fromCharCode(Number.parseInt(escaped.slice(1), 16));
    return ESCAPES[escaped] ?? escaped;
  });
}
