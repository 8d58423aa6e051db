/**
 * The controller under random histories: registrations (new and repeated incarnations),
 * heartbeats with and without catch-up, clock advances that expire sessions, fencing and
 * controlled shutdowns, topic creation with random replication factors and manual assignments,
 * deletions, added partitions, AlterPartition requests (valid and stale), preferred and unclean
 * elections, config changes that enable unclean election, producer-id blocks, unregistrations,
 * and leadership losses with uncommitted appends (some kept by the next leader, some truncated).
 *
 * Checked on every committed record and image, independently of the controller's code:
 * - each partition's ISR is within its replicas; its leader, if any, is an active (unfenced, not
 *   shutting down) ISR member; a broker that is not active appears only as the sole ISR member of a
 *   partition without leader (fenced brokers lead nothing);
 * - without eligible leader replicas the ISR is never empty and there is no ELR; with them
 *   (KIP-966) the ELR is within the replicas and apart from the ISR, empty once the ISR reaches
 *   the topic's min.insync.replicas, and gains only replicas that were in the ISR or the ELR; a
 *   broker registering again without proof of a clean shutdown is in no ISR and no ELR after;
 * - a newly elected leader came from the ISR (or, with ELR, the ELR) before the change and was
 *   active (unless the change is an unclean election: ISR = the new leader, RECOVERING, which the
 *   run allows, or which elects the last known leader once the ISR and the ELR are empty);
 * - every change bumps the partition epoch by exactly one, and the leader epoch by one exactly
 *   when it names a leader; epochs never go back;
 * - a new incarnation's broker epoch is the offset of its RegisterBrokerRecord;
 * - every response agrees with the committed image at the moment it is delivered, producer-id
 *   blocks never overlap, requests pending when leadership is lost are answered NOT_CONTROLLER,
 *   and after a loss the controller decides from the committed image only;
 * - replaying the committed log from nothing gives the controller's committed image.
 *
 * `GREGOR_CONTROLLER_RUNS=500 pnpm vitest run --project metadata controller-model` runs more
 * histories; a failure prints its fast-check seed and path, and
 * `GREGOR_CONTROLLER_SEED=<seed> GREGOR_CONTROLLER_PATH=<path>` replays exactly that history.
 */
import { ErrorCode } from '@gregor/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type CommittedBatch, ConfigResourceType, decodeMetadataRecord, MetadataDelta, MetadataImage, type MetadataRecord, NO_LEADER_CHANGE,
  type PartitionRegistration,
} from '../../src/index.js';
import { alterPartitionRequest, createTopicsRequest, harness, type Harness, heartbeat, NODE_ID, registration, settle } from './harness.js';

const BROKERS = [1, 2, 3, 4, 5];
const MIN_ISR = 'min.insync.replicas';
const TOPICS = ['t0', 't1', 't2', 't3'];

type Op = { kind: number; a: number; b: number; c: number };

/** How often each operation comes (out of 100): commits and heartbeats often, leadership losses rarely. */
const WEIGHTS: [kind: number, weight: number][] = [
  [0, 2], [1, 3], [2, 4], [3, 3], [4, 14], [5, 5], [6, 3], [7, 2], [8, 12], [9, 10], [10, 4], [11, 5], [12, 18], [13, 2], [14, 4], [15, 2], [16, 3],
  [17, 2], [18, 1], [19, 1],
];
const op: fc.Arbitrary<Op> = fc.record({
  kind: fc.integer({ min: 0, max: 99 }).map((roll) => {
    let rest = roll;
    for (const [kind, weight] of WEIGHTS) {
      if (rest < weight) return kind;
      rest -= weight;
    }
    return 12;
  }),
  a: fc.nat(1000),
  b: fc.nat(1000),
  c: fc.nat(1000),
});

function isActive(image: MetadataImage, id: number): boolean {
  const broker = image.brokers.get(id);
  return broker !== undefined && !broker.fenced && !broker.inControlledShutdown;
}

