/**
 * The striped replica placer: Kafka's own placements for Kafka's MockRandom (a port of it drives
 * ours), and properties over random clusters: distinct replicas, leaders spread evenly over the
 * brokers (and over racks), replicas spread evenly, every rack used once per partition while the
 * replication factor allows.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ControllerError, placeReplicas, type UsableBroker } from '../../src/index.js';
import { seededRandom } from './harness.js';

/** Kafka's MockRandom (server-common test utils): a 64-bit LCG; we take its 31-bit draws. */
function kafkaMockRandom(seed = 17n): () => number {
  let state = seed;
  return () => {
    state = (state * 2862933555777941757n + 3037000493n) & 0xffffffffffffffffn;
    return Number(state >> 33n) / 0x80000000;
  };
}

const brokers = (...ids: number[]): UsableBroker[] => ids.map((id) => ({ id, rack: null }));

function counts(values: number[]): Map<number, number> {
  const result = new Map<number, number>();
  for (const value of values) result.set(value, (result.get(value) ?? 0) + 1);
  return result;
}

describe('placeReplicas', () => {
  it('does not skip a rack after a shuffle (the round counter of Kafka restarts at 0; ours does not)', () => {
    // Two racks of one broker, RF 1: Kafka's counter reset gives one rack most leaderships.
    for (let seed = 0; seed < 50; seed++) {
      const placements = placeReplicas([{ id: 1, rack: 'a' }, { id: 2, rack: 'b' }], 30, 1, seededRandom(seed));
      expect(counts(placements.map((replicas) => replicas[0]))).toEqual(new Map([[1, 15], [2, 15]]));
    }
  });

  it("gives Kafka's placements for Kafka's MockRandom (StripedReplicaPlacerTest.testSuccessfulPlacement)", () => {
    expect(placeReplicas(brokers(0, 3, 2, 1), 5, 3, kafkaMockRandom())).toEqual([[2, 3, 0], [3, 0, 1], [0, 1, 2], [1, 2, 3], [1, 0, 2]]);
  });

  it("spreads 200 partitions as Kafka does (StripedReplicaPlacerTest.testEvenDistribution)", () => {
    const placements = placeReplicas(brokers(0, 1, 2, 3), 200, 2, kafkaMockRandom());
    const pairs = new Map<string, number>();
    for (const replicas of placements) pairs.set(replicas.join(','), (pairs.get(replicas.join(',')) ?? 0) + 1);
    expect(Object.fromEntries(pairs)).toEqual({
      '0,1': 14, '0,2': 22, '0,3': 14, '1,0': 17, '1,2': 17, '1,3': 16, '2,0': 13, '2,1': 17, '2,3': 20, '3,0': 20, '3,1': 19, '3,2': 11,
    });
  });

  it('refuses a replication factor that is not positive or above the live brokers', () => {
    const random = seededRandom(1);
    expect(() => placeReplicas(brokers(1, 2), 1, 0, random)).toThrow(ControllerError);
    expect(() => placeReplicas(brokers(1, 2), 1, 3, random)).toThrow(/only 2 broker\(s\) are live/);
    expect(() => placeReplicas([], 1, 1, random)).toThrow(/no live brokers/);
  });

  it('without racks: distinct replicas, each broker leads floor or ceil of P/N partitions and holds between floor(P/N)*RF and ceil(P/N)*RF replicas', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 8 }), fc.integer(),
      (brokerCount, partitionCount, wantedFactor, seed) => {
        const factor = Math.min(wantedFactor, brokerCount);
        const ids = Array.from({ length: brokerCount }, (_, index) => index * 3 + 1);
        const placements = placeReplicas(brokers(...ids), partitionCount, factor, seededRandom(seed));
        const problems: string[] = [];
        if (placements.length !== partitionCount) problems.push(`${placements.length} placements`);
        for (const replicas of placements) {
          if (new Set(replicas).size !== factor || replicas.some((id) => !ids.includes(id))) problems.push(`bad replicas ${replicas}`);
        }
        const leaders = counts(placements.map((replicas) => replicas[0]));
        const replicaCounts = counts(placements.flat());
        const low = Math.floor(partitionCount / brokerCount);
        const high = Math.ceil(partitionCount / brokerCount);
        for (const id of ids) {
          const led = leaders.get(id) ?? 0;
          const held = replicaCounts.get(id) ?? 0;
          if (led < low || led > high) problems.push(`broker ${id} leads ${led}`);
          if (held < low * factor || held > high * factor) problems.push(`broker ${id} holds ${held}`);
        }
        expect(problems).toEqual([]);
      },
    ), { numRuns: 100 });
  });

  it('with equal racks: every partition uses min(RF, racks) racks, each rack leads floor or ceil of P/R partitions, replica counts per rack differ by at most RF', () => {
    fc.assert(fc.property(
      fc.integer({ min: 2, max: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 60 }), fc.integer({ min: 1, max: 6 }), fc.integer(),
      (rackCount, perRack, partitionCount, wantedFactor, seed) => {
        const all: UsableBroker[] = [];
        for (let rack = 0; rack < rackCount; rack++) for (let index = 0; index < perRack; index++) all.push({ id: rack * 10 + index, rack: `rack-${rack}` });
        const factor = Math.min(wantedFactor, all.length);
        const rackOf = (id: number) => Math.floor(id / 10);
        const placements = placeReplicas(all, partitionCount, factor, seededRandom(seed));
        const problems: string[] = [];
        for (const replicas of placements) {
          if (new Set(replicas).size !== factor) problems.push(`repeated broker in ${replicas}`);
          if (new Set(replicas.map(rackOf)).size !== Math.min(factor, rackCount)) problems.push(`racks of ${replicas}`);
        }
        const leadersPerRack = counts(placements.map((replicas) => rackOf(replicas[0])));
        const replicasPerRack = counts(placements.flat().map(rackOf));
        const rackReplicaCounts = Array.from({ length: rackCount }, (_, rack) => replicasPerRack.get(rack) ?? 0);
        if (Math.max(...rackReplicaCounts) - Math.min(...rackReplicaCounts) > factor) problems.push(`replicas per rack ${rackReplicaCounts}`);
        for (let rack = 0; rack < rackCount; rack++) {
          const led = leadersPerRack.get(rack) ?? 0;
          if (led < Math.floor(partitionCount / rackCount) || led > Math.ceil(partitionCount / rackCount)) problems.push(`rack ${rack} leads ${led}`);
        }
        expect(problems).toEqual([]);
      },
    ), { numRuns: 100 });
  });
});
