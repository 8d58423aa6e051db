/**
 * The simulation's clients: small Kafka clients that send real requests (through the SimNetwork,
 * so through the protocol's codecs) to the real brokers, as a Kafka client would, on the
 * simulation's clock. Gregor's own @gregor/client runs on real timers, so it cannot be replayed
 * from a seed; these do only what a run needs:
 * - `SimProducer`: idempotent, acks=all. InitProducerId, then per partition one batch in flight
 *   (`<producer>:<partition>:<sequence>` values, Kafka's sequence numbers), retried with the same
 *   producer id, epoch and sequence after NOT_LEADER_OR_FOLLOWER, NOT_ENOUGH_REPLICAS,
 *   REQUEST_TIMED_OUT, a lost request or any other retriable answer, with fresh metadata first.
 * The consumer group's members are in sim-group-member.ts, on the `SimClient` below.
 * Everything they see goes to the ClusterChecker, except the high watermark and committed offsets
 * a deposed leader or coordinator answers (one cut off from the controller that has not learned it
 * was replaced answers from its stale state, as Kafka's brokers do): the records it serves are
 * still checked. Single-threaded; each client sends at most one request per partition at a time.
 */
import type { SeededRandom, SimNetwork } from '@gregor/cluster';
import type { FakeClock } from '@gregor/log';
import { type AnyBody, ApiKey, ErrorCode, errorInfo } from '@gregor/protocol';
import { decodeBatch, encodeBatch, forEachBatch } from '@gregor/records';
import { type ClusterChecker, partitionKey, recordValue } from './cluster-checker.js';

export interface SimClientContext {
  network: SimNetwork;
  clock: FakeClock;
  checker: ClusterChecker;
  trace: (line: string) => void;
  topic: string;
  partitions: number;
  brokerIds: readonly number[];
  /** A request unanswered this long has failed (Kafka's request.timeout.ms). */
  requestTimeoutMs: number;
  /**
   * Whether `brokerId` leads the partition in the newest committed metadata now: an answer from a
   * broker that does not is a deposed leader's or coordinator's (cut off from the controller, it
   * has not learned it yet), which may be stale, as Kafka's are.
   */
  isLeader(brokerId: number, topic: string, partition: number): boolean;
  /** The `__consumer_offsets` partition of a group. */
  offsetsPartitionFor(groupId: string): number;
}

/** The request versions the simulated clients send. */
export const VERSIONS = {
  produce: 9, fetch: 12, metadata: 9, initProducerId: 4, findCoordinator: 3, offsetCommit: 8, offsetFetch: 7,
  joinGroup: 7, syncGroup: 5, heartbeat: 4, leaveGroup: 4,
} as const;

class RequestTimeoutError extends Error {
  readonly code = 'REQUEST_TIMED_OUT';
}

/** What one client sends through: a request with a client-side timeout, a sleep, the metadata it knows. */
export class SimClient {
  /** Per partition: the leader and its epoch, from the latest Metadata answer. */
  leaders = new Map<number, { leaderId: number; leaderEpoch: number }>();
  private refreshing: Promise<void> | null = null;

  constructor(
    readonly clientId: number,
    readonly name: string,
    readonly context: SimClientContext,
    readonly random: SeededRandom,
  ) {}

