/** `gregor groups list|describe G`: Kafka's kafka-consumer-groups, with lag per partition. */
import { CliError, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions, printTable } from '../connect.js';

const help = `usage: gregor groups list
       gregor groups describe G
       gregor groups reset-offsets G --topic T (--to-earliest | --to-latest | --to-datetime ISO-8601)

describe prints, per partition the group has committed: its committed offset, the log end offset
(high watermark), the lag, and the member that holds it. reset-offsets moves the group's committed
offsets of a topic (the group must have no active member): to the first offset, to the end, or to
the first offset at or after a time (for example 2026-11-24T17:00:00Z).

${connectionHelp}`;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(
    argv,
    { ...connectionOptions, topic: { type: 'string' }, 'to-earliest': { type: 'boolean' }, 'to-latest': { type: 'boolean' }, 'to-datetime': { type: 'string' } },
    help,
  );
  const [action, groupId] = positionals;
  if (action !== 'list' && action !== 'describe' && action !== 'reset-offsets') throw new CliError(`choose list, describe or reset-offsets\n\n${help}`);
  if (action !== 'list' && groupId === undefined) throw new CliError(`${action} needs a group id\n\n${help}`);
  const target = action === 'reset-offsets' ? resetTarget(values) : undefined;
  const connection = await connect(values, 'gregor-consumer-groups');
  const admin = connection.admin();
  try {
    await admin.connect();
    if (action === 'list') {
      const { groups } = await admin.listGroups();
      printTable(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((g) => [g.groupId, g.groupState, g.protocolType]));
      return;
    }
    if (target !== undefined) {
      const topic = requiredOption(values.topic, 'topic');
      await admin.resetOffsets({ groupId: groupId as string, topic, ...target });
      const [offsets] = await admin.fetchOffsets({ groupId: groupId as string, topics: [topic] });
      printTable(['TOPIC', 'PARTITION', 'NEW-OFFSET'], (offsets?.partitions ?? []).map((p) => [topic, p.partition, p.offset]));
      return;
    }
    const { groups } = await admin.describeGroups([groupId as string]);
    const group = groups[0];
    const holders = new Map<string, { memberId: string; clientId: string; clientHost: string }>();
    for (const member of group?.members ?? []) {
      for (const { topic, partitions } of member.assignment?.assignedPartitions ?? []) {
        for (const partition of partitions) holders.set(`${topic}:${partition}`, member);
      }
    }
    console.log(`Group ${groupId}: state ${group?.state ?? 'unknown'}, ${group?.members.length ?? 0} member(s)`);
    const offsets = await admin.fetchOffsets({ groupId: groupId as string });
    const rows = offsets.flatMap(({ topic, partitions }) =>
      partitions.map((p) => {
        const holder = holders.get(`${topic}:${p.partition}`);
        return [topic, p.partition, p.offset, p.highWatermark, p.lag, holder?.memberId, holder?.clientHost, holder?.clientId];
      }),
    );
    printTable(['TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], rows);
  } finally {
    await connection.close();
  }
}

/** Which of --to-earliest, --to-latest and --to-datetime was asked for (exactly one). */
function resetTarget(values: { 'to-earliest'?: boolean; 'to-latest'?: boolean; 'to-datetime'?: string }): { earliest?: boolean; timestamp?: number } {
  const chosen = [values['to-earliest'], values['to-latest'], values['to-datetime'] !== undefined].filter(Boolean).length;
  if (chosen !== 1) throw new CliError(`reset-offsets takes exactly one of --to-earliest, --to-latest, --to-datetime\n\n${help}`);
  if (values['to-earliest']) return { earliest: true };
  if (values['to-latest']) return { earliest: false };
  const timestamp = Date.parse(values['to-datetime'] as string);
  if (Number.isNaN(timestamp)) throw new CliError(`--to-datetime takes an ISO-8601 time such as 2026-11-24T17:00:00Z, got '${values['to-datetime']}'`);
  return { timestamp };
}
