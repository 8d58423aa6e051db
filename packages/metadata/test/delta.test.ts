/**
 * The delta against a reference model: random valid histories of broker registrations, fencing,
 * topic creation and removal, partition changes, configs and producer-id blocks are replayed in
 * random chunks (one delta per chunk, as brokers apply committed batches) and the image must equal
 * the model's; an image's own records must rebuild it; localChanges must list exactly the
 * partitions whose registration moved for that broker.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ConfigResourceType, configResourceKey, decodeMetadataRecord, encodeMetadataRecord, localChanges, MetadataDelta, MetadataError,
  MetadataImage, type MetadataRecordInput, metadataRecord, type PartitionRegistration,
} from '../src/index.js';

interface ModelTopic {
  id: string;
  name: string;
  partitions: PartitionRegistration[];
}

interface Model {
  brokers: Map<number, { epoch: number; fenced: boolean }>;
  topics: Map<string, ModelTopic>;
  configs: Map<string, Map<string, string>>;
  nextProducerId: number;
}

type Intent = { kind: number; a: number; b: number; c: number; d: number };

const intent: fc.Arbitrary<Intent> = fc.record({ kind: fc.integer({ min: 0, max: 7 }), a: fc.nat(1000), b: fc.nat(1000), c: fc.nat(1000), d: fc.nat(1000) });

function topicId(serial: number): string {
  return `00000000-0000-4000-8000-${String(serial).padStart(12, '0')}`;
}

/** Turns an intent into a record that applies to the model (or null), and applies it to the model. */
function nextRecord(model: Model, { kind, a, b, c, d }: Intent, serial: number): MetadataRecordInput | null {
  const brokerIds = [...model.brokers.keys()];
  const topics = [...model.topics.values()];
  switch (kind) {
    case 0: {
      const brokerId = a % 5;
      model.brokers.set(brokerId, { epoch: serial, fenced: true });
      return { type: 'RegisterBroker', brokerId, brokerEpoch: serial, incarnationId: topicId(serial), endPoints: [{ name: 'PLAINTEXT', host: 'localhost', port: 9000 + brokerId, securityProtocol: 0 }], fenced: true };
    }
    case 1: {
      if (brokerIds.length === 0) return null;
      const id = brokerIds[a % brokerIds.length];
      const broker = model.brokers.get(id)!;
      broker.fenced = !broker.fenced;
      return broker.fenced ? { type: 'FenceBroker', id, epoch: broker.epoch } : { type: 'UnfenceBroker', id, epoch: broker.epoch };
    }
    case 2: {
      const name = `topic-${a % 7}`;
      if (model.topics.has(name) || brokerIds.length === 0) return null;
      const id = topicId(serial);
      const count = 1 + (b % 3);
      const replicationFactor = 1 + (c % brokerIds.length);
      const partitions = Array.from({ length: count }, (_, index) => {
        const replicas = Array.from({ length: replicationFactor }, (_, r) => brokerIds[(index + r + d) % brokerIds.length]);
        return { replicas, isr: [...replicas], removingReplicas: [], addingReplicas: [], elr: [], lastKnownElr: [], leader: replicas[0], leaderRecoveryState: 0, leaderEpoch: 0, partitionEpoch: 0 };
      });
      model.topics.set(name, { id, name, partitions });
      // The topic's records are emitted as one group by the caller: here the TopicRecord, then Partition records.
      pendingPartitions.push(...partitions.map((partition, partitionId) => ({ type: 'Partition' as const, partitionId, topicId: id, ...partition })));
      return { type: 'Topic', name, topicId: id };
    }
    case 3: {
      if (topics.length === 0) return null;
      const topic = topics[a % topics.length];
      const partitionId = b % topic.partitions.length;
      const current = topic.partitions[partitionId];
      const isr = current.replicas.filter((_, index) => ((c >> index) & 1) === 1);
      const changeLeader = d % 2 === 0;
      const leader = changeLeader ? (isr.length === 0 ? -1 : isr[d % isr.length]) : current.leader;
      if (leader !== -1 && !isr.includes(leader)) return null;
      const next = { ...current, isr, leader, leaderEpoch: changeLeader ? current.leaderEpoch + 1 : current.leaderEpoch, partitionEpoch: current.partitionEpoch + 1 };
      topic.partitions[partitionId] = next;
      return { type: 'PartitionChange', partitionId, topicId: topic.id, isr, leader: changeLeader ? leader : -2 };
    }
    case 4: {
      if (topics.length === 0) return null;
      const topic = topics[a % topics.length];
      model.topics.delete(topic.name);
      model.configs.delete(configResourceKey(ConfigResourceType.TOPIC, topic.name));
      return { type: 'RemoveTopic', topicId: topic.id };
    }
    case 5: {
      if (topics.length === 0) return null;
      const topic = topics[a % topics.length];
      const key = configResourceKey(ConfigResourceType.TOPIC, topic.name);
      const name = ['retention.ms', 'cleanup.policy', 'segment.bytes'][b % 3];
      const value = c % 3 === 0 ? null : String(c);
      const values = model.configs.get(key) ?? new Map<string, string>();
      if (value === null) values.delete(name);
      else values.set(name, value);
      if (values.size === 0) model.configs.delete(key);
      else model.configs.set(key, values);
      return { type: 'Config', resourceType: ConfigResourceType.TOPIC, resourceName: topic.name, name, value };
    }
    case 6: {
      model.nextProducerId += 1000;
      return { type: 'ProducerIds', brokerId: 0, brokerEpoch: 0, nextProducerId: model.nextProducerId };
    }
    default:
      return { type: 'NoOp' };
  }
}

