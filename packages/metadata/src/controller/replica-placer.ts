/**
 * Replica placement for new topics and added partitions, as Kafka's StripedReplicaPlacer: replicas
 * go round-robin over the racks (brokers without a rack form one rack of their own), and within a
 * rack round-robin over its brokers, each list starting at a random offset that advances by one
 * per partition. So consecutive partitions get "striped" assignments (A0 B0 C0, B1 C1 A1, ...):
 * every rack holds at most one replica of a partition while RF does not exceed the racks, and the
 * first replica (the preferred leader) visits every broker once per as many partitions as there
 * are brokers. After that many partitions the lists are shuffled, so a large topic does not repeat
 * one pattern. Deterministic given the injected random source. Pure; no state outlives a call.
 *
 * Only live brokers (unfenced, not shutting down) are placed on: Gregor checks the replication
 * factor against them (see docs/decisions.md), so every new partition starts with a full ISR.
 *
 * One departure from Kafka (docs/decisions.md): Kafka restarts its round counter at 0 after each
 * shuffle, so a rack whose broker list was last used in round 0 of the previous cycle believes it
 * was already used in this round and is skipped; with one broker per rack and RF below the rack
 * count, that skews leadership badly (26 of 30 leaders on one of two racks). Here rounds are
 * numbered without restarting. With a single rack both give the same placements.
 */
import assert from 'node:assert/strict';
import { ControllerError } from './errors.js';
import type { Random } from './interfaces.js';

export interface UsableBroker {
  id: number;
  rack: string | null;
}

/** A list of brokers iterated from a moving offset; `next` returns -1 once each was returned in this round. */
class BrokerList {
  readonly brokers: number[] = [];
  private index = 0;
  private offset = 0;
  private round = 0;

  initialize(random: Random): void {
    this.brokers.sort((a, b) => a - b);
    this.offset = nextInt(random, this.brokers.length);
  }

  shuffle(random: Random): void {
    shuffle(this.brokers, random);
  }

  next(round: number): number {
    if (this.round !== round) {
      this.round = round;
      this.index = 0;
      this.offset = (this.offset + 1) % this.brokers.length;
    }
    if (this.index >= this.brokers.length) return -1;
    const broker = this.brokers[(this.index + this.offset) % this.brokers.length];
    this.index++;
    return broker;
  }
}

/** The racks of the usable brokers, iterated round-robin from a moving offset. */
class RackList {
  private readonly racks = new Map<string | null, BrokerList>();
  private readonly rackNames: (string | null)[] = [];
  private readonly brokerCount: number;
  /** Placements so far; each is one round of the broker lists. Never reset (see placeReplicas). */
  private round = 0;
  private placementsSinceShuffle = 0;
  private offset: number;

  constructor(private readonly random: Random, brokers: readonly UsableBroker[]) {
    for (const broker of brokers) {
      let rack = this.racks.get(broker.rack);
      if (rack === undefined) {
        rack = new BrokerList();
        this.racks.set(broker.rack, rack);
        this.rackNames.push(broker.rack);
      }
      rack.brokers.push(broker.id);
    }
    for (const rack of this.racks.values()) rack.initialize(random);
    // Kafka sorts the rack names with "no rack" first.
    this.rackNames.sort((a, b) => (a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1));
    this.brokerCount = brokers.length;
    this.offset = nextInt(random, this.rackNames.length);
  }

  place(replicationFactor: number): number[] {
    // After as many partitions as brokers, shuffle so the next ones do not repeat the same stripes
    // (not with a single broker: there is nothing to vary, and the round would never end).
    if (this.placementsSinceShuffle === this.brokerCount && this.brokerCount > 1) {
      shuffle(this.rackNames, this.random);
      for (const rack of this.racks.values()) rack.shuffle(this.random);
      this.placementsSinceShuffle = 0;
    }
    if (this.offset === this.rackNames.length) this.offset = 0;
    const replicas: number[] = [];
    let firstRackIndex = this.offset;
    for (;;) {
      const leader = this.rackAt(firstRackIndex).next(this.round);
      if (leader >= 0) {
        replicas.push(leader);
        break;
      }
      firstRackIndex = (firstRackIndex + 1) % this.rackNames.length;
    }
    // The followers start from the same rack offset; the rack the leader came from is skipped
    // once, so the second replica comes from another rack whenever there is one.
    let rackIndex = this.offset;
    let skipRack = firstRackIndex;
    while (replicas.length < replicationFactor) {
      let replica = -1;
      do {
        if (rackIndex === skipRack) skipRack = -1;
        else replica = this.rackAt(rackIndex).next(this.round);
        rackIndex = (rackIndex + 1) % this.rackNames.length;
      } while (replica < 0);
      replicas.push(replica);
    }
    this.round++;
    this.placementsSinceShuffle++;
    this.offset++;
    return replicas;
  }

  private rackAt(index: number): BrokerList {
    const rack = this.racks.get(this.rackNames[index]);
    assert.ok(rack !== undefined);
    return rack;
  }
}

/**
 * Replica lists for `partitionCount` new partitions of `replicationFactor` replicas each, first
 * replica first (the preferred leader). INVALID_REPLICATION_FACTOR when the factor is not positive
 * or exceeds the usable brokers.
 */
export function placeReplicas(brokers: readonly UsableBroker[], partitionCount: number, replicationFactor: number, random: Random): number[][] {
  if (replicationFactor <= 0) {
    throw new ControllerError('INVALID_REPLICATION_FACTOR', `Invalid replication factor ${replicationFactor}: the replication factor must be positive.`);
  }
  if (brokers.length === 0) throw new ControllerError('INVALID_REPLICATION_FACTOR', 'There are no live brokers.');
  if (replicationFactor > brokers.length) {
    throw new ControllerError(
      'INVALID_REPLICATION_FACTOR',
      `The target replication factor of ${replicationFactor} cannot be reached because only ${brokers.length} broker(s) are live.`,
    );
  }
  const racks = new RackList(random, brokers);
  const placements: number[][] = [];
  for (let partition = 0; partition < partitionCount; partition++) {
    const replicas = racks.place(replicationFactor);
    assert.equal(new Set(replicas).size, replicationFactor, 'a placement never repeats a broker');
    placements.push(replicas);
  }
  return placements;
}

/**
 * java.util.Random.nextInt(bound) over 31-bit draws from `random`, so the same draws give Kafka's
 * placements exactly (a port of Kafka's MockRandom reproduces its placer tests).
 */
function nextInt(random: Random, bound: number): number {
  assert.ok(bound > 0);
  const next31 = () => Math.floor(random() * 0x80000000);
  let draw = next31();
  if ((bound & (bound - 1)) === 0) return Math.floor(draw / (0x80000000 / bound));
  let value = draw % bound;
  // Java rejects the draws from the last, incomplete run of `bound` values (the int overflow test).
  while (draw - value + (bound - 1) > 0x7fffffff) {
    draw = next31();
    value = draw % bound;
  }
  return value;
}

/** Fisher-Yates from the end, as java.util.Collections.shuffle. */
function shuffle<T>(items: T[], random: Random): void {
  for (let index = items.length - 1; index > 0; index--) {
    const other = nextInt(random, index + 1);
    [items[index], items[other]] = [items[other], items[index]];
  }
}