  /** `timeoutMs`: the client-side timeout (default the context's request timeout; JoinGroup waits longer). */
  send(brokerId: number, apiKey: number, apiVersion: number, body: AnyBody, timeoutMs = this.context.requestTimeoutMs): Promise<AnyBody> {
    const { clock, network } = this.context;
    const requestTimeoutMs = timeoutMs;
    return new Promise((resolve, reject) => {
      let done = false;
      const timer = clock.setTimeout(() => {
        if (done) return;
        done = true;
        reject(new RequestTimeoutError(`no answer from broker ${brokerId} in ${requestTimeoutMs} ms`));
      }, requestTimeoutMs);
      network.request(this.clientId, brokerId, apiKey, apiVersion, body).then(
        (response) => {
          if (done) return;
          done = true;
          clock.clearTimeout(timer);
          resolve(response);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          clock.clearTimeout(timer);
          reject(error);
        },
      );
    });
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.context.clock.setTimeout(resolve, ms));
  }

  anyBroker(): number {
    return this.random.pick(this.context.brokerIds);
  }

  /** Asks any broker for the topic's leaders (one refresh at a time, shared by every caller). */
  refreshMetadata(): Promise<void> {
    this.refreshing ??= this.fetchMetadata().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async fetchMetadata(): Promise<void> {
    const { topic } = this.context;
    try {
      const response = await this.send(this.anyBroker(), ApiKey.Metadata, VERSIONS.metadata, {
        topics: [{ name: topic }], allowAutoTopicCreation: false, includeTopicAuthorizedOperations: false,
      });
      const described = response.topics.find((candidate: AnyBody) => candidate.name === topic);
      if (described === undefined || described.errorCode !== ErrorCode.NONE) return;
      for (const partition of described.partitions) {
        const known = this.leaders.get(partition.partitionIndex);
        // An answer from a broker with an older image does not replace a newer leader, even one
        // forgotten since (Kafka's clients keep the last leader epoch seen per partition).
        if (known !== undefined && partition.leaderEpoch < known.leaderEpoch) continue;
        this.leaders.set(partition.partitionIndex, { leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch });
      }
    } catch {
      // Lost or timed out: the caller backs off and asks again.
    }
  }

  /** The partition's leader, refreshing metadata until one is known (or `stop()` says to give up). */
  async leaderOf(partition: number, stop: () => boolean): Promise<{ leaderId: number; leaderEpoch: number } | undefined> {
    for (;;) {
      const known = this.leaders.get(partition);
      if (known !== undefined && known.leaderId >= 0) return known;
      if (stop()) return undefined;
      await this.refreshMetadata();
      if (this.leaders.get(partition)?.leaderId === undefined || (this.leaders.get(partition)?.leaderId ?? -1) < 0) await this.sleep(this.random.int(50, 200));
    }
  }

  /** The leader is unknown again; its epoch stays, the floor for the next metadata answer. */
  forgetLeader(partition: number): void {
    const known = this.leaders.get(partition);
    if (known !== undefined) this.leaders.set(partition, { leaderId: -1, leaderEpoch: known.leaderEpoch });
  }

  forgetLeaders(): void {
    for (const partition of this.leaders.keys()) this.forgetLeader(partition);
  }
}

export function errorName(code: number): string {
  return errorInfo(code).name;
}

/**
 * Answers after which the producer gives up (a violation: nothing in the run fences or invalidates
 * a producer). OUT_OF_ORDER_SEQUENCE_NUMBER and UNKNOWN_PRODUCER_ID are retried: a deposed leader
 * cut off from the controller answers them for sequences the new leader took; whether a broker
 * really lost an acknowledged batch shows in the final check (a gap in the producer's sequences).
 */
const PRODUCER_FATAL = new Set<number>([
  ErrorCode.INVALID_PRODUCER_EPOCH, ErrorCode.PRODUCER_FENCED,
  ErrorCode.INVALID_PRODUCER_ID_MAPPING, ErrorCode.CORRUPT_MESSAGE, ErrorCode.INVALID_RECORD,
]);

export class SimProducer {
  private readonly client: SimClient;
  private producerId = -1;
  private producerEpoch = -1;
  private readonly nextSequence: number[];
  /** Batches sent and not yet answered for good. */
  inFlight = 0;
  /** The last answer each batch in flight got, by `partition seq`. */
  private readonly lastErrors = new Map<string, string>();
  /** False once the run stops producing new batches (batches in flight still finish). */
  producing = true;
  /** True once the run gives up on the batches in flight. */
  stopped = false;
  acknowledgedRecords = 0;
  retries = 0;

  constructor(clientId: number, name: string, context: SimClientContext, random: SeededRandom) {
    this.client = new SimClient(clientId, name, context, random);
    this.nextSequence = Array.from({ length: context.partitions }, () => 0);
  }

  get name(): string {
    return this.client.name;
  }

  /** The batches in flight and the last answer each got. */
  describeInFlight(): string {
    return [...this.lastErrors].map(([batch, error]) => `${this.name} ${batch}: ${error}`).join(', ');
  }

  start(): void {
    void this.run();
  }

