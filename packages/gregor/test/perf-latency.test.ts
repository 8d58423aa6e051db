/**
 * `gregor perf latency`: produce-to-consume latency at a steady rate. The report has finite
 * figures in order and its counts add up (every record sent is acknowledged and received once);
 * every bad flag is one clear line and exit 1. No figure is compared with a speed.
 */
import fs from 'node:fs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { CliError } from '../src/cli/args.js';
import type { EndToEndLatencyReport } from '../src/perf/end-to-end-latency.js';
import { describeFailure } from '../src/cli/failure.js';
import { ensureBuilt, expectOneLineFailure, gregor, temporaryDir } from './support/cli.js';
import { perfOutput } from './support/perf-output.js';

vi.setConfig({ testTimeout: 120_000 });

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

const number = (text: string) => Number(text.replaceAll(',', ''));

describe('gregor perf latency', () => {
  it('reports produce-to-consume and acknowledgement percentiles in order, and every record sent is acknowledged and received once', async () => {
    const dir = temporaryDir('perf-latency');
    dirs.push(dir);
    // Records written before the run are not read: the consumer starts at the latest offset.
    await perfOutput(['produce', '--dir', dir, '--topic', 'lat', '--records', '50']);
    const output = await perfOutput(['latency', '--dir', dir, '--topic', 'lat', '--rate', '2000', '--messages', '600', '--warmup', '0.2', '--record-size', '40']);
    const endToEnd = /produce-to-consume latency: ([\d.]+) ms 50th, ([\d.]+) ms 99th, ([\d.]+) ms 99\.9th, ([\d.]+) ms max, ([\d.]+) ms avg/.exec(output);
    const acknowledgement = /produce acknowledgement latency: ([\d.]+) ms 50th, ([\d.]+) ms 99th, ([\d.]+) ms 99\.9th, ([\d.]+) ms max/.exec(output);
    const counts = /(\d+) records sent, (\d+) acknowledged, (\d+) received \((\d+) twice\) in ([\d.]+) s: ([\d,]+) records\/s offered of ([\d,]+) asked; sender at most ([\d.]+) ms behind its schedule; (\d+) warm-up records not counted/.exec(output);
    expect(endToEnd, output).not.toBeNull();
    expect(acknowledgement, output).not.toBeNull();
    expect(counts, output).not.toBeNull();
    for (const match of [endToEnd, acknowledgement] as RegExpExecArray[]) {
      const [p50, p99, p999, max] = match.slice(1, 5).map(number) as [number, number, number, number];
      for (const figure of [p50, p99, p999, max]) expect(Number.isFinite(figure) && figure >= 0, output).toBe(true);
      expect(p50).toBeLessThanOrEqual(p99);
      expect(p99).toBeLessThanOrEqual(p999);
      expect(p999).toBeLessThanOrEqual(max);
    }
    const [sent, acknowledged, received, twice, seconds, offered, asked, lagMs, warmup] = (counts as RegExpExecArray).slice(1).map(number);
    expect(sent).toBe(600);
    expect(acknowledged).toBe(600);
    expect(received).toBe(600);
    expect(twice).toBe(0);
    expect(asked).toBe(2000);
    expect(seconds).toBeGreaterThan(0);
    expect(offered).toBeGreaterThan(0);
    expect(Number.isFinite(lagMs)).toBe(true);
    expect(warmup).toBeGreaterThan(0);
    expect(output).toMatch(/measuring 600 records at 2000 records\/s of 40 B, acks=all, linger\.ms 0/);
  });

  it('with --json prints the report as one JSON object on stdout, its counts adding up', async () => {
    const dir = temporaryDir('perf-latency-json');
    dirs.push(dir);
    const printed: string[] = [];
    const log = vi.spyOn(console, 'log').mockImplementation((line: unknown) => {
      printed.push(String(line));
    });
    let progress: string;
    try {
      progress = await perfOutput(['latency', '--dir', dir, '--topic', 'lat', '--rate', '2000', '--messages', '300', '--warmup', '0.1', '--json']);
    } finally {
      log.mockRestore();
    }
    expect(printed).toHaveLength(1);
    const report = JSON.parse(printed[0] as string) as EndToEndLatencyReport;
    expect(report).toMatchObject({ sent: 300, acknowledged: 300, received: 300, duplicates: 0, targetRate: 2000 });
    for (const summary of [report.endToEnd, report.acknowledgement]) {
      expect(summary.p50).toBeLessThanOrEqual(summary.p99);
      expect(summary.p99).toBeLessThanOrEqual(summary.p999);
      expect(summary.p999).toBeLessThanOrEqual(summary.max);
    }
    // The text report is not printed beside it.
    expect(progress).not.toMatch(/produce-to-consume latency:/);
  });

  it('ends at once with NOT_ENOUGH_REPLICAS, the ISR and min.insync.replicas when the topic has fewer replicas than min.insync.replicas, not with BUFFER_FULL a minute later', async () => {
    ensureBuilt();
    const dir = temporaryDir('perf-latency-min-isr');
    dirs.push(dir);
    const created = gregor(['topics', 'create', '--dir', dir, '--topic', 'strict', '--replication-factor', '1', '--config', 'min.insync.replicas=2']);
    expect(created.status, created.stderr).toBe(0);
    const error = await perfOutput(['latency', '--dir', dir, '--topic', 'strict', '--rate', '1000', '--duration', '30', '--warmup', '0']).then(() => null, (failure: unknown) => failure);
    expect(error).toMatchObject({ code: 'NOT_ENOUGH_REPLICAS' });
    const line = describeFailure(error);
    expect(line).toMatch(/^NOT_ENOUGH_REPLICAS: /);
    expect(line).toContain('min.insync.replicas 2');
  });

  it('refuses each bad flag with a line naming it, before connecting', async () => {
    const refusals: [string[], RegExp][] = [
      [['--rate', '0'], /--rate must be at least 1, got 0/],
      [['--rate', 'fast'], /--rate must be an integer, got 'fast'/],
      [['--record-size', '8'], /--record-size must be at least 16, got 8/],
      [['--acks', '0'], /--acks 0 has no acknowledgement to time/],
      [['--acks', '2'], /--acks must be all, -1, 0 or 1, got '2'/],
      [['--duration', '5', '--messages', '10'], /give either --duration or --messages, not both/],
      [['--duration', '0'], /--duration must be more than 0 seconds, got 0/],
      [['--duration', 'long'], /--duration takes seconds as a number, got 'long'/],
      [['--warmup', '-1'], /--warmup must be at least 0 seconds, got -1/],
      [['--messages', '0'], /--messages must be at least 1, got 0/],
      [['--replication-factor', '0'], /--replication-factor must be at least 1/],
      [['--rates', '5'], /unknown option '--rates' \(did you mean --rate\?\)/],
      [['extra'], /unexpected argument 'extra'/],
    ];
    for (const [flags, message] of refusals) {
      // No --dir and no --bootstrap-server: a refusal that came after connecting would open ./data.
      const refused = perfOutput(['latency', '--topic', 't', ...flags]);
      await expect(refused, flags.join(' ')).rejects.toThrow(CliError);
      await expect(refused, flags.join(' ')).rejects.toThrow(message);
    }
    await expect(perfOutput(['latency', '--rate', '5'])).rejects.toThrow(/--topic is required/);
  });

  it('exits 1 with one line on stderr for a bad flag, as every gregor command', () => {
    ensureBuilt();
    expectOneLineFailure(gregor(['perf', 'latency', '--topic', 't', '--rate', '-5']), '--rate must be at least 1, got -5');
    const help = gregor(['perf', 'latency', '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/\nExamples:\n {2}gregor perf latency /);
  });
});
