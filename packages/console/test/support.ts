/** A Gregor broker with its console on a free port, for the console's tests. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConsoleConfig } from '@gregor/console';
import { silentLogger } from '@gregor/server';
import { Gregor } from 'gregor';

export interface ConsoleFixture {
  gregor: Gregor;
  base: string;
  dir: string;
  close(): Promise<void>;
}

export async function startConsole(config: Partial<ConsoleConfig> = {}, options: { kafkaListener?: boolean } = {}): Promise<ConsoleFixture> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-console-'));
  const gregor = await Gregor.open({ dir, config: { groupInitialRebalanceDelayMs: 0 } });
  const http = { port: 0, config: { sampleIntervalMs: 100, ...config } };
  if (options.kafkaListener === false) await gregor.serveConsole(http);
  else await gregor.listen({ port: 0, logger: silentLogger, http });
  const base = `http://127.0.0.1:${gregor.httpAddress!.port}`;
  return {
    gregor,
    base,
    dir,
    async close() {
      await gregor.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function getJson(base: string, urlPath: string): Promise<{ status: number; body: any }> {
  const response = await fetch(base + urlPath);
  return { status: response.status, body: await response.json() };
}

/** Polls `read` until `accept` holds (bounded: generous for a shared machine). */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met in ${timeoutMs} ms; last value: ${JSON.stringify(last)?.slice(0, 500)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
    last = await read();
  }
  return last;
}
