/**
 * A simulated network between nodes, the sibling of MemoryFileSystem: every message is a timer of
 * the injected FakeClock, delayed by a seeded random amount, and may be dropped (at random, or by a
 * partition). Messages on one connection arrive in the order sent (a connection is one direction
 * between two nodes: requests from A to B, and B's responses to them on the way back); messages on
 * different connections overtake each other freely. With `encode` (the default) every request and
 * response goes through Kafka's real codecs (`encodeRequest` / `decodeRequest` ...), strictly, so a
 * body that does not survive the wire fails here as it would over TCP.
 *
 * A node is reachable while attached (`attach(nodeId, handler)`); `detach` is its crash: what is in
 * flight to or from it is lost. A request that is lost rejects its sender's promise with
 * PeerUnreachableError after `unreachableAfterMs`, as a TCP connection times out; so does a request
 * the node was still handling when it crashed (its connection reset). Single-threaded;
 * owned by one simulation.
 */
import { type AnyBody, decodeRequest, decodeResponse, encodeRequest, encodeResponse, type RequestInput, type ResponseBody } from '@gregor/protocol';
import type { FakeClock } from '@gregor/log';
import { PeerUnreachableError } from '../raft/errors.js';
import type { QuorumApiKey, QuorumNetwork } from '../raft/network.js';
import type { SeededRandom } from './random.js';

/** How a node answers a request: the RaftClient's `handle`, or a broker's. */
export type SimHandler = (apiKey: number, apiVersion: number, body: AnyBody) => Promise<AnyBody>;

export interface SimNetworkOptions {
  clock: FakeClock;
  random: SeededRandom;
  /** Encode and decode every message with the protocol codecs. Default true. */
  encode?: boolean;
  /** One-way delay of a message, uniform in [min, max] ms. Default 1-5. */
  minDelayMs?: number;
  maxDelayMs?: number;
  /** Chance that a message is much slower (delay × 10..50): reorders across connections. Default 0. */
  slowProbability?: number;
  /** Chance that a message is lost. Default 0. */
  dropProbability?: number;
  /** When the sender of a lost request learns it is lost. Default 1000. */
  unreachableAfterMs?: number;
  /** Receives one line per network event (for the simulation's trace hash). */
  trace?: (line: string) => void;
}

interface Link {
  /** Time the last message on this connection arrives: later ones never arrive earlier. */
  lastArrivalMs: number;
}

export interface SimNetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  bytes: number;
}