function partitionsOf(image: MetadataImage): [string, number, PartitionRegistration][] {
  const result: [string, number, PartitionRegistration][] = [];
  for (const topic of image.topicsById.values()) for (const [index, partition] of topic.partitions) result.push([topic.name, index, partition]);
  return result;
}

/** Replays every committed batch record by record, checking each change and each batch's end state. */
class Checker {
  image = MetadataImage.EMPTY;
  readonly problems: string[] = [];
  /** The image after each committed batch, by the offset of its last record. */
  private readonly images = new Map<number, MetadataImage>([[-1, MetadataImage.EMPTY]]);

  imageAt(offset: number): MetadataImage | undefined {
    return this.images.get(offset);
  }

  constructor(private readonly uncleanAllowed: boolean, private readonly elr: boolean) {}

  apply(batch: CommittedBatch): void {
    batch.records.forEach((value, index) => {
      const record = decodeMetadataRecord(value);
      const offset = batch.baseOffset + index;
      const before = this.image;
      const delta = new MetadataDelta(before);
      delta.replay(record, offset, batch.epoch);
      this.image = delta.apply();
      this.checkRecord(record, offset, before, this.image);
    });
    this.checkImage(this.image, `after the batch at ${batch.baseOffset}`);
    this.images.set(this.image.offset, this.image);
  }

  private problem(message: string): void {
    if (this.problems.length < 20) this.problems.push(message);
  }

  private checkRecord(record: MetadataRecord, offset: number, before: MetadataImage, after: MetadataImage): void {
    if (record.type === 'RegisterBroker') {
      const previous = before.brokers.get(record.brokerId);
      const expected = previous === undefined || previous.incarnationId !== record.incarnationId ? offset : previous.epoch;
      if (record.brokerEpoch !== expected) this.problem(`broker ${record.brokerId} registered with epoch ${record.brokerEpoch} at offset ${offset}`);
    }
    if (record.type !== 'PartitionChange') return;
    const topic = before.topicsById.get(record.topicId);
    const previous = topic?.partitions.get(record.partitionId);
    const next = after.topicsById.get(record.topicId)?.partitions.get(record.partitionId);
    if (previous === undefined || next === undefined || topic === undefined) return;
    const name = `${topic.name}-${record.partitionId} at ${offset}`;
    if (next.partitionEpoch !== previous.partitionEpoch + 1) this.problem(`${name}: partition epoch ${previous.partitionEpoch} -> ${next.partitionEpoch}`);
    const namesLeader = record.leader !== NO_LEADER_CHANGE;
    if (next.leaderEpoch !== previous.leaderEpoch + (namesLeader ? 1 : 0)) this.problem(`${name}: leader epoch ${previous.leaderEpoch} -> ${next.leaderEpoch}`);
    if (namesLeader && record.leader >= 0 && record.leader !== previous.leader) {
      const unclean = next.leaderRecoveryState === 1 && next.isr.length === 1 && next.isr[0] === record.leader;
      const lastKnown = this.elr && unclean && previous.lastKnownElr.length === 1 && previous.lastKnownElr[0] === record.leader && next.elr.length === 0;
      const eligible = previous.isr.includes(record.leader) || (this.elr && previous.elr.includes(record.leader));
      if (!eligible && !(this.uncleanAllowed && unclean) && !lastKnown) {
        this.problem(`${name}: leader ${record.leader} elected from outside the ISR ${previous.isr} and ELR ${previous.elr}`);
      }
      if (!isActive(before, record.leader)) this.problem(`${name}: leader ${record.leader} elected while not active`);
    }
    const joined = next.elr.filter((id) => !previous.isr.includes(id) && !previous.elr.includes(id));
    if (joined.length > 0) this.problem(`${name}: ${joined} joined the ELR ${next.elr} from outside the ISR ${previous.isr} and ELR ${previous.elr}`);
  }

