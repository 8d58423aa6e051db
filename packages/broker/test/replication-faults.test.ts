/**
 * Replication under random faults (cluster-harness.ts): three brokers, one topic with replication
 * factor 3 and min.insync.replicas 2, and a seeded random run of produces (acks=all and acks=1),
 * broker crashes (some losing their unsynced writes), restarts, links cut and healed, and time
 * passing. After every step a checker verifies:
 *   - every record acknowledged with acks=all is in the leader's log at its offset;
 *   - a replica's high watermark never moves back (per broker run) and never passes its log end;
 *   - the leader is a member of the ISR it was elected from;
 *   - two replicas hold the same records below both of their high watermarks;
 * and after healing (links back, every broker restarted, time to catch up): every replica's log is
 * identical, every acknowledged record is in it once, at its offset.
 *
 * GREGOR_REPLICATION_SEEDS sets how many seeds run (CI: the default); a failure names its seed, and
 * GREGOR_REPLICATION_SEED=<n> runs that one again exactly.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { decodeBatch, forEachBatch } from '@gregor/records';
import type { Body, Broker } from '@gregor/broker';
import { batch, seededRandom } from './helpers.js';
import { TestCluster } from './cluster-harness.js';

const SEEDS = process.env.GREGOR_REPLICATION_SEED !== undefined
  ? [Number(process.env.GREGOR_REPLICATION_SEED)]
  : Array.from({ length: Number(process.env.GREGOR_REPLICATION_SEEDS ?? 24) }, (_, index) => index + 1);
const STEPS = 30;
const IDS = [0, 1, 2];

interface Acknowledged { offset: number; value: string }

let cluster: TestCluster | undefined;
afterEach(async () => {
  await cluster?.close();
  cluster = undefined;
});

/** Every record in the replica's log on `broker`: offset → value. */
function logOf(broker: Broker): Map<number, string> {
  const partition = broker.partition('t', 0);
  const result = new Map<number, string>();
  if (partition === undefined) return result;
  const { records } = partition.log.read(partition.logStartOffset, { maxBytes: 64 << 20, minOneBatch: true });
  forEachBatch(records, (position) => {
    for (const record of decodeBatch(records, position).records()) result.set(record.offset, record.value?.toString() ?? '');
  });
  return result;
}