export class SimNetwork {
  private readonly clock: FakeClock;
  private readonly random: SeededRandom;
  private readonly encode: boolean;
  private minDelayMs: number;
  private maxDelayMs: number;
  private slowProbability: number;
  private dropProbability: number;
  private readonly unreachableAfterMs: number;
  private readonly trace: (line: string) => void;
  private readonly handlers = new Map<number, { handler: SimHandler; incarnation: number }>();
  private incarnations = new Map<number, number>();
  private readonly links = new Map<string, Link>();
  /** Directed pairs `from>to` whose messages are lost. */
  private readonly cuts = new Set<string>();
  /** Requests each node is handling: lost when it crashes (its connections reset), so no sender waits forever. */
  private readonly handling = new Map<number, Set<() => void>>();
  /** Paused nodes, with what waits for them to resume, in order. */
  private readonly held = new Map<number, Array<{ deliver: () => void; lost?: () => void }>>();
  private correlationId = 0;
  readonly stats: SimNetworkStats = { sent: 0, delivered: 0, dropped: 0, bytes: 0 };

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock;
    this.random = options.random;
    this.encode = options.encode !== false;
    this.minDelayMs = options.minDelayMs ?? 1;
    this.maxDelayMs = options.maxDelayMs ?? 5;
    this.slowProbability = options.slowProbability ?? 0;
    this.dropProbability = options.dropProbability ?? 0;
    this.unreachableAfterMs = options.unreachableAfterMs ?? 1000;
    this.trace = options.trace ?? (() => {});
  }

  // --- nodes -------------------------------------------------------------------------------------

  /**
   * Node `nodeId` is up and answers with `handler`. What it sent since its last `detach` (a client
   * sends while it opens, before it can be attached) belongs to this incarnation.
   */
  attach(nodeId: number, handler: SimHandler): void {
    const incarnation = this.incarnations.get(nodeId) ?? 0;
    this.handlers.set(nodeId, { handler, incarnation });
    this.trace(`net attach ${nodeId}#${incarnation}`);
  }

  /** Node `nodeId` is down (a new incarnation begins): everything in flight to or from it is lost. */
  detach(nodeId: number): void {
    this.handlers.delete(nodeId);
    // What a paused node held dies with it: a request to it is lost for its sender, which must
    // not wait forever (seed 277 of the whole-cluster simulation: a follower's OffsetForLeaderEpoch
    // to a paused leader that then crashed never settled, and the follower never fetched again).
    const held = this.held.get(nodeId) ?? [];
    this.held.delete(nodeId);
    for (const message of held) message.lost?.();
    const handling = this.handling.get(nodeId);
    this.handling.delete(nodeId);
    for (const lose of handling ?? []) lose();
    this.incarnations.set(nodeId, (this.incarnations.get(nodeId) ?? 0) + 1);
    this.trace(`net detach ${nodeId}`);
  }

  isAttached(nodeId: number): boolean {
    return this.handlers.has(nodeId);
  }

  /** What node `nodeId`'s quorum sends through. */
  endpoint(nodeId: number): QuorumNetwork {
    return {
      send: <K extends QuorumApiKey>(destinationId: number, apiKey: K, apiVersion: number, body: RequestInput<K>) =>
        this.request(nodeId, destinationId, apiKey, apiVersion, body as AnyBody) as Promise<ResponseBody<K>>,
    };
  }

  // --- faults ------------------------------------------------------------------------------------

  /**
   * Node `nodeId` stops as a process does on SIGSTOP or a long GC pause: nothing it sends leaves
   * and nothing reaches it until `resume`, when what was held goes on in order (late, not lost).
   * Its own timers still run meanwhile (a simplification: it may act on them before resuming).
   */
  pause(nodeId: number): void {
    if (!this.held.has(nodeId)) this.held.set(nodeId, []);
    this.trace(`net pause ${nodeId}`);
  }

  resume(nodeId: number): void {
    const held = this.held.get(nodeId);
    if (!held) return;
    this.held.delete(nodeId);
    this.trace(`net resume ${nodeId} (${held.length} held)`);
    for (const message of held) message.deliver();
  }

  isPaused(nodeId: number): boolean {
    return this.held.has(nodeId);
  }

  /** Messages from `from` to `to` are lost (one way). */
  cut(from: number, to: number): void {
    this.cuts.add(`${from}>${to}`);
    this.trace(`net cut ${from}>${to}`);
  }

  /** Nodes in different groups cannot reach each other (both ways); nodes in no group are untouched. */
  partition(groups: readonly (readonly number[])[]): void {
    for (const [index, group] of groups.entries()) {
      for (const [otherIndex, other] of groups.entries()) {
        if (index === otherIndex) continue;
        for (const from of group) for (const to of other) this.cuts.add(`${from}>${to}`);
      }
    }
    this.trace(`net partition ${groups.map((group) => group.join(',')).join('|')}`);
  }

  /** Cuts `nodeId` off from every node in `others`, both ways. */
  isolate(nodeId: number, others: readonly number[]): void {
    this.partition([[nodeId], others.filter((other) => other !== nodeId)]);
  }

  /** Restores every link. */
  heal(): void {
    this.cuts.clear();
    this.trace('net heal');
  }

  setDropProbability(probability: number): void {
    this.dropProbability = probability;
    this.trace(`net drop ${probability}`);
  }

  setDelay(minDelayMs: number, maxDelayMs: number, slowProbability = this.slowProbability): void {
    this.minDelayMs = minDelayMs;
    this.maxDelayMs = maxDelayMs;
    this.slowProbability = slowProbability;
    this.trace(`net delay ${minDelayMs}-${maxDelayMs} slow ${slowProbability}`);
  }

  isCut(from: number, to: number): boolean {
    return this.cuts.has(`${from}>${to}`);
  }

  // --- delivery ----------------------------------------------------------------------------------

  private arrivalTime(connection: string): number {
    let delay = this.random.int(this.minDelayMs, this.maxDelayMs);
    if (this.slowProbability > 0 && this.random.chance(this.slowProbability)) delay *= this.random.int(10, 50);
    const link = this.links.get(connection) ?? { lastArrivalMs: 0 };
    const arrival = Math.max(this.clock.now() + delay, link.lastArrivalMs);
    link.lastArrivalMs = arrival;
    this.links.set(connection, link);
    return arrival;
  }

  /** Whether a message from `from` to `to` is lost now (a cut, a random drop, or `to` is down). */
  private lost(from: number, to: number): boolean {
    return this.cuts.has(`${from}>${to}`) || !this.handlers.has(to) || (this.dropProbability > 0 && this.random.chance(this.dropProbability));
  }

  /**
   * Any request of any API from node (or client) `from` to node `to`: what brokers, clients and
   * the quorum all travel on. Resolves with the decoded response; rejects with
   * PeerUnreachableError when it is lost. An encoding error (a body the version cannot carry) is
   * thrown at once, as a client's encoder would.
   */
  request(from: number, to: number, apiKey: number, apiVersion: number, body: AnyBody): Promise<AnyBody> {
    const correlationId = ++this.correlationId;
    const senderIncarnation = this.incarnations.get(from) ?? 0;
    this.stats.sent++;
    let payload: AnyBody | Buffer = body;
    if (this.encode) {
      const frame = encodeRequest({ apiKey, apiVersion, correlationId, clientId: `node-${from}` }, body);
      this.stats.bytes += frame.length;
      payload = frame;
    }
    return new Promise<AnyBody>((resolve, reject) => {
      let lost = false;
      const lose = (why: string) => {
        if (lost) return;
        lost = true;
        this.stats.dropped++;
        this.trace(`net lost #${correlationId} ${from}>${to} ${why}`);
        this.clock.setTimeout(() => reject(new PeerUnreachableError(to, why)), this.unreachableAfterMs);
      };
      // A paused process sends nothing until it resumes.
      this.whenRunning(from, () => {
        if (this.lost(from, to)) return lose('request');
        const arrival = this.arrivalTime(`${from}>${to}`);
        this.trace(`net send #${correlationId} ${from}>${to} key ${apiKey} at ${arrival}`);
        this.clock.setTimeout(
          () =>
            this.whenRunning(to, () => {
              const target = this.handlers.get(to);
              if (lost) return;
              if (!target || this.cuts.has(`${from}>${to}`)) return lose('request in flight');
              const incarnation = target.incarnation;
              const request = this.encode ? decodeRequest((payload as Buffer).subarray(4), { strict: true }).body : (payload as AnyBody);
              this.stats.delivered++;
              const crashed = () => lose('responder crashed');
              const handling = this.handling.get(to) ?? new Set<() => void>();
              this.handling.set(to, handling);
              handling.add(crashed);
              let answered: Promise<AnyBody>;
              try {
                answered = target.handler(apiKey, apiVersion, request);
              } catch (error) {
                answered = Promise.reject(error);
              }
              answered.then(
                (response) => {
                  handling.delete(crashed);
                  if (!lost) this.whenRunning(to, () => this.respond({ from, to, apiKey, apiVersion, correlationId, senderIncarnation, incarnation, response, resolve, lose }), () => lose('responder crashed'));
                },
                () => {
                  handling.delete(crashed);
                  lose('no answer');
                },
              );
            }, () => lose('responder crashed')),
          arrival - this.clock.now(),
        );
      });
    });
  }

  /** Runs `deliver` now, or when `nodeId` resumes if it is paused (its kernel holds the bytes meanwhile). */
  private whenRunning(nodeId: number, deliver: () => void, lost?: () => void): void {
    const held = this.held.get(nodeId);
    if (held) held.push({ deliver, lost });
    else deliver();
  }

  private respond(message: {
    from: number;
    to: number;
    apiKey: number;
    apiVersion: number;
    correlationId: number;
    senderIncarnation: number;
    incarnation: number;
    response: AnyBody;
    resolve: (body: AnyBody) => void;
    lose: (why: string) => void;
  }): void {
    const { from, to, apiKey, apiVersion, correlationId } = message;
    if ((this.incarnations.get(to) ?? 0) !== message.incarnation) {
      message.lose('responder crashed');
      return;
    }
    let payload: AnyBody | Buffer = message.response;
    if (this.encode) {
      payload = encodeResponse(apiKey, apiVersion, correlationId, message.response);
      this.stats.bytes += payload.length;
    }
    if (this.cuts.has(`${to}>${from}`) || (this.dropProbability > 0 && this.random.chance(this.dropProbability))) {
      message.lose('response');
      return;
    }
    const arrival = this.arrivalTime(`${to}<${from}`);
    this.clock.setTimeout(() => {
      if ((this.incarnations.get(from) ?? 0) !== message.senderIncarnation) {
        this.trace(`net answer #${correlationId} ${to}>${from} to a crashed sender`);
        return;
      }
      if (this.cuts.has(`${to}>${from}`)) {
        message.lose('response in flight');
        return;
      }
      const body = this.encode ? decodeResponse(apiKey, apiVersion, (payload as Buffer).subarray(4), { strict: true }).body : (payload as AnyBody);
      this.whenRunning(from, () => {
        this.trace(`net answer #${correlationId} ${to}>${from}`);
        message.resolve(body);
      });
    }, arrival - this.clock.now());
  }
}