let pendingPartitions: MetadataRecordInput[] = [];

function history(intents: Intent[]): { model: Model; records: MetadataRecordInput[] } {
  const model: Model = { brokers: new Map(), topics: new Map(), configs: new Map(), nextProducerId: 0 };
  const records: MetadataRecordInput[] = [];
  intents.forEach((entry, serial) => {
    pendingPartitions = [];
    const record = nextRecord(model, entry, serial + 1);
    if (record !== null) records.push(record, ...pendingPartitions);
  });
  return { model, records };
}

function expectImageMatchesModel(image: MetadataImage, model: Model): void {
  expect([...image.brokers.keys()].sort()).toEqual([...model.brokers.keys()].sort());
  for (const [id, broker] of model.brokers) expect(image.brokers.get(id)).toMatchObject({ epoch: broker.epoch, fenced: broker.fenced });
  expect([...image.topicsByName.keys()].sort()).toEqual([...model.topics.keys()].sort());
  for (const topic of model.topics.values()) {
    const imageTopic = image.topic(topic.name)!;
    expect(imageTopic.id).toBe(topic.id);
    expect([...imageTopic.partitions.keys()]).toEqual(topic.partitions.map((_, index) => index));
    topic.partitions.forEach((partition, index) => expect(imageTopic.partitions.get(index)).toEqual(partition));
  }
  expect(new Map([...image.configs].map(([key, values]) => [key, new Map(values)]))).toEqual(model.configs);
  expect(image.nextProducerId).toBe(model.nextProducerId);
}

/** Replays records (through their encoding, as a broker reads them) in chunks, one delta each. */
function replayInChunks(records: MetadataRecordInput[], cuts: number[]): MetadataImage {
  let image = MetadataImage.EMPTY;
  let offset = 0;
  const boundaries = [...new Set(cuts.map((cut) => cut % (records.length + 1)))].sort((x, y) => x - y);
  let start = 0;
  for (const end of [...boundaries, records.length]) {
    const delta = new MetadataDelta(image);
    for (const record of records.slice(start, end)) delta.replay(decodeMetadataRecord(encodeMetadataRecord(record)), offset++, 1);
    image = delta.apply();
    start = Math.max(start, end);
  }
  return image;
}

