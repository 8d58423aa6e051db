/**
 * `gregor groups list|describe|delete|reset-offsets`: Kafka's kafka-consumer-groups. describe
 * prints committed offsets and lag (default), `--members` or `--state`; reset-offsets previews
 * the new offsets unless `--execute`, as Kafka's tool does, and refuses a group with active
 * members.
 */
import { type Admin, DeleteGroupsError } from '@gregor/client';
import { CliError, CommandFailedError, integerOption, parseCommand } from '../args.js';
import { connect, connectionHelp, connectionOptions, printTable, withAdmin } from '../connect.js';
import { parseIsoDuration } from '../duration.js';

const help = `usage: gregor groups list [--state]
       gregor groups describe (G... | --group G... | --all-groups) [--members | --state]
       gregor groups delete (G... | --group G... | --all-groups)
       gregor groups reset-offsets (G | --group G | --all-groups) (--topic T[:P,P...]... | --all-topics)
              (--to-earliest | --to-latest | --to-current | --to-offset N | --shift-by N |
               --to-datetime 2026-11-24T17:00:00Z | --by-duration PnDTnHnMnS) [--dry-run | --execute]

describe prints, per partition the group has committed: its committed offset, the log end offset
(high watermark), the lag, and the member that holds it; --members lists the members and their
partitions; --state the coordinator, assignor, state and member count.
reset-offsets moves a group's committed offsets (the group must have no active member): to the
first or the next offset, to an offset, by a shift, or to the first offset at or after a time
(--to-datetime, or --by-duration before now). New offsets are kept within each partition's log.
Without --execute it only prints the offsets it would set.

${connectionHelp}

Examples:
  gregor groups describe readers --bootstrap-server 127.0.0.1:9092
  gregor groups describe --all-groups --state --dir ./data
  gregor groups reset-offsets readers --topic orders:0,1 --shift-by -10 --execute --bootstrap-server 127.0.0.1:9092
  gregor groups reset-offsets readers --all-topics --by-duration PT1H --dir ./data`;

const options = {
  ...connectionOptions,
  group: { type: 'string', multiple: true },
  'all-groups': { type: 'boolean' },
  members: { type: 'boolean' },
  state: { type: 'boolean' },
  offsets: { type: 'boolean' },
  topic: { type: 'string', multiple: true },
  'all-topics': { type: 'boolean' },
  'to-earliest': { type: 'boolean' },
  'to-latest': { type: 'boolean' },
  'to-current': { type: 'boolean' },
  'to-offset': { type: 'string' },
  'shift-by': { type: 'string' },
  'to-datetime': { type: 'string' },
  'by-duration': { type: 'string' },
  'dry-run': { type: 'boolean' },
  execute: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseCommand<typeof options>>['values'];
const ACTIONS = ['list', 'describe', 'delete', 'reset-offsets'] as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  const [action, ...named] = positionals;
  if (action === undefined) throw new CliError(`choose an action: ${ACTIONS.join(', ')}`);
  if (!(ACTIONS as readonly string[]).includes(action)) throw new CliError(`unknown action '${action}'; choose one of ${ACTIONS.join(', ')}`);
  const groupIds = [...named, ...(values.group ?? [])];
  if (action !== 'list') {
    if (groupIds.length === 0 && !values['all-groups']) throw new CliError(`${action} needs a group id (or --group G, or --all-groups)`);
    if (groupIds.length > 0 && values['all-groups']) throw new CliError('give group ids or --all-groups, not both');
  }
  if (values.members && values.state) throw new CliError('choose --members or --state (or neither, for the offsets)');
  const target = action === 'reset-offsets' ? resetTarget(values) : undefined;
  if (action === 'reset-offsets') {
    if (values['dry-run'] && values.execute) throw new CliError('choose --dry-run or --execute');
    if ((values.topic === undefined) === !values['all-topics']) throw new CliError('reset-offsets takes --topic T[:partitions] (repeatable) or --all-topics');
  }
  await withAdmin(await connect(values, 'gregor-consumer-groups'), async (admin) => {
    const groups = action === 'list' ? [] : values['all-groups'] ? await allGroupIds(admin) : groupIds;
    if (action === 'list') return list(admin, values);
    if (action === 'describe') return describe(admin, groups, values);
    if (action === 'delete') return remove(admin, groups);
    for (const groupId of groups) await resetOffsets(admin, groupId, target as ResetTarget, values);
  });
}

async function allGroupIds(admin: Admin): Promise<string[]> {
  return (await admin.listGroups()).groups.map((g) => g.groupId).sort();
}

async function list(admin: Admin, values: Values): Promise<void> {
  const { groups } = await admin.listGroups();
  const sorted = groups.sort((a, b) => a.groupId.localeCompare(b.groupId));
  if (values.state) printTable(['GROUP', 'STATE'], sorted.map((g) => [g.groupId, g.groupState]));
  else printTable(['GROUP', 'STATE', 'PROTOCOL-TYPE'], sorted.map((g) => [g.groupId, g.groupState, g.protocolType]));
}

