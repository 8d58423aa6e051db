/**
 * `gregor dump-log` beyond the plain dump: `__consumer_offsets` records decoded
 * (--offsets-decoder), indexes checked against their segment (--verify-index-only), and the
 * learner's walk through one batch's bytes and one index lookup (--explain). The data is written by
 * Gregor's own producer and consumer group; the command runs through its `main` in this process.
 */
import fs from 'node:fs';
import path from 'node:path';
import { partitionForGroup } from '@gregor/broker';
import { readBatchHeader } from '@gregor/records';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { main as dumpLog } from '../src/cli/commands/dump-log.js';
import { describeFailure } from '../src/cli/failure.js';
import { Gregor } from '../src/index.js';
import { temporaryDir } from './support/cli.js';

let dir: string;
const RECORDS = 400;
const segment = (name: string) => path.join(dir, name, '00000000000000000000.log');

beforeAll(async () => {
  dir = temporaryDir('dump-log');
  const gregor = await Gregor.open({ dir, config: { groupInitialRebalanceDelayMs: 0 } });
  const admin = gregor.admin();
  await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 1 }] });
  const producer = gregor.producer({ lingerMs: 0 });
  await producer.connect();
  // Several batches of about 2.6 KiB each, so the offset index (one entry per 4 KiB) has entries.
  for (let batch = 0; batch < 20; batch++) {
    await producer.send({ topic: 'events', messages: Array.from({ length: RECORDS / 20 }, (_, i) => ({ key: `key-${batch}-${i}`, value: `value ${'x'.repeat(100)} ${batch}-${i}` })) });
  }
  await admin.setOffsets({ groupId: 'readers', topic: 'events', partitions: [{ partition: 0, offset: 123 }] });
  await gregor.close();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

async function run(args: string[]): Promise<{ stdout: string; failure?: string }> {
  let stdout = '';
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout += `${parts.join(' ')}\n`;
  });
  try {
    await dumpLog(args);
    return { stdout };
  } catch (error) {
    return { stdout, failure: describeFailure(error, 'dump-log') };
  } finally {
    log.mockRestore();
  }
}

describe('gregor dump-log', () => {
  it('decodes __consumer_offsets records with --offsets-decoder', async () => {
    const offsetsPartitions = fs.readdirSync(dir).filter((name) => name.startsWith('__consumer_offsets-')).length;
    const partition = `__consumer_offsets-${partitionForGroup('readers', offsetsPartitions)}`;
    const { stdout, failure } = await run([segment(partition), '--offsets-decoder']);
    expect(failure).toBeUndefined();
    const line = stdout.split('\n').find((l) => l.includes('"group":"readers"'));
    expect(line).toContain('key: {"type":"1","data":{"group":"readers","topic":"events","partition":0}}');
    expect(line).toMatch(/payload: \{"version":"\d","data":\{"offset":123,"leaderEpoch":-?\d+,"metadata":"[^"]*","commitTimestamp":\d+\}\}/);
  });

  it('verifies an offset index and a time index against the log, and names a wrong entry', async () => {
    const index = segment('events-0').replace(/\.log$/, '.index');
    const good = await run([index, segment('events-0').replace(/\.log$/, '.timeindex'), '--verify-index-only']);
    expect(good.failure).toBeUndefined();
    expect(good.stdout).toMatch(/\.index: [1-9]\d* entries, every entry matches the log/);
    expect(good.stdout).toMatch(/\.timeindex: [1-9]\d* entries, every entry matches the log/);
    // Point the first entry at the second batch's position: its offset no longer matches.
    const bytes = fs.readFileSync(index);
    const firstPosition = bytes.readInt32BE(4);
    const log = fs.readFileSync(segment('events-0'));
    const next = firstPosition + log.readInt32BE(firstPosition + 8) + 12;
    bytes.writeInt32BE(next, 4);
    fs.writeFileSync(index, bytes);
    const bad = await run([index, '--verify-index-only']);
    expect(bad.stdout).toMatch(/entry 0: Index offset: \d+, log offset: \d+/);
    expect(bad.failure).toMatch(/entry 0: Index offset/);
    bytes.writeInt32BE(firstPosition, 4);
    fs.writeFileSync(index, bytes);
  });

  it('explains one batch byte by byte, each field beside its bytes, and its records', async () => {
    const { stdout, failure } = await run([segment('events-0'), '--explain']);
    expect(failure).toBeUndefined();
    const log = fs.readFileSync(segment('events-0'));
    const header = readBatchHeader(log, 0);
    const hex = (from: number, to: number) => [...log.subarray(from, to)].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    expect(stdout).toMatch(new RegExp(`^\\s+0\\s+${hex(0, 8)}\\s+baseOffset\\s+0\\b`, 'm'));
    expect(stdout).toMatch(new RegExp(`^\\s+8\\s+${hex(8, 12)}\\s+batchLength\\s+${log.readInt32BE(8)}\\b`, 'm'));
    expect(stdout).toMatch(/^\s+16\s+02\s+magic\s+2\b/m);
    expect(stdout).toContain(`computed ${header.crc}, it matches`);
    expect(stdout).toMatch(new RegExp(`recordCount\\s+${header.recordCount}\\b`));
    expect(stdout).toContain('Record 0 (offset 0):');
    expect(stdout).toMatch(/key\s+"key-0-0"/);
    expect(stdout).toContain(`Records 3 to ${header.recordCount - 1} follow with the same layout`);
    expect(stdout).not.toContain('Record 3 (offset 3):');
  });

  it('explains the index lookup that finds an offset, then the batch holding it', async () => {
    const target = RECORDS - 7;
    const { stdout, failure } = await run([segment('events-0'), '--explain', '--offset', String(target)]);
    expect(failure).toBeUndefined();
    expect(stdout).toMatch(/The offset index 00000000000000000000\.index has [1-9]\d* entries/);
    expect(stdout).toMatch(/search entries \d+\.\.\d+: entry \d+ is offset \d+ at position \d+/);
    const holds = new RegExp(`byte (\\d+): batch (\\d+)-(\\d+) holds offset ${target}`).exec(stdout);
    expect(holds).not.toBeNull();
    const [, position, base, last] = holds as RegExpExecArray;
    const header = readBatchHeader(fs.readFileSync(segment('events-0')), Number(position));
    expect([header.baseOffset, header.lastOffset]).toEqual([Number(base), Number(last)]);
    expect(Number(base) <= target && target <= Number(last)).toBe(true);
    expect(stdout).toContain(`RecordBatch at byte ${position} of 00000000000000000000.log`);
    expect(stdout).toMatch(new RegExp(`^Record \\d+ \\(offset ${target}\\):$`, 'm'));
  });
});