describe('MetadataDelta', () => {
  it('builds the image the reference model describes, however the log is cut into deltas', () => {
    fc.assert(
      fc.property(fc.array(intent, { maxLength: 80 }), fc.array(fc.nat(), { maxLength: 6 }), (intents, cuts) => {
        const { model, records } = history(intents);
        expectImageMatchesModel(replayInChunks(records, cuts), model);
      }),
      { numRuns: 300 },
    );
  });

  it('rebuilds an equal image from the image\'s own records (a snapshot)', () => {
    fc.assert(
      fc.property(fc.array(intent, { maxLength: 80 }), (intents) => {
        const { model, records } = history(intents);
        const image = replayInChunks(records, []);
        const delta = new MetadataDelta(MetadataImage.EMPTY);
        image.toRecords().forEach((record, index) => delta.replay(metadataRecord(record), index));
        expectImageMatchesModel(delta.apply(), model);
      }),
      { numRuns: 200 },
    );
  });

  it('lists for a broker exactly the partitions it now leads, follows or must delete', () => {
    fc.assert(
      fc.property(fc.array(intent, { maxLength: 60 }), fc.array(intent, { maxLength: 20 }), fc.nat(4), (first, second, brokerId) => {
        const { records } = history([...first, ...second]);
        const split = history(first).records.length;
        const before = replayInChunks(records.slice(0, split), []);
        const delta = new MetadataDelta(before);
        records.slice(split).forEach((record, index) => delta.replay(metadataRecord(record), split + index));
        const after = delta.apply();
        const changes = localChanges(delta, after, brokerId);
        const names = (entries: { topicName: string; partitionIndex: number }[]) => entries.map((entry) => `${entry.topicName}-${entry.partitionIndex}`).sort();
        // Brute force: compare the two images partition by partition.
        const expectedLeaders: string[] = [];
        const expectedFollowers: string[] = [];
        const expectedDeletes: string[] = [];
        for (const topic of after.topicsById.values()) {
          for (const [index, registration] of topic.partitions) {
            const previous = before.topicsById.get(topic.id)?.partitions.get(index);
            if (JSON.stringify(previous) === JSON.stringify(registration)) continue;
            if (registration.leader === brokerId) expectedLeaders.push(`${topic.name}-${index}`);
            else if (registration.replicas.includes(brokerId)) expectedFollowers.push(`${topic.name}-${index}`);
          }
        }
        for (const topic of before.topicsById.values()) {
          if (after.topicsById.has(topic.id)) continue;
          for (const [index, registration] of topic.partitions) if (registration.replicas.includes(brokerId)) expectedDeletes.push(`${topic.name}-${index}`);
        }
        // A partition changed and changed back within the delta is still reported; allow that superset.
        expect(names(changes.leaders)).toEqual(expect.arrayContaining(expectedLeaders.sort()));
        expect(names(changes.followers)).toEqual(expect.arrayContaining(expectedFollowers.sort()));
        expect(names(changes.deletes)).toEqual(expectedDeletes.sort());
        for (const entry of changes.leaders) expect(entry.registration.leader).toBe(brokerId);
        for (const entry of changes.followers) expect(entry.registration.replicas).toContain(brokerId);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses records that cannot apply, naming what is wrong', () => {
    const id = topicId(1);
    const cases: [MetadataRecordInput[], RegExp][] = [
      [[{ type: 'Partition', topicId: id, partitionId: 0, replicas: [1], isr: [1], leader: 1 }], /does not exist/],
      [[{ type: 'Topic', name: 't', topicId: id }, { type: 'Topic', name: 't', topicId: topicId(2) }], /already exists/],
      [[{ type: 'Topic', name: 't', topicId: id }, { type: 'Partition', topicId: id, partitionId: 0, replicas: [1, 2], isr: [1], leader: 3 }], /not a replica/],
      [[{ type: 'Topic', name: 't', topicId: id }, { type: 'Partition', topicId: id, partitionId: 0, replicas: [1, 2], isr: [2], leader: 1 }], /not in the ISR/],
      [[{ type: 'FenceBroker', id: 1, epoch: 5 }], /not registered/],
      [[{ type: 'ProducerIds', brokerId: 0, nextProducerId: 0 }], /does not grow/],
    ];
    for (const [records, message] of cases) {
      const delta = new MetadataDelta(MetadataImage.EMPTY);
      expect(() => records.forEach((record, index) => delta.replay(metadataRecord(record), index))).toThrow(MetadataError);
      const again = new MetadataDelta(MetadataImage.EMPTY);
      expect(() => records.forEach((record, index) => again.replay(metadataRecord(record), index))).toThrow(message);
    }
  });

  it('starts a new leader epoch whenever a change names a leader, and a new partition epoch at every change', () => {
    const id = topicId(1);
    const delta = new MetadataDelta(MetadataImage.EMPTY);
    const records: MetadataRecordInput[] = [
      { type: 'Topic', name: 't', topicId: id },
      { type: 'Partition', topicId: id, partitionId: 0, replicas: [1, 2, 3], isr: [1, 2, 3], leader: 1, leaderEpoch: 0, partitionEpoch: 0 },
      { type: 'PartitionChange', topicId: id, partitionId: 0, isr: [1, 2] },
      { type: 'PartitionChange', topicId: id, partitionId: 0, leader: 2 },
      { type: 'PartitionChange', topicId: id, partitionId: 0, leader: 2 },
    ];
    records.forEach((record, index) => delta.replay(metadataRecord(record), index));
    expect(delta.apply().partition('t', 0)).toMatchObject({ leader: 2, isr: [1, 2], leaderEpoch: 2, partitionEpoch: 3 });
  });
});