interface GroupMember {
  memberId: string;
  clientId: string;
  clientHost: string;
  assignment?: { assignedPartitions?: { topic: string; partitions: number[] }[] } | null;
}

interface DescribedGroup {
  groupId: string;
  state: string;
  protocol: string;
  protocolType: string;
  members: GroupMember[];
}

/** The group as DescribeGroups reports it; a Dead group with no committed offsets does not exist. */
async function describedGroup(admin: Admin, groupId: string): Promise<DescribedGroup> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0] as DescribedGroup | undefined;
  if (group === undefined || group.state === 'Dead') {
    throw new CommandFailedError('GROUP_ID_NOT_FOUND', `consumer group '${groupId}' does not exist (gregor groups list shows the groups)`);
  }
  return group;
}

async function describe(admin: Admin, groupIds: string[], values: Values): Promise<void> {
  const described: DescribedGroup[] = [];
  for (const groupId of groupIds) described.push(await describedGroup(admin, groupId));
  if (values.state) {
    const coordinator = await admin.describeCluster().then((c) => c.brokers.find((b) => b.nodeId === c.controller) ?? c.brokers[0]);
    printTable(
      ['GROUP', 'COORDINATOR (ID)', 'ASSIGNMENT-STRATEGY', 'STATE', '#MEMBERS'],
      described.map((g) => [g.groupId, coordinator === undefined ? '' : `${coordinator.host}:${coordinator.port} (${coordinator.nodeId})`, g.protocol, g.state, g.members.length]),
    );
    return;
  }
  if (values.members) {
    printTable(
      ['GROUP', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', '#PARTITIONS', 'ASSIGNMENT'],
      described.flatMap((g) =>
        g.members.map((m) => {
          const assigned = m.assignment?.assignedPartitions ?? [];
          return [g.groupId, m.memberId, m.clientHost, m.clientId, assigned.reduce((sum, t) => sum + t.partitions.length, 0), assigned.map((t) => `${t.topic}(${t.partitions.join(',')})`).join(',')];
        }),
      ),
    );
    for (const g of described) if (g.members.length === 0) console.error(`Consumer group '${g.groupId}' has no active members.`);
    return;
  }
  const rows: (string | number | undefined)[][] = [];
  for (const group of described) {
    if (group.members.length === 0) console.error(`Consumer group '${group.groupId}' has no active members.`);
    const holders = new Map<string, GroupMember>();
    for (const member of group.members) {
      for (const { topic, partitions } of member.assignment?.assignedPartitions ?? []) for (const p of partitions) holders.set(`${topic}:${p}`, member);
    }
    for (const { topic, partitions } of await admin.fetchOffsets({ groupId: group.groupId })) {
      for (const p of partitions) {
        const holder = holders.get(`${topic}:${p.partition}`);
        rows.push([group.groupId, topic, p.partition, p.offset, p.highWatermark, p.lag, holder?.memberId, holder?.clientHost, holder?.clientId]);
      }
    }
  }
  printTable(['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID'], rows);
}

async function remove(admin: Admin, groupIds: string[]): Promise<void> {
  for (const groupId of groupIds) await describedGroup(admin, groupId);
  try {
    await admin.deleteGroups(groupIds);
  } catch (error) {
    if (!(error instanceof DeleteGroupsError)) throw error;
    const [first] = error.groups;
    const why = first?.error.code === 'NON_EMPTY_GROUP' ? 'it has active members; stop its consumers first' : first?.error.message;
    throw new CommandFailedError(first?.error.code ?? error.code, `cannot delete consumer group '${first?.groupId}': ${why}`, { cause: error });
  }
  for (const groupId of groupIds) console.log(`Deleted consumer group '${groupId}'.`);
}

type ResetTarget =
  | { kind: 'earliest' }
  | { kind: 'latest' }
  | { kind: 'current' }
  | { kind: 'offset'; offset: number }
  | { kind: 'shift'; by: number }
  | { kind: 'time'; timestampMs: number };

/** Which single target the flags ask for. */
function resetTarget(values: Values): ResetTarget {
  const given = (['to-earliest', 'to-latest', 'to-current', 'to-offset', 'shift-by', 'to-datetime', 'by-duration'] as const).filter((name) => values[name] !== undefined && values[name] !== false);
  if (given.length !== 1) throw new CliError('reset-offsets takes exactly one of --to-earliest, --to-latest, --to-current, --to-offset, --shift-by, --to-datetime, --by-duration');
  switch (given[0]) {
    case 'to-earliest':
      return { kind: 'earliest' };
    case 'to-latest':
      return { kind: 'latest' };
    case 'to-current':
      return { kind: 'current' };
    case 'to-offset':
      return { kind: 'offset', offset: integerOption(values['to-offset'], 'to-offset', 0, { min: 0 }) };
    case 'shift-by':
      return { kind: 'shift', by: integerOption(values['shift-by'], 'shift-by', 0) };
    case 'to-datetime': {
      const timestampMs = Date.parse(values['to-datetime'] as string);
      if (Number.isNaN(timestampMs)) throw new CliError(`--to-datetime takes an ISO-8601 time such as 2026-11-24T17:00:00Z, got '${values['to-datetime']}'`);
      return { kind: 'time', timestampMs };
    }
    default: {
      const durationMs = parseIsoDuration(values['by-duration'] as string);
      if (durationMs === undefined) throw new CliError(`--by-duration takes an ISO-8601 duration such as PT30M or P1DT2H, got '${values['by-duration']}'`);
      return { kind: 'time', timestampMs: Date.now() - durationMs };
    }
  }
}

/** `T` or `T:0,1,2`; the partitions default to all of the topic's. */
function parseTopicArgument(argument: string): { topic: string; partitions?: number[] } {
  const at = argument.indexOf(':');
  if (at < 0) return { topic: argument };
  const partitions = argument
    .slice(at + 1)
    .split(',')
    .map((p) => integerOption(p.trim(), 'topic', 0, { min: 0 }));
  return { topic: argument.slice(0, at), partitions };
}

async function resetOffsets(admin: Admin, groupId: string, target: ResetTarget, values: Values): Promise<void> {
  const { groups } = await admin.describeGroups([groupId]);
  const group = groups[0] as DescribedGroup | undefined;
  if (group !== undefined && group.members.length > 0) {
    throw new CommandFailedError('NON_EMPTY_GROUP', `offsets can be reset only while the group is inactive, but '${groupId}' has ${group.members.length} active member(s) (state ${group.state}); stop its consumers first`);
  }
  const committed = await admin.fetchOffsets({ groupId });
  const requested: { topic: string; partitions?: number[] }[] = values['all-topics']
    ? committed.filter((t) => t.partitions.length > 0).map((t) => ({ topic: t.topic }))
    : (values.topic ?? []).map(parseTopicArgument);
  const rows: [string, string, number, number][] = [];
  const plan: { topic: string; partitions: { partition: number; offset: number }[] }[] = [];
  for (const { topic, partitions } of requested) {
    const ends = await topicOffsets(admin, topic);
    const chosen = partitions ?? [...ends.keys()].sort((a, b) => a - b);
    for (const p of chosen) if (!ends.has(p)) throw new CommandFailedError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' has no partition ${p} (it has ${ends.size})`);
    const current = new Map((committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    const byTime = target.kind === 'time' ? new Map((await admin.fetchTopicOffsetsByTimestamp(topic, target.timestampMs)).map((o) => [o.partition, Number(o.offset)])) : undefined;
    const offsets = chosen.map((partition) => {
      const { low, high } = ends.get(partition) as { low: number; high: number };
      const offset = newOffset(target, { low, high, current: current.get(partition), byTime: byTime?.get(partition) }, `${topic}-${partition}`);
      rows.push([groupId, topic, partition, offset]);
      return { partition, offset };
    });
    plan.push({ topic, partitions: offsets });
  }
  if (values.execute) for (const { topic, partitions } of plan) await admin.setOffsets({ groupId, topic, partitions });
  printTable(['GROUP', 'TOPIC', 'PARTITION', 'NEW-OFFSET'], rows);
  if (!values.execute) console.error(`(dry run: nothing changed; add --execute to set these offsets of group '${groupId}')`);
}

async function topicOffsets(admin: Admin, topic: string): Promise<Map<number, { low: number; high: number }>> {
  const { topics } = await admin.fetchTopicMetadata();
  if (!topics.some((t) => t.name === topic)) throw new CommandFailedError('UNKNOWN_TOPIC_OR_PARTITION', `topic '${topic}' does not exist (gregor topics list shows the topics)`);
  return new Map((await admin.fetchTopicOffsets(topic)).map((o) => [o.partition, { low: Number(o.low), high: Number(o.high) }]));
}

/** The offset a target gives one partition, kept within [low, high] as Kafka's tool does. */
export function newOffset(target: ResetTarget, partition: { low: number; high: number; current?: number; byTime?: number }, name: string): number {
  const clamp = (offset: number) => Math.min(partition.high, Math.max(partition.low, offset));
  const current = () => {
    if (partition.current === undefined || partition.current < 0) throw new CommandFailedError('NO_COMMITTED_OFFSET', `${name} has no committed offset to start from; use --to-earliest, --to-latest or --to-offset for it`);
    return partition.current;
  };
  switch (target.kind) {
    case 'earliest':
      return partition.low;
    case 'latest':
      return partition.high;
    case 'current':
      return clamp(current());
    case 'offset':
      return clamp(target.offset);
    case 'shift':
      return clamp(current() + target.by);
    case 'time':
      return clamp(partition.byTime ?? partition.high);
  }
}
