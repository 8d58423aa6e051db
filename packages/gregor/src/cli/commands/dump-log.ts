/**
 * `gregor dump-log <file>...`: Kafka's kafka-dump-log for .log, .index and .timeindex files, with
 * Kafka's --offsets-decoder and --verify-index-only, and --explain for learners. A file that is
 * not a segment or an index, and a file with corrupt bytes, make the command exit 1 (after
 * printing what it could read).
 */
import fs from 'node:fs';
import path from 'node:path';
import { dumpLogFile, nodeFileSystem } from '@gregor/log';
import { CliError, CommandFailedError, integerOption, parseCommand } from '../args.js';
import { explainBatch, explainLookup } from '../dump-explain.js';
import { verifyIndex } from '../index-verify.js';
import { describeOffsetsRecord } from '../offsets-decoder.js';

const help = `usage: gregor dump-log <file>... [--records] [--offsets-decoder] [--verify-index-only]
       gregor dump-log <file.log|file.index> --explain [--offset N]

For a .log segment, prints each batch: offsets, record count, codec, timestamps, producer id,
epoch and sequence, position, size and whether its CRC is valid; with --records, each record too.
--offsets-decoder prints the records of __consumer_offsets decoded (committed offsets, group
metadata) instead of their bytes. For an .index or .timeindex file, prints its entries with
absolute offsets; --verify-index-only checks them against the segment's .log instead. A
<segment>.log.<position>.corrupt file (bytes recovery moved aside) prints like a segment, with the
positions the bytes had in it.
--explain walks through one batch byte by byte, with each field's name beside its bytes (the
batch holding --offset, or the first), and through the index lookup that finds --offset.
Files are named by their segment's base offset, 20 digits: 00000000000000000000.log.

Examples:
  gregor dump-log data/orders-0/00000000000000000000.log --records
  gregor dump-log data/__consumer_offsets-12/00000000000000000000.log --offsets-decoder
  gregor dump-log data/orders-0/00000000000000000000.index --verify-index-only
  gregor dump-log data/orders-0/00000000000000000000.log --explain --offset 42`;

const options = {
  records: { type: 'boolean' },
  'offsets-decoder': { type: 'boolean' },
  'verify-index-only': { type: 'boolean' },
  explain: { type: 'boolean' },
  offset: { type: 'string' },
} as const;

const SEGMENT_FILE = /^\d{20}\.(log|index|timeindex|log\.\d+\.corrupt)$/;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length === 0) throw new CliError('a file is required');
  if (values.explain && positionals.length > 1) throw new CliError('--explain takes one file');
  if (values.offset !== undefined && !values.explain) throw new CliError('--offset goes with --explain');
  for (const file of positionals) checkFile(file);
  if (values.explain) return explain(positionals[0] as string, values.offset === undefined ? undefined : integerOption(values.offset, 'offset', 0, { min: 0 }));
  const problems: string[] = [];
  for (const file of positionals) {
    if (values['verify-index-only']) {
      if (!file.endsWith('.index') && !file.endsWith('.timeindex')) throw new CliError(`--verify-index-only checks an .index or .timeindex file, not ${file}`);
      const { entries, mismatches } = verifyIndex(file);
      console.log(`Verifying ${file}: ${entries} entries, ${mismatches.length === 0 ? 'every entry matches the log' : `${mismatches.length} mismatch(es)`}`);
      for (const mismatch of mismatches) console.log(`  ${mismatch}`);
      problems.push(...mismatches.map((m) => `${file}: ${m}`));
      continue;
    }
    const lines = dumpLogFile(nodeFileSystem, file, {
      records: values.records || values['offsets-decoder'],
      onProblem: (problem) => problems.push(`${file}: ${problem}`),
      describeRecord: values['offsets-decoder'] ? describeOffsetsRecord : undefined,
    });
    for (const line of lines) console.log(line);
  }
  if (problems.length > 0) {
    throw new CommandFailedError('CORRUPT_FILE', problems.length === 1 ? (problems[0] as string) : `${problems.length} problems, the first: ${problems[0]}`);
  }
}

/** A segment or index file that exists: anything else is one clear line before reading. */
function checkFile(file: string): void {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw new CommandFailedError('FILE_NOT_FOUND', `${file} does not exist`);
    throw error;
  }
  if (stat.isDirectory()) throw new CommandFailedError('NOT_A_SEGMENT_FILE', `${file} is a directory; give a segment's .log, .index or .timeindex file in it`);
  if (!SEGMENT_FILE.test(path.basename(file))) {
    throw new CommandFailedError('NOT_A_SEGMENT_FILE', `${file} is not a segment file: expected a .log, .index, .timeindex or .log.<position>.corrupt named by its base offset, such as 00000000000000000000.log`);
  }
}

function explain(file: string, offset: number | undefined): void {
  const base = file.slice(0, -path.extname(file).length);
  if (!file.endsWith('.log') && !file.endsWith('.index')) throw new CliError('--explain takes a .log or an .index file');
  const logPath = `${base}.log`;
  const indexPath = `${base}.index`;
  if (!fs.existsSync(logPath)) throw new CommandFailedError('FILE_NOT_FOUND', `${logPath} does not exist (--explain reads the segment beside the index)`);
  if (offset !== undefined && fs.existsSync(indexPath)) {
    for (const line of explainLookup(logPath, indexPath, offset)) console.log(line);
    console.log('');
  } else if (file.endsWith('.index')) {
    throw new CliError('--explain of an .index needs --offset N: the offset to look up');
  }
  for (const line of explainBatch(logPath, offset)) console.log(line);
}