  checkImage(image: MetadataImage, when: string): void {
    for (const [topic, index, partition] of partitionsOf(image)) {
      const name = `${topic}-${index} ${when}`;
      if (!this.elr && partition.isr.length === 0) this.problem(`${name}: empty ISR`);
      if (!this.elr && (partition.elr.length > 0 || partition.lastKnownElr.length > 0)) this.problem(`${name}: ELR ${partition.elr} without eligible leader replicas`);
      if (partition.elr.some((id) => !partition.replicas.includes(id) || partition.isr.includes(id))) this.problem(`${name}: ELR ${partition.elr} outside replicas ${partition.replicas} or in ISR ${partition.isr}`);
      const minIsr = Math.min(Number(image.topicConfigs(topic).get(MIN_ISR) ?? 1), partition.replicas.length);
      if (partition.isr.length >= minIsr && partition.elr.length > 0) this.problem(`${name}: ELR ${partition.elr} with ISR ${partition.isr} at min ISR ${minIsr}`);
      if (partition.isr.some((id) => !partition.replicas.includes(id))) this.problem(`${name}: ISR ${partition.isr} outside replicas ${partition.replicas}`);
      if (partition.leader >= 0 && !partition.isr.includes(partition.leader)) this.problem(`${name}: leader ${partition.leader} not in ISR ${partition.isr}`);
      if (partition.leader >= 0 && !isActive(image, partition.leader)) this.problem(`${name}: leader ${partition.leader} is fenced or shutting down`);
      for (const id of partition.isr) {
        if (!isActive(image, id) && (partition.isr.length > 1 || partition.leader >= 0)) this.problem(`${name}: inactive broker ${id} in ISR ${partition.isr} (leader ${partition.leader})`);
      }
    }
  }
}

/**
 * Checks each response against the committed image as of the offset its request waited for (the
 * last record appended when it was decided), and that it was delivered only once that offset was
 * committed. Responses carrying NOT_CONTROLLER are not checked against the image.
 */
class Responses {
  readonly problems: string[] = [];
  readonly outstanding: Promise<unknown>[] = [];
  private readonly producerBlocks: [number, number][] = [];

  constructor(private readonly h: Harness, private readonly checker: Checker) {}

  track<T>(what: string, request: () => Promise<T>, check: (response: T, image: MetadataImage) => string | null): void {
    const sent = request();
    // The controller decided the request at once: it waits for everything appended so far.
    const waitedOffset = this.h.controller.image.offset;
    const promise = sent.then((response) => {
      if (JSON.stringify(response).includes(`"errorCode":${ErrorCode.NOT_CONTROLLER}`)) return response;
      const problem = this.h.controller.committedImage.offset < waitedOffset
        ? `answered before offset ${waitedOffset} was committed (committed: ${this.h.controller.committedImage.offset})`
        : this.checkAt(waitedOffset, response, check);
      if (problem !== null && this.problems.length < 20) this.problems.push(`${what}: ${problem}`);
      return response;
    }, (error: unknown) => {
      this.problems.push(`${what}: rejected with ${String(error)}`);
    });
    this.outstanding.push(promise);
  }

  private checkAt<T>(offset: number, response: T, check: (response: T, image: MetadataImage) => string | null): string | null {
    const image = this.checker.imageAt(offset);
    return image === undefined ? `no committed batch ends at offset ${offset}` : check(response, image);
  }

  producerBlock(start: number, length: number): string | null {
    for (const [otherStart, otherLength] of this.producerBlocks) {
      if (start < otherStart + otherLength && otherStart < start + length) return `producer ids ${start}+${length} overlap ${otherStart}+${otherLength}`;
    }
    this.producerBlocks.push([start, length]);
    return null;
  }
}

