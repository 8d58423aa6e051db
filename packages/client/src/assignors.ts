/**
 * Client-side partition assignors, as Kafka's `range`, `roundrobin` and `cooperative-sticky`. The
 * group leader runs one over the members' subscriptions (ConsumerProtocolSubscription) and the
 * partition counts from metadata. Pure functions: same input, same output, no I/O.
 */
import type { Subscription, TopicPartitions } from './consumer-protocol.js';

export interface AssignorMember {
  memberId: string;
  groupInstanceId?: string | null;
  subscription: Subscription;
}

export interface AssignInput {
  members: AssignorMember[];
  /** topic → partition count, for every topic some member subscribes to that exists. */
  partitionsPerTopic: Map<string, number>;
}

/** memberId → assigned partitions. Every member of the input appears, possibly with nothing. */
export type GroupAssignment = Map<string, TopicPartitions[]>;

export interface Assignor {
  /** The protocol name sent in JoinGroup (`range`, `roundrobin`, `cooperative-sticky`). */
  name: string;
  /** EAGER members revoke everything before rejoining; COOPERATIVE ones only what they lose. */
  rebalanceProtocol: 'EAGER' | 'COOPERATIVE';
  assign(input: AssignInput): GroupAssignment;
}

type Key = string; // `${topic}\u0000${partition}`

const keyOf = (topic: string, partition: number): Key => `${topic}\u0000${partition}`;
const splitKey = (key: Key): [string, number] => {
  const at = key.lastIndexOf('\u0000');
  return [key.slice(0, at), Number(key.slice(at + 1))];
};

/** Static members sort by instance id so their assignment survives a restart with a new member id. */
function sortedMembers(members: AssignorMember[]): AssignorMember[] {
  const name = (m: AssignorMember) => m.groupInstanceId ?? m.memberId;
  return [...members].sort((a, b) => (name(a) < name(b) ? -1 : name(a) > name(b) ? 1 : 0));
}

function toTopicPartitions(keys: Iterable<Key>): TopicPartitions[] {
  const byTopic = new Map<string, number[]>();
  for (const key of keys) {
    const [topic, partition] = splitKey(key);
    let list = byTopic.get(topic);
    if (list === undefined) byTopic.set(topic, (list = []));
    list.push(partition);
  }
  return [...byTopic.keys()].sort().map((topic) => ({ topic, partitions: byTopic.get(topic)!.sort((a, b) => a - b) }));
}

function emptyAssignment(members: AssignorMember[]): Map<string, Key[]> {
  return new Map(members.map((m) => [m.memberId, [] as Key[]]));
}

function finish(assignment: Map<string, Key[]>): GroupAssignment {
  const out: GroupAssignment = new Map();
  for (const [memberId, keys] of assignment) out.set(memberId, toTopicPartitions(keys));
  return out;
}

/** Per topic, consecutive ranges of partitions to the subscribed members in order (Kafka's RangeAssignor). */
export const rangeAssignor: Assignor = {
  name: 'range',
  rebalanceProtocol: 'EAGER',
  assign({ members, partitionsPerTopic }) {
    const assignment = emptyAssignment(members);
    const ordered = sortedMembers(members);
    for (const topic of [...partitionsPerTopic.keys()].sort()) {
      const count = partitionsPerTopic.get(topic)!;
      const subscribers = ordered.filter((m) => m.subscription.topics.includes(topic));
      if (subscribers.length === 0) continue;
      const each = Math.floor(count / subscribers.length);
      const extra = count % subscribers.length;
      let next = 0;
      subscribers.forEach((member, i) => {
        const take = each + (i < extra ? 1 : 0);
        for (let p = next; p < next + take; p++) assignment.get(member.memberId)!.push(keyOf(topic, p));
        next += take;
      });
    }
    return finish(assignment);
  },
};

/** All partitions in (topic, partition) order dealt to the members in turn (Kafka's RoundRobinAssignor). */
export const roundRobinAssignor: Assignor = {
  name: 'roundrobin',
  rebalanceProtocol: 'EAGER',
  assign({ members, partitionsPerTopic }) {
    const assignment = emptyAssignment(members);
    const ordered = sortedMembers(members);
    if (ordered.length === 0) return finish(assignment);
    let turn = 0;
    for (const topic of [...partitionsPerTopic.keys()].sort()) {
      const count = partitionsPerTopic.get(topic)!;
      for (let p = 0; p < count; p++) {
        // Skip members not subscribed to this topic; at most one full lap.
        for (let tries = 0; tries < ordered.length; tries++) {
          const member = ordered[turn++ % ordered.length];
          if (member.subscription.topics.includes(topic)) {
            assignment.get(member.memberId)!.push(keyOf(topic, p));
            break;
          }
        }
      }
    }
    return finish(assignment);
  },
};

