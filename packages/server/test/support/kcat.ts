/**
 * Runs the `kcat` binary (librdkafka) with a hard timeout; the process is killed by pid in a
 * `finally` so a hung kcat never outlives its test.
 */
import { spawn } from 'node:child_process';

export interface KcatResult {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface KcatOptions {
  input?: string | Buffer;
  timeoutMs?: number;
  /** Resolve once stdout satisfies this (then kcat is killed): for consumers that never exit on their own. */
  stopWhen?: (stdout: string) => boolean;
}

export async function kcat(args: string[], options: KcatOptions = {}): Promise<KcatResult> {
  const child = spawn('kcat', args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let timedOut = false;
  let timer: NodeJS.Timeout | undefined;
  try {
    return await new Promise<KcatResult>((resolve, reject) => {
      const finish = (code: number | null) => resolve({ code, stdout, stderr, timedOut });
      child.stdout.setEncoding('utf8');
      child.stderr.setEncoding('utf8');
      child.stdout.on('data', (text: string) => {
        stdout += text;
        if (options.stopWhen?.(stdout)) finish(0);
      });
      child.stderr.on('data', (text: string) => {
        stderr += text;
      });
      child.once('error', reject);
      child.once('close', (code) => finish(code));
      timer = setTimeout(() => {
        timedOut = true;
        finish(null);
      }, options.timeoutMs ?? 15_000);
      child.stdin.on('error', () => {});
      if (options.input !== undefined) child.stdin.end(options.input);
      else child.stdin.end();
    });
  } finally {
    clearTimeout(timer);
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }
}

/** Starts a long-running kcat (a group member); `stop()` kills it by pid and returns its output. */
export function kcatProcess(args: string[]): { output: () => string; stderr: () => string; stop: () => Promise<void> } {
  const child = spawn('kcat', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8');
  child.stderr.setEncoding('utf8');
  child.stdout.on('data', (text: string) => {
    stdout += text;
  });
  child.stderr.on('data', (text: string) => {
    stderr += text;
  });
  child.on('error', () => {});
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    output: () => stdout,
    stderr: () => stderr,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) {
        // SIGTERM first so kcat leaves its group cleanly; SIGKILL if it does not exit soon.
        process.kill(child.pid, 'SIGTERM');
        const timer = setTimeout(() => child.pid !== undefined && child.exitCode === null && process.kill(child.pid, 'SIGKILL'), 3000);
        await closed;
        clearTimeout(timer);
      }
    },
  };
}
