/**
 * Sends partition leaders' ISR changes to the controller (Kafka's DefaultAlterPartitionManager).
 * A leader submits one change per partition at a time (its Partition keeps it pending until the
 * answer); the manager batches every queued change into one AlterPartition request and keeps at
 * most one request in flight. A request that gets no answer (the channel rejects), or a top-level
 * error, is sent again after `retryBackoffMs`; a partition missing from an answer stays queued and
 * goes out with the next request. Each submitted change resolves once, with the controller's
 * per-partition answer: the new ISR and partition epoch, or Kafka's error code.
 * Single-threaded: everything runs on the event loop; timers come from the injected clock.
 */
import { type AlterPartitionRequestInput, type AlterPartitionResponse, ApiKey, ErrorCode } from '@gregor/protocol';
import type { Clock, TimerHandle } from '@gregor/log';
import type { ControllerChannel } from './channels.js';

export const ALTER_PARTITION_VERSION = 3;

type TopicChange = NonNullable<AlterPartitionRequestInput['topics']>[number];

export interface IsrChange {
  topicName: string;
  topicId: string;
  partitionIndex: number;
  leaderEpoch: number;
  partitionEpoch: number;
  newIsr: readonly number[];
  /** The broker epoch of each new ISR member as the leader knows it (-1: unknown, not checked); the leader's own is filled in here. */
  newIsrWithEpochs?: readonly { brokerId: number; brokerEpoch: number }[];
}

export type IsrChangeOutcome =
  | { errorCode: 0; leaderId: number; leaderEpoch: number; isr: number[]; partitionEpoch: number }
  | { errorCode: number };

interface QueuedChange {
  change: IsrChange;
  resolve: (outcome: IsrChangeOutcome) => void;
}

export interface AlterPartitionManagerOptions {
  channel: ControllerChannel;
  clock: Clock;
  brokerId: number;
  /** This broker's epoch from its registration (-1 before it registered). */
  brokerEpoch: () => number;
  retryBackoffMs: number;
}

export class AlterPartitionManager {
  private readonly unsent = new Map<string, QueuedChange>();
  private inFlight = false;
  private retryTimer: TimerHandle | null = null;
  private closed = false;

  constructor(private readonly options: AlterPartitionManagerOptions) {}

  /**
   * Queues an ISR change. A second change for a partition whose first is still queued is refused
   * with OPERATION_NOT_ATTEMPTED, as Kafka does (the Partition never does this).
   */
  submit(change: IsrChange): Promise<IsrChangeOutcome> {
    const key = `${change.topicId}:${change.partitionIndex}`;
    if (this.closed || this.unsent.has(key)) return Promise.resolve({ errorCode: ErrorCode.OPERATION_NOT_ATTEMPTED });
    return new Promise((resolve) => {
      this.unsent.set(key, { change, resolve });
      this.maybePropagate();
    });
  }

  /** Answers queued changes with OPERATION_NOT_ATTEMPTED and stops retrying. */
  close(): void {
    this.closed = true;
    if (this.retryTimer !== null) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const queued of this.unsent.values()) queued.resolve({ errorCode: ErrorCode.OPERATION_NOT_ATTEMPTED });
    this.unsent.clear();
  }

  private maybePropagate(): void {
    if (this.closed || this.inFlight || this.retryTimer !== null || this.unsent.size === 0) return;
    this.inFlight = true;
    const sent = new Map(this.unsent);
    this.options.channel.send(ApiKey.AlterPartition, ALTER_PARTITION_VERSION, this.buildRequest([...sent.values()])).then(
      (response) => this.afterResponse(this.handleResponse(response as AlterPartitionResponse, sent)),
      () => this.afterResponse(false),
    );
  }

  private afterResponse(succeeded: boolean): void {
    this.inFlight = false;
    if (this.closed) return;
    if (succeeded) {
      this.maybePropagate();
      return;
    }
    this.retryTimer = this.options.clock.setTimeout(() => {
      this.retryTimer = null;
      this.maybePropagate();
    }, this.options.retryBackoffMs);
  }

  private buildRequest(changes: QueuedChange[]): AlterPartitionRequestInput {
    const byTopic = new Map<string, QueuedChange[]>();
    for (const queued of changes) {
      const list = byTopic.get(queued.change.topicId) ?? [];
      list.push(queued);
      byTopic.set(queued.change.topicId, list);
    }
    const ownEpoch = this.options.brokerEpoch();
    return {
      brokerId: this.options.brokerId,
      brokerEpoch: ownEpoch,
      topics: [...byTopic].map(([topicId, list]): TopicChange => ({
        topicName: list[0].change.topicName,
        topicId,
        partitions: list.map(({ change }): NonNullable<TopicChange['partitions']>[number] => ({
          partitionIndex: change.partitionIndex,
          leaderEpoch: change.leaderEpoch,
          newIsr: [...change.newIsr],
          // The leader vouches for its own epoch and for each follower's as of its last Fetch; the
          // controller refuses a member registered again since (INELIGIBLE_REPLICA), as Kafka's.
          newIsrWithEpochs: change.newIsr.map((brokerId) => ({
            brokerId,
            brokerEpoch: brokerId === this.options.brokerId ? ownEpoch : (change.newIsrWithEpochs?.find((state) => state.brokerId === brokerId)?.brokerEpoch ?? -1),
          })),
          leaderRecoveryState: 0,
          partitionEpoch: change.partitionEpoch,
        })),
      })),
    };
  }

  /** Resolves the answered changes; returns false when the whole request must be retried. */
  private handleResponse(response: AlterPartitionResponse, sent: Map<string, QueuedChange>): boolean {
    if (response.errorCode !== ErrorCode.NONE) return false;
    for (const topic of response.topics ?? []) {
      for (const partition of topic.partitions ?? []) {
        const key = `${topic.topicId}:${partition.partitionIndex}`;
        const queued = sent.get(key);
        if (queued === undefined || this.unsent.get(key) !== queued) continue;
        // Removed before resolving, so the Partition may submit its next change from the callback.
        this.unsent.delete(key);
        queued.resolve(partition.errorCode === ErrorCode.NONE
          ? { errorCode: 0, leaderId: partition.leaderId, leaderEpoch: partition.leaderEpoch, isr: [...partition.isr], partitionEpoch: partition.partitionEpoch }
          : { errorCode: partition.errorCode });
      }
    }
    return true;
  }
}
