/** `gregor dump-log <file> [--records]`: Kafka's kafka-dump-log for .log, .index and .timeindex files. */
import { dumpLogFile, nodeFileSystem } from '@gregor/log';
import { CliError, parseCommand } from '../args.js';

const help = `usage: gregor dump-log <file>... [--records]

For a .log segment, prints each batch: offsets, record count, codec, timestamps, producer id,
epoch and sequence, position, size and whether its CRC is valid. With --records, each record too.
For an .index or .timeindex file, prints its entries with absolute offsets. A
<segment>.log.<position>.corrupt file (bytes recovery moved aside) prints like a segment, with the
positions the bytes had in it.`;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, { records: { type: 'boolean' } }, help);
  if (positionals.length === 0) throw new CliError(`a file is required\n\n${help}`);
  for (const path of positionals) {
    if (positionals.length > 1) console.log(`Dumping ${path}`);
    for (const line of dumpLogFile(nodeFileSystem, path, { records: values.records ?? false })) {
      console.log(line);
    }
  }
}