async function runSeed(seed: number): Promise<void> {
  const random = seededRandom(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const c = await TestCluster.start(3, { replicaLagTimeMaxMs: 2_000, replicaFetchBackoffMs: 100 });
  cluster = c;
  c.controller.createTopic('t', [[0, 1, 2]], { 'min.insync.replicas': '2' });
  await c.settle(50);
  const acknowledged: Acknowledged[] = [];
  const dead = new Set<number>();
  const cut = new Set<string>();
  // The highest HW each broker run (object) has shown: it must never be seen lower.
  const highWatermarks = new WeakMap<Broker, number>();
  const live = () => IDS.filter((id) => !dead.has(id)).map((id) => c.broker(id));
  let step = 0;
  let action = 'start';

  const check = (): void => {
    const where = `seed ${seed}, step ${step} (${action})`;
    const registration = c.controller.partition('t', 0);
    if (registration.leader >= 0) expect(registration.isr, `${where}: the leader is in the ISR`).toContain(registration.leader);
    const logs = new Map<number, { log: Map<number, string>; hw: number }>();
    for (const broker of live()) {
      const replica = broker.partition('t', 0);
      if (replica === undefined) continue;
      const hw = replica.highWatermark;
      expect(hw, `${where}: broker ${broker.nodeId}'s HW moved back`).toBeGreaterThanOrEqual(highWatermarks.get(broker) ?? 0);
      expect(hw, `${where}: broker ${broker.nodeId}'s HW passed its log end`).toBeLessThanOrEqual(replica.logEndOffset);
      highWatermarks.set(broker, hw);
      logs.set(broker.nodeId, { log: logOf(broker), hw });
    }
    const leader = logs.get(registration.leader);
    if (leader !== undefined) {
      for (const { offset, value } of acknowledged) expect(leader.log.get(offset), `${where}: acknowledged ${value} at ${offset} is missing on leader ${registration.leader}`).toBe(value);
    }
    const entries = [...logs.entries()];
    for (let a = 0; a < entries.length; a++) {
      for (let b = a + 1; b < entries.length; b++) {
        const [idA, one] = entries[a] as [number, { log: Map<number, string>; hw: number }];
        const [idB, other] = entries[b] as [number, { log: Map<number, string>; hw: number }];
        for (let offset = 0; offset < Math.min(one.hw, other.hw); offset++) {
          if (!one.log.has(offset) || !other.log.has(offset)) continue;
          expect(one.log.get(offset), `${where}: brokers ${idA} and ${idB} differ at ${offset}, below both HWs`).toBe(other.log.get(offset));
        }
      }
    }
  };

  for (step = 0; step < STEPS; step++) {
    const roll = random();
    const leaderId = c.controller.partition('t', 0).leader;
    if (roll < 0.45) {
      const acks = random() < 0.75 ? -1 : 1;
      const value = `s${seed}-${step}`;
      action = `produce ${value} acks=${acks} to ${leaderId}`;
      if (leaderId >= 0 && !dead.has(leaderId)) {
        const body: Body = { transactionalId: null, acks, timeoutMs: 3_000, topicData: [{ name: 't', partitionData: [{ index: 0, records: batch([value]) }] }] };
        const response = (await c.settleUntil(c.broker(leaderId).handle(ApiKey.Produce, 9, body), 10_000, 20)) as Body;
        const answer = response.responses[0].partitionResponses[0];
        if (acks === -1 && answer.errorCode === ErrorCode.NONE) acknowledged.push({ offset: answer.baseOffset, value });
      }
    } else if (roll < 0.6 && dead.size < 2) {
      const id = pick(IDS.filter((candidate) => !dead.has(candidate)));
      // Losing unsynced writes is survivable when the other two replicas are up and in the ISR.
      const isr = c.controller.partition('t', 0).isr;
      const powerLoss = dead.size === 0 && isr.length === 3 && random() < 0.5;
      action = `kill ${id}${powerLoss ? ' with power loss' : ''}`;
      c.kill(id, { powerLoss });
      dead.add(id);
    } else if (roll < 0.72 && dead.size > 0) {
      const id = pick([...dead]);
      action = `restart ${id}`;
      dead.delete(id);
      await c.startBroker(id);
    } else if (roll < 0.84) {
      const [a, b] = [pick(IDS), pick(IDS)];
      if (a === b) continue;
      const key = `${Math.min(a, b)}-${Math.max(a, b)}`;
      if (cut.has(key)) {
        action = `heal ${key}`;
        cut.delete(key);
        c.network.healLink(a, b);
      } else {
        action = `cut ${key}`;
        cut.add(key);
        c.network.cutLink(a, b);
      }
    } else {
      const ms = 100 + Math.floor(random() * 3_000);
      action = `wait ${ms} ms`;
      await c.settle(ms, 20);
    }
    check();
  }

  // Healing: every link back, every broker up, time to catch up and rejoin the ISR.
  action = 'heal everything';
  for (const key of cut) {
    const [a, b] = key.split('-').map(Number) as [number, number];
    c.network.healLink(a, b);
  }
  for (const id of dead) await c.startBroker(id);
  dead.clear();
  for (let waited = 0; waited < 30_000 && c.controller.partition('t', 0).isr.length < 3; waited += 500) await c.settle(500, 20);
  await c.settle(1_000, 20);
  check();
  const registration = c.controller.partition('t', 0);
  expect(registration.isr, `seed ${seed}: every replica back in the ISR`).toEqual(expect.arrayContaining(IDS));
  const leaderLog = logOf(c.broker(registration.leader));
  for (const id of IDS) expect([...logOf(c.broker(id))], `seed ${seed}: broker ${id}'s log after healing`).toEqual([...leaderLog]);
  const values = [...leaderLog.values()];
  expect(new Set(values).size, `seed ${seed}: a record is in the log twice`).toBe(values.length);
  for (const { offset, value } of acknowledged) expect(leaderLog.get(offset), `seed ${seed}: acknowledged ${value}`).toBe(value);
}

describe('replication under random faults', () => {
  for (const seed of SEEDS) {
    it(`loses no acknowledged record and keeps replicas consistent (seed ${seed}; replay: GREGOR_REPLICATION_SEED=${seed} pnpm vitest run --project broker replication-faults)`, async () => {
      await runSeed(seed);
    }, 120_000);
  }
});
