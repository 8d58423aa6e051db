/**
 * `gregor perf produce --throughput N`: the rate stays at or below the target, and the latency
 * percentiles are those of the records (every record of a send shares its latency).
 */
import fs from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { LatencyRecorder, main as perf } from '../src/cli/commands/perf.js';
import { temporaryDir } from './support/cli.js';
import { perfOutput } from './support/perf-output.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('LatencyRecorder', () => {
  it('weights each latency by its records, as percentiles over records', () => {
    const recorder = new LatencyRecorder();
    recorder.record(1, 90);
    recorder.record(10, 9);
    recorder.record(100, 1);
    expect(recorder.percentile(0.5)).toBe(1);
    expect(recorder.percentile(0.9)).toBe(1);
    expect(recorder.percentile(0.95)).toBe(10);
    expect(recorder.percentile(0.99)).toBe(10);
    expect(recorder.percentile(0.999)).toBe(100);
    expect(recorder.summary()).toBe('2.8 ms avg latency, 100.0 ms max latency, 1.0 ms 50th, 10.0 ms 95th, 10.0 ms 99th, 100.0 ms 99.9th.');
  });

  it('gives nearest-rank percentiles over thousands of samples recorded in any order, asked before and after more arrive (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ ms: fc.double({ min: 0, max: 1000, noNaN: true }), count: fc.integer({ min: 1, max: 5 }) }), { minLength: 1100, maxLength: 4000 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (samples, fraction) => {
        const recorder = new LatencyRecorder();
        const half = Math.floor(samples.length / 2);
        for (const sample of samples.slice(0, half)) recorder.record(sample.ms, sample.count);
        recorder.percentile(fraction);
        for (const sample of samples.slice(half)) recorder.record(sample.ms, sample.count);
        // The reference: every record's latency, sorted, and the one at rank ceil(fraction * records).
        const perRecord = samples.flatMap((sample) => Array.from({ length: sample.count }, () => sample.ms)).sort((a, b) => a - b);
        expect(recorder.count).toBe(perRecord.length);
        expect(recorder.percentile(fraction)).toBe(perRecord[Math.max(0, Math.ceil(fraction * perRecord.length) - 1)]);
        expect(recorder.max).toBe(perRecord[perRecord.length - 1]);
      }),
      { numRuns: 40 },
    );
  });
});

describe('gregor perf produce --throughput', () => {
  it('keeps to the target rate and reports latency percentiles in order', async () => {
    const dir = temporaryDir('perf');
    dirs.push(dir);
    let output = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
      output += String(chunk);
      return true;
    });
    try {
      await perf(['produce', '--dir', dir, '--topic', 'paced', '--records', '1500', '--record-size', '50', '--throughput', '3000']);
    } finally {
      spy.mockRestore();
    }
    const summary = /1500 records sent, ([\d,]+) records\/sec .* ([\d.]+) ms avg latency, ([\d.]+) ms max latency, ([\d.]+) ms 50th, ([\d.]+) ms 95th, ([\d.]+) ms 99th, ([\d.]+) ms 99\.9th\./.exec(output);
    expect(summary, output).not.toBeNull();
    const [rate, , max, p50, p95, p99, p999] = (summary as RegExpExecArray).slice(1).map((n) => Number(n.replace(/,/g, '')));
    // Pacing only ever waits, so the rate can fall short of the target on a busy machine but never pass it by more than a send's worth.
    expect(rate).toBeLessThanOrEqual(3000 * 1.05);
    expect(p50).toBeLessThanOrEqual(p95 as number);
    expect(p95).toBeLessThanOrEqual(p99 as number);
    expect(p99).toBeLessThanOrEqual(p999 as number);
    expect(p999).toBeLessThanOrEqual(max as number);
  });
});

describe('gregor perf with keyed records (issue 9)', () => {
  it('sends --key-size keys, reads them back with eachMessage and eachBatch, and prints the bare-framing ratios', async () => {
    const dir = temporaryDir('perf-keyed');
    dirs.push(dir);
    const produced = await perfOutput(['produce', '--dir', dir, '--topic', 'keyed', '--records', '2500', '--record-size', '90', '--key-size', '10']);
    expect(produced).toMatch(/2500 records sent, [\d,]+ records\/sec \(/);
    expect(produced).toMatch(/bare Kafka v2 framing of the same messages, fs\.writeSync per 1000: [\d,]+ records\/s; ratio \d+\.\d\d/);
    // Every record carries its 10-byte key and 90-byte value: 2,500 × 100 bytes of payload.
    for (const each of ['message', 'batch', 'records']) {
      const consumed = await perfOutput(['consume', '--dir', dir, '--topic', 'keyed', '--each', each]);
      const summary = /2500 records in [\d.]+ s: [\d,]+ records\/s, [\d.]+ MB\/s of payload \(([\d.]+) MB of keys and values, (\w+)\)/.exec(consumed);
      expect(summary, consumed).not.toBeNull();
      const [, megabytes, handler] = summary as RegExpExecArray;
      expect(handler).toBe({ message: 'eachMessage', batch: 'eachBatch', records: 'eachRecords' }[each]);
      expect(megabytes).toBe('0.250');
      expect(consumed).toMatch(/bare read \+ decode of the same segments \(every batch's CRC, every record's key and value\): [\d,]+ records\/s; ratio \d+\.\d\d/);
    }
  });

  it('refuses an --each that is not batch, message or records', async () => {
    const dir = temporaryDir('perf-keyed-each');
    dirs.push(dir);
    await perfOutput(['produce', '--dir', dir, '--topic', 't', '--records', '10']);
    await expect(perfOutput(['consume', '--dir', dir, '--topic', 't', '--each', 'record'])).rejects.toThrow(/each/);
  });
});

describe("gregor perf takes Kafka's perf tools' name for the count", () => {
  it('--num-records (kafka-producer-perf-test) and --messages (kafka-consumer-perf-test), and refuses two names at once', async () => {
    const dir = temporaryDir('perf-kafka-names');
    dirs.push(dir);
    expect(await perfOutput(['produce', '--dir', dir, '--topic', 't', '--num-records', '30'])).toMatch(/\b30 records sent, /);
    expect(await perfOutput(['consume', '--dir', dir, '--topic', 't', '--messages', '30'])).toMatch(/\b30 records in /);
    await expect(perfOutput(['produce', '--dir', dir, '--topic', 't', '--records', '5', '--num-records', '6'])).rejects.toThrow(/--records and --num-records name the same count/);
  });

  it('--messages 5 counts 5 records in the summary, not the whole first batch, with either handler', async () => {
    const dir = temporaryDir('perf-partial');
    dirs.push(dir);
    // One send of 30 records: one batch, which the first fetch returns whole.
    await perfOutput(['produce', '--dir', dir, '--topic', 't', '--records', '30', '--record-size', '1000']);
    for (const each of ['batch', 'message', 'records']) {
      const consumed = await perfOutput(['consume', '--dir', dir, '--topic', 't', '--messages', '5', '--each', each]);
      expect(consumed, consumed).toMatch(/\b5 records in [\d.]+ s: [\d,]+ records\/s, [\d.]+ MB\/s of payload \(0\.005 MB of keys and values/);
      expect(consumed).not.toMatch(/\b30 records in/);
    }
  });
});