async function runHistory(ops: Op[], uncleanAllowed: boolean, elr: boolean, seed: number): Promise<string[]> {
  const h = harness({
    brokerSessionTimeoutMs: 6000, leaderImbalanceCheckIntervalSeconds: 20, uncleanLeaderElectionIntervalMs: 15_000, eligibleLeaderReplicasEnable: elr,
  }, seed);
  const checker = new Checker(uncleanAllowed, elr);
  const responses = new Responses(h, checker);
  const commitNext = h.log.commitNext.bind(h.log);
  h.log.commitNext = () => {
    const batch = h.log.pending[0];
    if (batch !== undefined) checker.apply({ baseOffset: batch.baseOffset, epoch: batch.epoch, records: batch.records });
    return commitNext();
  };
  const epochs = new Map<number, number>();
  const incarnations = new Map<number, number>();
  const alive = new Set<number>();
  const lossProblems: string[] = [];
  h.elect();

  const register = (brokerId: number, newIncarnation: boolean, cleanShutdown: boolean) => {
    const incarnation = (incarnations.get(brokerId) ?? 0) + (newIncarnation ? 1 : 0);
    incarnations.set(brokerId, incarnation);
    alive.add(brokerId);
    const previousBrokerEpoch = cleanShutdown ? (epochs.get(brokerId) ?? -1) : -1;
    const existed = h.controller.image.brokers.has(brokerId);
    const request = registration(brokerId, { incarnation, rack: brokerId % 2 === 0 ? 'even' : 'odd', previousBrokerEpoch });
    responses.track(`register ${brokerId}`, () => h.controller.registerBroker(3, request), (response, image) => {
      if (response.errorCode !== ErrorCode.NONE) return null;
      epochs.set(brokerId, response.brokerEpoch);
      const broker = image.brokers.get(brokerId);
      if (broker?.epoch !== response.brokerEpoch) return `epoch ${response.brokerEpoch}, image has ${broker?.epoch}`;
      if (elr && existed && newIncarnation && !cleanShutdown) {
        const still = partitionsOf(image).filter(([, , partition]) => partition.isr.includes(brokerId) || partition.elr.includes(brokerId));
        if (still.length > 0) return `back from an unclean shutdown, still in the ISR or ELR of ${still.map(([name, index]) => `${name}-${index}`)}`;
      }
      return null;
    });
  };
  const sendHeartbeat = (brokerId: number, caughtUp: boolean, flags: { wantFence?: boolean; wantShutDown?: boolean } = {}, stale = false) => {
    const epoch = (epochs.get(brokerId) ?? -1) - (stale ? 1 : 0);
    const offset = caughtUp ? h.controller.committedImage.offset : Math.max(-1, epoch - 1);
    responses.track(`heartbeat ${brokerId}`, () => h.controller.brokerHeartbeat(0, heartbeat(brokerId, epoch, offset, flags)), (response, image) => {
      if (response.errorCode !== ErrorCode.NONE) return null;
      const broker = image.brokers.get(brokerId);
      if (broker === undefined || broker.epoch !== epoch) return null;
      if (response.isFenced !== broker.fenced) return `isFenced ${response.isFenced}, image fenced ${broker.fenced}`;
      if (response.shouldShutDown && !broker.fenced) return 'shouldShutDown while unfenced';
      return null;
    });
  };

  for (const { kind, a, b, c } of ops) {
    const brokerId = BROKERS[a % BROKERS.length];
    const image = h.controller.image;
    switch (kind) {
      case 0:
      case 1:
        register(brokerId, kind === 1 || !incarnations.has(brokerId), b % 3 !== 0);
        break;
      case 2:
      case 3:
        if (epochs.has(brokerId)) sendHeartbeat(brokerId, b % 4 !== 0, {}, c % 10 === 0);
        break;
      case 4: {
        // A second passes; every live broker heartbeats (caught up).
        h.clock.advance(1000);
        for (const id of alive) if (epochs.has(id)) sendHeartbeat(id, true);
        break;
      }
      case 5:
        // A broker dies silently (its session will expire), or time jumps.
        if (b % 2 === 0) alive.delete(brokerId);
        else h.clock.advance((b % 13) * 1000);
        break;
      case 6:
        if (epochs.has(brokerId)) sendHeartbeat(brokerId, true, { wantShutDown: true });
        if (b % 3 === 0) alive.delete(brokerId);
        break;
      case 7:
        if (epochs.has(brokerId)) sendHeartbeat(brokerId, true, { wantFence: true });
        break;
      case 8: {
        const name = TOPICS[b % TOPICS.length];
        const manual = c % 5 === 0 ? [[...BROKERS].sort((x, y) => ((x * 7 + c) % 11) - ((y * 7 + c) % 11)).slice(0, 1 + (b % 3))] : undefined;
        responses.track(`create ${name}`, () => h.controller.createTopics(7, createTopicsRequest([{ name, numPartitions: 1 + (c % 4), replicationFactor: 1 + (a % 4), assignments: manual, configs: { [MIN_ISR]: String(1 + (b % 3)) } }])), (response, committed) => {
          const topic = response.topics[0];
          if (topic.errorCode !== ErrorCode.NONE) return null;
          const created = committed.topicsById.get(topic.topicId);
          if (created === undefined) return 'created topic is not in the image';
          if (created.partitions.size !== topic.numPartitions) return `numPartitions ${topic.numPartitions}, image has ${created.partitions.size}`;
          return null;
        });
        break;
      }
      case 9:
      case 10: {
        // AlterPartition from the leader: valid, or with stale epochs.
        const candidates = partitionsOf(image).filter(([, , partition]) => partition.leader >= 0);
        if (candidates.length === 0) break;
        const [topicName, partitionIndex, partition] = candidates[b % candidates.length];
        const topicId = image.topic(topicName)?.id ?? '';
        const leader = partition.leader;
        const others = partition.replicas.filter((id) => id !== leader && ((c >> partition.replicas.indexOf(id)) & 1) === 1);
        const staleness = kind === 10 ? c % 3 : -1;
        const request = alterPartitionRequest(leader, epochs.get(leader) ?? -1, topicId, {
          partitionIndex,
          leaderEpoch: partition.leaderEpoch - (staleness === 0 ? 1 : 0),
          partitionEpoch: partition.partitionEpoch - (staleness === 1 ? 1 : 0) + (staleness === 2 ? 1 : 0),
          newIsr: [leader, ...others],
          leaderRecoveryState: partition.leaderRecoveryState === 1 && others.length > 0 ? 0 : partition.leaderRecoveryState,
        });
        responses.track(`alterPartition ${topicName}-${partitionIndex}`, () => h.controller.alterPartition(3, request), (response, committed) => {
          const result = response.topics[0]?.partitions[0];
          if (response.errorCode !== ErrorCode.NONE || result === undefined || result.errorCode !== ErrorCode.NONE) return null;
          const now = committed.topicsById.get(topicId)?.partitions.get(partitionIndex);
          if (now === undefined) return 'partition vanished';
          const same = now.leader === result.leaderId && now.leaderEpoch === result.leaderEpoch && now.partitionEpoch === result.partitionEpoch
            && now.isr.join() === result.isr.join() && now.leaderRecoveryState === result.leaderRecoveryState;
          return same ? null : `answered ${JSON.stringify(result)}, image ${JSON.stringify(now)}`;
        });
        break;
      }
      case 11: {
        const electionType = uncleanAllowed && b % 2 === 1 ? 1 : 0;
        const all = c % 3 === 0;
        const chosen = partitionsOf(image).filter((_, index) => (index + c) % 2 === 0);
        const topicPartitions = all ? null : TOPICS.map((topic) => ({ topic, partitions: chosen.filter(([name]) => name === topic).map(([, index]) => index) })).filter((entry) => entry.partitions.length > 0);
        responses.track('electLeaders', () => h.controller.electLeaders(2, { electionType, topicPartitions, timeoutMs: 1000 }), (response, committed) => {
          for (const topic of response.replicaElectionResults) {
            for (const result of topic.partitionResult) {
              if (result.errorCode !== ErrorCode.NONE) continue;
              const partition = committed.partition(topic.topic, result.partitionId);
              if (partition === undefined || partition.leader < 0) return `${topic.topic}-${result.partitionId} elected but has no leader`;
              if (electionType === 0 && partition.leader !== partition.replicas[0]) return `${topic.topic}-${result.partitionId} preferred election left leader ${partition.leader}`;
            }
          }
          return null;
        });
        break;
      }
      case 12: {
        const count = 1 + (b % 3);
        for (let index = 0; index < count; index++) {
          h.log.commitNext();
          await settle();
        }
        break;
      }
      case 13: {
        // Leadership is lost: the next leader kept some of the uncommitted batches.
        if (!h.controller.isActive) break;
        const pending = [...responses.outstanding];
        const answers = pending.map(() => false);
        pending.forEach((promise, index) => {
          promise.then(() => {
            answers[index] = true;
          });
        });
        await settle();
        const unanswered = pending.filter((_, index) => !answers[index]);
        const kept = b % (h.log.pending.length + 1);
        for (const batch of h.log.pending.slice(0, kept)) checker.apply({ baseOffset: batch.baseOffset, epoch: batch.epoch, records: batch.records });
        h.log.depose(h.log.leaderEpoch + 1, kept);
        if (h.controller.isActive || h.controller.image !== h.controller.committedImage) lossProblems.push('still deciding from a speculative image after losing leadership');
        const results = await Promise.all(unanswered);
        for (const result of results) {
          const codes = JSON.stringify(result).match(/"errorCode":(\d+)/g) ?? [];
          if (codes.some((code) => code !== `"errorCode":${ErrorCode.NOT_CONTROLLER}`)) lossProblems.push(`a request pending at the loss was answered ${JSON.stringify(result)}`);
        }
        break;
      }
      case 14:
        if (!h.controller.isActive) h.elect();
        break;
      case 15: {
        const name = TOPICS[b % TOPICS.length];
        responses.track(`delete ${name}`, () => h.controller.deleteTopics(5, { topics: [], topicNames: [name], timeoutMs: 1000 }), (response, committed) =>
          response.responses[0].errorCode === ErrorCode.NONE && committed.topicsById.has(response.responses[0].topicId) ? 'deleted topic still in the image' : null);
        break;
      }
      case 16: {
        const name = TOPICS[b % TOPICS.length];
        const count = (image.topic(name)?.partitions.size ?? 0) + 1 + (c % 2);
        responses.track(`createPartitions ${name}`, () => h.controller.createPartitions(3, { topics: [{ name, count, assignments: null }], timeoutMs: 1000, validateOnly: false }), (response, committed) =>
          response.results[0].errorCode === ErrorCode.NONE && (committed.topic(name)?.partitions.size ?? 0) < count ? 'partitions not added' : null);
        break;
      }
      case 17:
        if (epochs.has(brokerId)) {
          responses.track(`allocateProducerIds ${brokerId}`, () => h.controller.allocateProducerIds(0, { brokerId, brokerEpoch: epochs.get(brokerId) ?? -1 }), (response, committed) => {
            if (response.errorCode !== ErrorCode.NONE) return null;
            if (committed.nextProducerId < response.producerIdStart + response.producerIdLen) return 'block beyond the image next producer id';
            return responses.producerBlock(response.producerIdStart, response.producerIdLen);
          });
        }
        break;
      case 18:
        if (uncleanAllowed) {
          const resource = b % 2 === 0 ? { resourceType: ConfigResourceType.BROKER, resourceName: '' } : { resourceType: ConfigResourceType.TOPIC, resourceName: TOPICS[c % TOPICS.length] };
          responses.track('enable unclean', () => h.controller.incrementalAlterConfigs(1, {
            resources: [{ ...resource, configs: [{ name: 'unclean.leader.election.enable', configOperation: 0, value: 'true' }] }],
            validateOnly: false,
          }), () => null);
        }
        break;
      case 19:
        if (b % 4 === 0) {
          alive.delete(brokerId);
          responses.track(`unregister ${brokerId}`, () => h.controller.unregisterBroker(0, { brokerId }), (response, committed) =>
            response.errorCode === ErrorCode.NONE && committed.brokers.has(brokerId) ? 'unregistered broker still registered' : null);
        }
        break;
    }
  }
  if (!h.controller.isActive) h.elect();
  for (let round = 0; round < 50 && h.log.pending.length > 0; round++) {
    h.log.commitNext();
    await settle();
  }
  await Promise.all(responses.outstanding);
  const replay = new MetadataDelta(MetadataImage.EMPTY);
  for (const batch of h.log.committed) {
    batch.records.forEach((value, index) => {
      replay.replay(decodeMetadataRecord(value), batch.baseOffset + index, batch.epoch);
    });
  }
  const problems = [...checker.problems, ...responses.problems, ...lossProblems];
  if (process.env.STATS) {
    const types: Record<string, number> = {};
    for (const batch of h.log.committed) for (const value of batch.records) { const r = decodeMetadataRecord(value); const key = r.type === 'PartitionChange' ? `PC leader=${r.leader === -2 ? 'same' : r.leader < 0 ? 'none' : 'new'} rec=${r.leaderRecoveryState} elr=${r.eligibleLeaderReplicas?.length ?? '-'} lke=${r.lastKnownElr?.length ?? '-'}` : r.type === 'BrokerRegistrationChange' ? `BRC f=${r.fenced} cs=${r.inControlledShutdown}` : r.type; types[key] = (types[key] ?? 0) + 1; }
    const codes: Record<string, number> = {};
    for (const result of await Promise.all(responses.outstanding)) for (const m of JSON.stringify(result).match(/"errorCode":(\d+)/g) ?? []) codes[m] = (codes[m] ?? 0) + 1;
    console.log(JSON.stringify({ uncleanAllowed, elr, types, codes, losses: h.log.leaderEpoch }));
  }
  if (JSON.stringify(replay.apply().toRecords()) !== JSON.stringify(h.controller.committedImage.toRecords())) problems.push('the replayed log differs from the committed image');
  if (h.controller.activeEpoch < 0 || h.controller.leaderAndEpoch.leaderId !== NODE_ID) problems.push('not active at the end');
  return problems;
}

