/**
 * The commands a Kafka user reaches for, against both ways of reaching a broker: a data directory
 * opened in-process (`--dir`) and a running `gregor serve` (`--bootstrap-server`). One scenario per
 * way, its steps in order. Each command runs through its `main` in this process (its output
 * captured, input from --file) rather than as a child process: the process-level contract (exit
 * codes, one-line failures) is cli-errors.test.ts's, and a process per step would cost a second
 * of start-up each.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { describeFailure } from '../src/cli/failure.js';
import { ensureBuilt, type ServeProcess, startServe, temporaryDir } from './support/cli.js';

// Each test runs whole processes (a CLI command, a server); on a loaded machine they take long.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

const commands = {
  topics: () => import('../src/cli/commands/topics.js'),
  produce: () => import('../src/cli/commands/produce.js'),
  consume: () => import('../src/cli/commands/consume.js'),
  groups: () => import('../src/cli/commands/groups.js'),
  metadata: () => import('../src/cli/commands/metadata.js'),
};

/** Runs `gregor <args>` in this process; resolves to what it printed, or the one line its failure prints. */
async function runInProcess(args: string[]): Promise<{ stdout: string; stderr: string; failure?: string }> {
  const [name, ...rest] = args;
  const command = commands[name as keyof typeof commands];
  if (command === undefined) throw new Error(`no command ${name}`);
  let stdout = '';
  let stderr = '';
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += String(chunk);
    return true;
  });
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += String(chunk);
    return true;
  });
  // vitest routes console output itself; the commands print through both.
  const log = vi.spyOn(console, 'log').mockImplementation((...parts: unknown[]) => {
    stdout += `${parts.join(' ')}\n`;
  });
  const error = vi.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    stderr += `${parts.join(' ')}\n`;
  });
  try {
    await (await command()).main(rest);
    return { stdout, stderr };
  } catch (failure) {
    return { stdout, stderr, failure: describeFailure(failure, name) };
  } finally {
    for (const spy of [out, err, log, error]) spy.mockRestore();
  }
}

/** The rows of a printed table, split on runs of spaces, header first. */
function rows(table: string): string[][] {
  return table.trim().split('\n').map((line) => line.trim().split(/\s{2,}/));
}

