/**
 * The server's log sink. Connection-level problems (oversize frames, malformed headers, unknown
 * APIs) are operating errors of one client: they are logged here and only that connection closes.
 */
export interface Logger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function line(level: string, message: string, fields?: Record<string, unknown>): string {
  const suffix = fields === undefined ? '' : ` ${JSON.stringify(fields, (_key, value) => (typeof value === 'bigint' ? value.toString() : value))}`;
  return `${new Date().toISOString()} ${level} gregor:server ${message}${suffix}\n`;
}

/** One line per event on stderr: the default. */
export const stderrLogger: Logger = {
  info: (message, fields) => void process.stderr.write(line('INFO', message, fields)),
  warn: (message, fields) => void process.stderr.write(line('WARN', message, fields)),
  error: (message, fields) => void process.stderr.write(line('ERROR', message, fields)),
};

/** Discards everything: for tests. */
export const silentLogger: Logger = { info: () => {}, warn: () => {}, error: () => {} };
