/**
 * The seed examples with the web console on (`--http-port`, on by default from the command line):
 * while the streaming platform runs, its console shows the three topics and the three groups, and
 * the trades pipeline's shows trades_raw and the group spark-streaming with its lag.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseCommandLine } from '../../../examples/lib/common.js';
import { main as streamingPlatform } from '../../../examples/streaming-platform.js';
import { main as tradesPipeline } from '../../../examples/trades-pipeline.js';

const directories: string[] = [];
afterEach(() => {
  for (const dir of directories.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-example-console-'));
  directories.push(dir);
  return dir;
}

/** A `log` that, once the example prints its console address, polls the console until `seen` holds. */
function watchConsole(seen: (topics: string[], groups: string[]) => boolean) {
  const found = { topics: [] as string[], groups: [] as string[], done: false };
  let polling: Promise<void> | null = null;
  const log = (line: string) => {
    const match = /^web console: (http:\/\/[^ ]+\/)/.exec(line);
    if (match === null || polling !== null) return;
    const base = match[1];
    polling = (async () => {
      const deadline = Date.now() + 30_000;
      while (!found.done && Date.now() < deadline) {
        const topics = (await (await fetch(`${base}api/topics`)).json()) as { topics: { name: string; internal: boolean }[] };
        const groups = (await (await fetch(`${base}api/groups`)).json()) as { groups: { groupId: string }[] };
        found.topics = topics.topics.filter((t) => !t.internal).map((t) => t.name).sort();
        found.groups = groups.groups.map((g) => g.groupId).sort();
        found.done = seen(found.topics, found.groups);
        if (!found.done) await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();
  };
  return { log, found, finished: () => polling ?? Promise.resolve() };
}

describe('the seed examples serve the web console while they run', () => {
  it('streaming platform: the console lists its three topics and its three groups', async () => {
    const watch = watchConsole((_topics, groups) => groups.length >= 3);
    const summary = await streamingPlatform({ dir: temporaryDir(), durationMs: 2000, httpPort: 0, log: watch.log });
    await watch.finished();
    expect(summary.console?.port).toBeGreaterThan(0);
    expect(watch.found).toMatchObject({ topics: ['application-logs', 'system-metrics', 'user-events'], done: true });
    expect(watch.found.groups).toEqual(expect.arrayContaining(['alert-group', 'analytics-group', 'logger-group']));
  }, 90_000);

  it('trades pipeline: the console lists trades_raw and the group spark-streaming', async () => {
    const watch = watchConsole((topics, groups) => topics.includes('trades_raw') && groups.includes('spark-streaming'));
    const summary = await tradesPipeline({ dir: temporaryDir(), durationMs: 2000, rate: 500, httpPort: 0, log: watch.log });
    await watch.finished();
    expect(summary.console?.port).toBeGreaterThan(0);
    expect(watch.found.done).toBe(true);
  }, 90_000);

  it('the command line turns the console on at 8080 by default and off with --http-port 0', () => {
    expect(parseCommandLine([]).common.httpPort).toBe(8080);
    expect(parseCommandLine(['--http-port', '9999']).common.httpPort).toBe(9999);
    expect(parseCommandLine(['--http-port', '0']).common.httpPort).toBeUndefined();
  });
});
