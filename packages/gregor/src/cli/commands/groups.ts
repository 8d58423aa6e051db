/** `gregor groups list|describe G`: Kafka's kafka-consumer-groups, with lag per partition. */
import { CliError, parseCommand } from '../args.js';
import { connect, connectionHelp, connectionOptions, printTable } from '../connect.js';

const help = `usage: gregor groups list
       gregor groups describe G

describe prints, per partition the group has committed: its committed offset, the log end offset
(high watermark), the lag, and the member that holds it.

${connectionHelp}`;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, { ...connectionOptions }, help);
  const [action, groupId] = positionals;
  if (action !== 'list' && action !== 'describe') throw new CliError(`choose list or describe\n\n${help}`);
  if (action === 'describe' && groupId === undefined) throw new CliError(`describe needs a group id\n\n${help}`);
  const connection = await connect(values, 'gregor-consumer-groups');
  const admin = connection.admin();
  try {
    await admin.connect();
    if (action === 'list') {
      const { groups } = await admin.listGroups();
      printTable(['GROUP', 'STATE', 'PROTOCOL-TYPE'], groups.map((g) => [g.groupId, g.groupState, g.protocolType]));
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