const runs = Number(process.env.GREGOR_CONTROLLER_RUNS ?? 20);
const replaySeed = process.env.GREGOR_CONTROLLER_SEED === undefined ? undefined : Number(process.env.GREGOR_CONTROLLER_SEED);
const replayPath = process.env.GREGOR_CONTROLLER_PATH;

describe('QuorumController under random histories', () => {
  for (const [uncleanAllowed, elr] of [[false, true], [true, true], [false, false], [true, false]]) {
    const mode = `unclean election ${uncleanAllowed ? 'allowed' : 'off'}, eligible leader replicas ${elr ? 'on' : 'off'}`;
    it(`keeps leaders in the ISR, epochs growing, fenced brokers leaderless and answers true (${mode})`, async () => {
      await fc.assert(
        fc.asyncProperty(fc.array(op, { minLength: 40, maxLength: 200 }), fc.integer({ min: 1, max: 1_000_000 }), async (ops, seed) => {
          // Start every history with three brokers up.
          const prefix: Op[] = [1, 2, 3, 4].flatMap((id) => [{ kind: 0, a: id - 1, b: 0, c: 0 }, { kind: 12, a: 0, b: 2, c: 0 }, { kind: 2, a: id - 1, b: 1, c: 1 }, { kind: 12, a: 0, b: 2, c: 0 }]);
          expect(await runHistory([...prefix, ...ops], uncleanAllowed, elr, seed)).toEqual([]);
        }),
        { numRuns: runs, seed: replaySeed, path: replayPath, endOnFailure: true },
      );
    });
  }
});