/** Owned partitions that still exist and that the owner still subscribes to; conflicts go to the newer generation. */
function validOwnership(members: AssignorMember[], partitionsPerTopic: Map<string, number>): Map<Key, { memberId: string; generationId: number }> {
  const owners = new Map<Key, { memberId: string; generationId: number }>();
  for (const member of sortedMembers(members)) {
    const { ownedPartitions, generationId, topics } = member.subscription;
    for (const { topic, partitions } of ownedPartitions) {
      const count = partitionsPerTopic.get(topic);
      if (count === undefined || !topics.includes(topic)) continue;
      for (const p of partitions) {
        if (p < 0 || p >= count) continue;
        const key = keyOf(topic, p);
        const previous = owners.get(key);
        if (previous === undefined || generationId > previous.generationId) owners.set(key, { memberId: member.memberId, generationId });
      }
    }
  }
  return owners;
}

/**
 * A balanced assignment that keeps every partition with its current owner unless balance needs
 * the move: owners keep what they own, unowned partitions go to the least-loaded subscribed
 * member, then partitions move one at a time from the most- to a least-loaded eligible member
 * while the two differ by two or more.
 */
export function stickyAssign(members: AssignorMember[], partitionsPerTopic: Map<string, number>, owners: Map<Key, { memberId: string }>): Map<string, Key[]> {
  const ordered = sortedMembers(members);
  const assignment = emptyAssignment(members);
  const subscribed = new Map(members.map((m) => [m.memberId, new Set(m.subscription.topics)]));
  for (const [key, { memberId }] of owners) assignment.get(memberId)!.push(key);
  const size = (id: string) => assignment.get(id)!.length;
  for (const topic of [...partitionsPerTopic.keys()].sort()) {
    for (let p = 0; p < partitionsPerTopic.get(topic)!; p++) {
      const key = keyOf(topic, p);
      if (owners.has(key)) continue;
      let best: string | undefined;
      for (const m of ordered) if (subscribed.get(m.memberId)!.has(topic) && (best === undefined || size(m.memberId) < size(best))) best = m.memberId;
      if (best !== undefined) assignment.get(best)!.push(key);
    }
  }
  const totalPartitions = [...assignment.values()].reduce((n, keys) => n + keys.length, 0);
  for (let moves = 0; moves <= totalPartitions; moves++) {
    if (!moveOnePartition(ordered, assignment, subscribed)) break;
  }
  return assignment;
}

/** Moves one partition from the most-loaded member that can give one to an eligible member with two fewer. */
function moveOnePartition(ordered: AssignorMember[], assignment: Map<string, Key[]>, subscribed: Map<string, Set<string>>): boolean {
  const byLoad = [...ordered].sort((a, b) => assignment.get(b.memberId)!.length - assignment.get(a.memberId)!.length);
  for (const donor of byLoad) {
    const given = assignment.get(donor.memberId)!;
    for (let i = given.length - 1; i >= 0; i--) {
      const [topic] = splitKey(given[i]);
      let taker: string | undefined;
      for (const m of ordered) {
        const load = assignment.get(m.memberId)!.length;
        if (subscribed.get(m.memberId)!.has(topic) && load <= given.length - 2 && (taker === undefined || load < assignment.get(taker)!.length)) taker = m.memberId;
      }
      if (taker !== undefined) {
        assignment.get(taker)!.push(given[i]);
        given.splice(i, 1);
        return true;
      }
    }
  }
  return false;
}

/**
 * KIP-429's cooperative sticky assignor. A partition that must move from A to B is left out of
 * both this round: A sees it missing and revokes it, then rejoins, and the next round gives the
 * now unowned partition to B. Partitions that stay put are never revoked.
 */
export const cooperativeStickyAssignor: Assignor = {
  name: 'cooperative-sticky',
  rebalanceProtocol: 'COOPERATIVE',
  assign({ members, partitionsPerTopic }) {
    const owners = validOwnership(members, partitionsPerTopic);
    const assignment = stickyAssign(members, partitionsPerTopic, owners);
    for (const [memberId, keys] of assignment) {
      assignment.set(memberId, keys.filter((key) => {
        const owner = owners.get(key);
        return owner === undefined || owner.memberId === memberId;
      }));
    }
    return finish(assignment);
  },
};

/**
 * The round-robin assignor under kafkajs's protocol name, so our members can share a group with
 * kafkajs consumers (their default assignor): JoinGroup picks a protocol every member names.
 */
export const kafkajsRoundRobinAssignor: Assignor = { ...roundRobinAssignor, name: 'RoundRobinAssigner' };

export const assignorsByName: Record<string, Assignor> = {
  RoundRobinAssigner: kafkajsRoundRobinAssignor,
  range: rangeAssignor,
  roundrobin: roundRobinAssignor,
  'cooperative-sticky': cooperativeStickyAssignor,
};