  private async run(): Promise<void> {
    await this.initProducerId();
    for (let partition = 0; partition < this.client.context.partitions; partition++) void this.producePartition(partition);
  }

  private async initProducerId(): Promise<void> {
    while (!this.stopped) {
      try {
        const response = await this.client.send(this.client.anyBroker(), ApiKey.InitProducerId, VERSIONS.initProducerId, {
          transactionalId: null, transactionTimeoutMs: 60_000, producerId: -1, producerEpoch: -1,
        });
        if (response.errorCode === ErrorCode.NONE) {
          this.producerId = response.producerId;
          this.producerEpoch = response.producerEpoch;
          this.client.context.trace(`${this.name} has producer id ${this.producerId} epoch ${this.producerEpoch}`);
          return;
        }
      } catch {
        // Lost: ask again.
      }
      await this.client.sleep(this.client.random.int(50, 300));
    }
  }

  private async producePartition(partition: number): Promise<void> {
    while (this.producing && !this.stopped) {
      await this.client.sleep(this.client.random.int(10, 150));
      if (!this.producing) return;
      const count = this.client.random.int(1, 3);
      const baseSequence = this.nextSequence[partition];
      this.nextSequence[partition] += count;
      const values = Array.from({ length: count }, (_, index) => recordValue(this.name, partition, baseSequence + index));
      this.inFlight++;
      const ok = await this.sendUntilAnswered(partition, baseSequence, values);
      this.lastErrors.delete(`${partitionKey(this.client.context.topic, partition)} seq ${baseSequence}`);
      this.inFlight--;
      if (!ok) return;
    }
  }

  /** Sends one batch until the broker accepts it; false when it must stop (a fatal answer, or the run gave up). */
  private async sendUntilAnswered(partition: number, baseSequence: number, values: string[]): Promise<boolean> {
    const { context } = this.client;
    const key = partitionKey(context.topic, partition);
    const records = encodeBatch({
      producerId: this.producerId, producerEpoch: this.producerEpoch, baseSequence, timestamp: context.clock.now(),
      records: values.map((value) => ({ key: null, value: Buffer.from(value) })),
    });
    for (let attempt = 0; !this.stopped; attempt++) {
      if (attempt > 0) {
        this.retries++;
        await this.client.sleep(this.client.random.int(20, 200));
      }
      const leader = await this.client.leaderOf(partition, () => this.stopped);
      if (leader === undefined) return false;
      let answer: AnyBody;
      try {
        const response = await this.client.send(leader.leaderId, ApiKey.Produce, VERSIONS.produce, {
          transactionalId: null, acks: -1, timeoutMs: 3000, topicData: [{ name: context.topic, partitionData: [{ index: partition, records }] }],
        });
        answer = response.responses[0].partitionResponses[0];
      } catch (error) {
        context.trace(`${this.name} ${key} seq ${baseSequence}: ${(error as { code?: string }).code ?? (error as Error).message} from ${leader.leaderId}`);
        this.client.forgetLeader(partition);
        continue;
      }
      if (answer.errorCode === ErrorCode.NONE) {
        for (const [index, value] of values.entries()) context.checker.observeAcknowledged(key, answer.baseOffset + index, value);
        this.acknowledgedRecords += values.length;
        context.trace(`${this.name} acked ${key} seq ${baseSequence} at ${answer.baseOffset} by ${leader.leaderId}`);
        return true;
      }
      if (answer.errorCode === ErrorCode.DUPLICATE_SEQUENCE_NUMBER) {
        for (const value of values) context.checker.observeAcknowledged(key, -1, value);
        this.acknowledgedRecords += values.length;
        return true;
      }
      context.trace(`${this.name} ${key} seq ${baseSequence}: ${errorName(answer.errorCode)} from ${leader.leaderId}`);
      this.lastErrors.set(`${key} seq ${baseSequence}`, errorName(answer.errorCode));
      if (PRODUCER_FATAL.has(answer.errorCode)) {
        context.checker.violation(`${this.name}'s batch ${values.join(',')} to ${key} got ${errorName(answer.errorCode)} from broker ${leader.leaderId}`);
        this.stopped = true;
        return false;
      }
      this.client.forgetLeader(partition);
    }
    return false;
  }
}
