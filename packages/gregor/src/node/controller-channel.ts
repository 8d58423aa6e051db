/**
 * The broker's channel to the active controller, wherever it is (Kafka's
 * NodeToControllerChannelManager): each request goes to the quorum's current leader, which is the
 * active controller, on its controller listener (in process when that is this node). The leader
 * comes from this node's raft client, voter or observer, so the channel follows elections
 * without asking anyone.
 *
 * Retries: no known leader, an unreachable leader, or an answer carrying NOT_CONTROLLER (a
 * deposed controller, or a leader whose controller is not active yet) waits and tries again with
 * the leader known then: from `retryBackoffMs`, doubling up to `retryBackoffMaxMs`, with jitter.
 * The whole request is bounded by `timeoutMs`; then it rejects with a retriable
 * CONTROLLER_UNREACHABLE, which the broker treats as "no answer, try later". Like Kafka's, a
 * request whose answer was lost may have been applied: a retried CreateTopics can come back
 * TOPIC_ALREADY_EXISTS, as with Kafka.
 *
 * When the quorum's leader changes (`leaderChanged()`, called on every leader change the node
 * learns), an attempt still waiting on another node is abandoned and the request goes to the new
 * leader at once, and requests waiting to retry retry now: as Kafka's channel disconnects from the
 * old controller. Without it, a request sent to a controller that stopped answering (a paused
 * process) would wait out its whole timeout, and a broker's heartbeats would miss the new
 * controller's session timeout and get it fenced.
 *
 * Time comes from the injected clock, so the simulation replays it. Requests are independent:
 * several may be in flight at once.
 */
import { ErrorCode } from '@gregor/protocol';
import type { Body } from '@gregor/client';
import type { Clock, TimerHandle } from '@gregor/log';
import { NodeNetworkError } from './errors.js';
import type { NodeNetwork } from './node-network.js';

export interface ControllerChannelOptions {
  network: NodeNetwork;
  /** The quorum's leader as this node knows it now (-1: unknown). */
  leaderId: () => number;
  clock: Clock;
  random: () => number;
  /** First wait before a retry. */
  retryBackoffMs: number;
  /** Longest wait between retries. */
  retryBackoffMaxMs: number;
  /** Longest a request may take, retries included. */
  timeoutMs: number;
}

export class NodeControllerChannel {
  private closed = false;
  private readonly sleepers = new Set<{ timer: TimerHandle; wake: () => void }>();
  /** Attempts waiting for an answer: the node each went to, and how to abandon it. */
  private readonly attempts = new Set<{ leaderId: number; abandon: (reason: Error) => void }>();

  constructor(private readonly options: ControllerChannelOptions) {}

  async send(apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    const { clock } = this.options;
    const deadlineMs = clock.now() + this.options.timeoutMs;
    let lastProblem = 'no controller is known';
    for (let attempt = 0; ; attempt++) {
      if (this.closed) throw new NodeNetworkError('NETWORK_CLOSED', 'the controller channel is closed');
      const leaderId = this.options.leaderId();
      if (leaderId >= 0) {
        try {
          const response = await this.withDeadline(this.options.network.send('controller', leaderId, apiKey, apiVersion, body), leaderId, deadlineMs);
          if (!carriesError(response, ErrorCode.NOT_CONTROLLER)) return response;
          lastProblem = `node ${leaderId} is not the active controller`;
        } catch (error) {
          if (this.closed) throw new NodeNetworkError('NETWORK_CLOSED', 'the controller channel is closed');
          lastProblem = `node ${leaderId} did not answer: ${(error as Error).message}`;
          // Abandoned for a new leader: go to it now (it is another node, so this cannot spin).
          if (error instanceof LeaderMoved && this.options.leaderId() !== leaderId) continue;
        }
      }
      const backoff = Math.min(this.options.retryBackoffMaxMs, this.options.retryBackoffMs * 2 ** Math.min(attempt, 20));
      const waitMs = Math.round(backoff * (0.8 + 0.4 * this.options.random()));
      if (clock.now() + waitMs >= deadlineMs) {
        throw new NodeNetworkError('CONTROLLER_UNREACHABLE', `no active controller answered API ${apiKey} within ${this.options.timeoutMs} ms (${lastProblem})`);
      }
      await this.sleep(waitMs);
    }
  }

  /**
   * The quorum's leader changed: attempts waiting on any other node are abandoned (their requests
   * go to the new leader), and requests waiting to retry retry now.
   */
  leaderChanged(): void {
    const leaderId = this.options.leaderId();
    for (const attempt of [...this.attempts]) {
      if (attempt.leaderId !== leaderId) attempt.abandon(new LeaderMoved(leaderId));
    }
    this.wakeSleepers();
  }

  /** Rejects the requests waiting to retry; later sends reject at once. */
  close(): void {
    this.closed = true;
    this.wakeSleepers();
  }

  private wakeSleepers(): void {
    for (const sleeper of [...this.sleepers]) {
      this.options.clock.clearTimeout(sleeper.timer);
      sleeper.wake();
    }
    this.sleepers.clear();
  }

  /**
   * `request` to `leaderId`, or a rejection once the request's time is up (an attempt never
   * outlives the request) or the leader moved elsewhere (`leaderChanged`).
   */
  private withDeadline(request: Promise<Body>, leaderId: number, deadlineMs: number): Promise<Body> {
    const { clock } = this.options;
    return new Promise((resolve, reject) => {
      const attempt = {
        leaderId,
        abandon: (reason: Error) => {
          clock.clearTimeout(timer);
          this.attempts.delete(attempt);
          reject(reason);
        },
      };
      const timer = clock.setTimeout(() => attempt.abandon(new Error('no answer before the request timed out')), Math.max(0, deadlineMs - clock.now()));
      this.attempts.add(attempt);
      request.then(
        (response) => {
          clock.clearTimeout(timer);
          this.attempts.delete(attempt);
          resolve(response);
        },
        (error: unknown) => attempt.abandon(error as Error),
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const sleeper = {
        timer: this.options.clock.setTimeout(() => {
          this.sleepers.delete(sleeper);
          resolve();
        }, ms),
        wake: resolve,
      };
      this.sleepers.add(sleeper);
    });
  }
}

/** Why an attempt was abandoned when the quorum's leader changed. */
class LeaderMoved extends Error {
  constructor(leaderId: number) {
    super(`the quorum's leader moved to node ${leaderId}`);
  }
}

/**
 * Whether `errorCode` appears anywhere in a response (its top-level error, or any topic's or
 * partition's), as Kafka's channel checks `response.errorCounts()` for NOT_CONTROLLER.
 */
export function carriesError(value: unknown, errorCode: number): boolean {
  if (Array.isArray(value)) return value.some((item) => carriesError(item, errorCode));
  if (value === null || typeof value !== 'object' || Buffer.isBuffer(value)) return false;
  for (const [key, field] of Object.entries(value)) {
    if (key === 'errorCode' && field === errorCode) return true;
    if (typeof field === 'object' && carriesError(field, errorCode)) return true;
  }
  return false;
}
