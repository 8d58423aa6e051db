/**
 * Progress for long CLI work: a bar redrawn in place on a terminal, and plain lines (one per 10%)
 * when stdout is a pipe or a file, so logs stay readable. Not for concurrent use by two tasks.
 */
export interface Progress {
  update(done: number): void;
  finish(summary?: string): void;
}

export interface ProgressOptions {
  label: string;
  total: number;
  unit?: string;
  stream?: NodeJS.WriteStream;
  /** Redraw at most this often on a terminal. */
  redrawIntervalMs?: number;
}

const BAR_WIDTH = 30;

export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const unit = options.unit ?? '';
  const total = Math.max(1, options.total);
  const redrawIntervalMs = options.redrawIntervalMs ?? 100;
  const startedAt = performance.now();
  let lastDrawAt = 0;
  let lastTenth = -1;

  const describe = (done: number): string => {
    const seconds = (performance.now() - startedAt) / 1000;
    const rate = seconds > 0 ? Math.round(done / seconds) : 0;
    return `${options.label} ${done}/${options.total}${unit ? ` ${unit}` : ''} (${rate.toLocaleString('en-US')}${unit ? ` ${unit}` : ''}/s)`;
  };

  if (stream.isTTY) {
    return {
      update(done) {
        const now = performance.now();
        if (now - lastDrawAt < redrawIntervalMs && done < total) return;
        lastDrawAt = now;
        const filled = Math.min(BAR_WIDTH, Math.floor((done / total) * BAR_WIDTH));
        const bar = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}]`;
        stream.write(`\r${bar} ${Math.floor((done / total) * 100)}% ${describe(done)}\x1b[K`);
      },
      finish(summary) {
        stream.write('\r\x1b[K');
        if (summary) stream.write(`${summary}\n`);
      },
    };
  }
  return {
    update(done) {
      const tenth = Math.floor((done / total) * 10);
      if (tenth === lastTenth) return;
      lastTenth = tenth;
      stream.write(`${Math.min(100, tenth * 10)}% ${describe(done)}\n`);
    },
    finish(summary) {
      if (summary) stream.write(`${summary}\n`);
    },
  };
}