for (const mode of ['dir', 'bootstrap'] as const) {
  describe(`gregor commands over ${mode === 'dir' ? '--dir' : '--bootstrap-server'}`, () => {
    let dir: string;
    let server: ServeProcess | undefined;
    let connection: string[];
    let inputs = 0;
    /** `input` becomes a file given with --file (produce reads it as it would read stdin). */
    const withInput = (args: string[], input?: string) => {
      if (input === undefined) return [...args, ...connection];
      const file = path.join(dir, `input-${inputs++}`);
      fs.writeFileSync(file, input);
      return [...args, '--file', file, ...connection];
    };
    const run = async (args: string[], input?: string) => {
      const result = await runInProcess(withInput(args, input));
      expect(result.failure, `${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBeUndefined();
      return result;
    };
    const fails = async (args: string[], input?: string) => {
      const result = await runInProcess(withInput(args, input));
      expect(result.failure, `${args.join(' ')} succeeded:\n${result.stdout}`).toBeDefined();
      return result.failure as string;
    };

    beforeAll(async () => {
      ensureBuilt();
      dir = temporaryDir(`commands-${mode}`);
      if (mode === 'dir') connection = ['--dir', path.join(dir, 'data')];
      else {
        server = await startServe(['--dir', path.join(dir, 'data'), '--port', '0', '--override', 'group.initial.rebalance.delay.ms=0']);
        connection = ['--bootstrap-server', server.address];
      }
    });
    afterAll(async () => {
      await server?.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('creates and alters a topic: partitions added, configs set and deleted, shown by describe', async () => {
      await run(['topics', 'create', '--topic', 'events', '--partitions', '2', '--config', 'retention.ms=1000000']);
      expect((await run(['topics', 'alter', '--topic', 'events', '--partitions', '3'])).stdout).toContain('now has 3 partitions (was 2)');
      await run(['topics', 'alter', '--topic', 'events', '--config', 'cleanup.policy=compact', '--delete-config', 'retention.ms']);
      const described = (await run(['topics', 'describe', '--topic', 'events'])).stdout;
      expect(described).toMatch(/PartitionCount: 3\t.*Configs: cleanup\.policy=compact$/m);
      expect(described).not.toContain('retention.ms');
    });

    it('produces with keys, headers, a partition and acks all, and JSON lines; consumes them back in every format', async () => {
      await run(['produce', '--topic', 'events', '--property', 'parse.key=true', '--property', 'key.separator=:', '--header', 'source=cli', '--partition', '2', '--acks', 'all'], 'k1:v1\nk2:v2\n');
      const json = [
        { key: 'user-1', value: 'signed up', headers: { trace: 'a' }, partition: 0 },
        { key: null, value: { nested: true }, partition: 0 },
      ];
      await run(['produce', '--topic', 'events', '--json'], `${json.map((line) => JSON.stringify(line)).join('\n')}\n`);

      const formatted = (await run(['consume', '--topic', 'events', '--partition', '2', '--offset', 'earliest', '--max-messages', '2', '--format', '%p %o %k=%s %h\\n'])).stdout;
      expect(formatted).toBe('2 0 k1=v1 source=cli\n2 1 k2=v2 source=cli\n');
      const kafkaFormat = (await run(['consume', '--topic', 'events', '--partition', '0', '--offset', '0', '--max-messages', '2', '--property', 'print.key=true', '--property', 'print.partition=true', '--property', 'print.offset=true', '--property', 'print.headers=true'])).stdout;
      expect(kafkaFormat).toBe('Partition:0\tOffset:0\ttrace:a\tuser-1\tsigned up\nPartition:0\tOffset:1\tNO_HEADERS\tnull\t{"nested":true}\n');
      const fromOne = (await run(['consume', '--topic', 'events', '--partition', '2', '--offset', '1', '--max-messages', '1'])).stdout;
      expect(fromOne).toBe('v2\n');
      const consumed = await run(['consume', '--topic', 'events', '--group', 'readers', '--from-beginning', '--max-messages', '4', '--json']);
      const records = consumed.stdout.trim().split('\n').map((line) => JSON.parse(line));
      expect(records.map((r) => `${r.partition}/${r.offset}/${r.key}/${r.value}`).sort()).toEqual(['0/0/user-1/signed up', '0/1/null/{"nested":true}', '2/0/k1/v1', '2/1/k2/v2']);
      expect(records.find((r) => r.key === 'k1')).toMatchObject({ topic: 'events', headers: { source: 'cli' } });
      expect(consumed.stderr).toContain('Processed a total of 4 messages');
      // What consume --json prints, produce --json reads: a copy of the records into another topic,
      // partition for partition.
      await run(['topics', 'create', '--topic', 'copy', '--partitions', '3']);
      await run(['produce', '--topic', 'copy', '--json'], consumed.stdout);
      const copied = (await run(['consume', '--topic', 'copy', '--from-beginning', '--max-messages', '4', '--json'])).stdout.trim().split('\n').map((line) => JSON.parse(line));
      const copyOf = (r: { partition: number; key: string; value: string; headers: unknown }) => `${r.partition}/${r.key}/${r.value}/${JSON.stringify(r.headers)}`;
      expect(copied.map(copyOf).sort()).toEqual(records.map(copyOf).sort());
    });

    it('reports a line it cannot read, naming it', async () => {
      expect(await fails(['produce', '--topic', 'events', '--property', 'parse.key=true', '--property', 'key.separator=:'], 'k:v\nno separator here\n')).toContain('line 2 has no key separator');
      expect(await fails(['produce', '--topic', 'events', '--json'], '{"value":1}\nnot json\n')).toContain('line 2 is not JSON');
      expect(await fails(['consume', '--topic', 'events', '--partition', '9'])).toContain('has no partition 9');
      expect(await fails(['consume', '--topic', 'events', '--partition', '2', '--offset', '99'])).toContain('outside events-2');
    });

    it('deletes records before an offset and shows the new log start', async () => {
      const trimmed = (await run(['topics', 'delete-records', '--topic', 'events', '--partition', '2', '--offset', '1'])).stdout;
      expect(rows(trimmed)).toEqual([['TOPIC', 'PARTITION', 'LOW-WATERMARK'], ['events', '2', '1']]);
      const described = rows((await run(['topics', 'describe', '--topic', 'events'])).stdout.split('\n').slice(1).join('\n'));
      expect(described[3]).toEqual(['2', '0', '0', '0', '1', '2']);
      expect(await fails(['topics', 'delete-records', '--topic', 'events', '--offset', '5'])).toContain('beyond the high watermark');
    });

    it('describes groups by offsets, members and state, resets offsets in several ways, and deletes a group', async () => {
      const all = (await run(['groups', 'describe', '--all-groups'])).stdout;
      expect(rows(all).filter((row) => row[0] === 'readers').map((row) => [row[1], row[2], row[3], row[4], row[5]])).toEqual([
        ['events', '0', '2', '2', '0'],
        ['events', '2', '2', '2', '0'],
      ]);
      expect(rows((await run(['groups', 'describe', 'readers', '--members'])).stdout)).toEqual([['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT']]);
      expect(rows((await run(['groups', 'describe', 'readers', '--state'])).stdout)[1]).toEqual(['readers', expect.stringMatching(/:\d+ \(0\)$/), '-', 'Empty', '0']);
      expect(rows((await run(['groups', 'list', '--state'])).stdout)).toContainEqual(['readers', 'Empty']);

      const newOffsets = async (args: string[]) => rows((await run(['groups', 'reset-offsets', 'readers', ...args])).stdout).slice(1).map((row) => `${row[2]}:${row[3]}`);
      expect(await newOffsets(['--topic', 'events:0,2', '--to-offset', '1'])).toEqual(['0:1', '2:1']);
      expect(await newOffsets(['--topic', 'events:2', '--shift-by', '-5'])).toEqual(['2:1']); // kept within the log: its start is 1
      expect(await newOffsets(['--all-topics', '--by-duration', 'PT1H'])).toEqual(['0:0', '1:0', '2:1']);
      expect(await newOffsets(['--topic', 'events', '--to-latest'])).toEqual(['0:2', '1:0', '2:2']);
      // Nothing changed without --execute.
      expect(rows((await run(['groups', 'describe', 'readers'])).stdout).slice(1).map((row) => `${row[2]}:${row[3]}`)).toEqual(['0:2', '2:2']);
      expect(await newOffsets(['--topic', 'events:0', '--shift-by', '-1', '--execute'])).toEqual(['0:1']);
      expect(rows((await run(['groups', 'describe', 'readers'])).stdout).slice(1).map((row) => `${row[2]}:${row[3]}:${row[5]}`)).toEqual(['0:1:1', '2:2:0']);

      expect((await run(['groups', 'delete', 'readers'])).stdout).toContain("Deleted consumer group 'readers'.");
      expect(await fails(['groups', 'describe', 'readers'])).toContain("consumer group 'readers' does not exist");
    });

    it('prints the cluster as kcat -L does, and lists internal topics unless --exclude-internal', async () => {
      const metadata = (await run(['metadata'])).stdout;
      expect(metadata).toMatch(/^ 1 brokers:\n {2}broker 0 at \S+:\d+ \(controller\)$/m);
      expect(metadata).toContain('  topic "events" with 3 partitions:\n    partition 0, leader 0, replicas: 0, isrs: 0');
      const json = JSON.parse((await run(['metadata', '--topic', 'events', '--json'])).stdout);
      expect(json.topics).toEqual([expect.objectContaining({ name: 'events', partitions: expect.arrayContaining([{ partition: 2, leader: 0, replicas: [0], isr: [0] }]) })]);
      expect((await run(['topics', 'list'])).stdout.split('\n')).toContain('__consumer_offsets');
      expect((await run(['topics', 'list', '--exclude-internal'])).stdout.trim().split('\n')).toEqual(['copy', 'events']);
    });
  });
}
