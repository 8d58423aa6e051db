/**
 * Damage in a broker's data directory, on the real file system and MemoryFileSystem alike: bit
 * flips and cuts in `__consumer_offsets` and in a topic's segments, and unreadable checkpoints,
 * each after a clean stop and after a crash. The broker always starts; committed offsets survive
 * unless their own batch was damaged (then the group's previous commit shows); Fetch serves the
 * batches before a damaged one and answers CORRUPT_MESSAGE only at it; nothing with a bad CRC is
 * served; the damage is reported through the broker's logger.
 */
import nodeFs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ErrorCode, ApiKey } from '@gregor/protocol';
import { decodeBatch, isBatchCrcValid, readBatchHeader } from '@gregor/records';
import { FakeClock, MemoryFileSystem, nodeFileSystem, type FileSystem } from '@gregor/log';
import { Broker, decodeOffsetsTopicKey, decodeOffsetCommitValue, type Body } from '@gregor/broker';
import { batch, createTopic, fetchPartition, produce, seededRandom } from './helpers.js';

const GROUPS = 8;
const ROUNDS = 3;
const CONFIG = { groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 1, offsetsTopicSegmentBytes: 700 };

interface Backend {
  fs: FileSystem;
  dir: string;
  memory?: MemoryFileSystem;
  cleanup(): void;
}

const backends: [string, () => Backend][] = [
  ['node', () => {
    // A RAM-backed directory when there is one: real files, without an fsync per file on a shared disk.
    const root = nodeFs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();
    const dir = nodeFs.mkdtempSync(path.join(root, 'gregor-broker-damage-'));
    return { fs: nodeFileSystem, dir, cleanup: () => nodeFs.rmSync(dir, { recursive: true, force: true }) };
  }],
  ['memory', () => {
    const memory = new MemoryFileSystem({ seed: 3 });
    return { fs: memory, memory, dir: '/data', cleanup: () => {} };
  }],
];

interface Warning {
  message: string;
  code: unknown;
}

/** Where each batch of a partition lies on disk, and the commit it holds for `__consumer_offsets`. */
interface Placed {
  file: string;
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
  commit?: { groupId: string; offset: number };
}

function layout(fs: FileSystem, partitionDir: string): Placed[] {
  const placed: Placed[] = [];
  for (const name of fs.readdir(partitionDir).filter((entry) => /^\d{20}\.log$/.test(entry)).sort()) {
    const file = path.join(partitionDir, name);
    const bytes = fs.readFile(file);
    for (let position = 0; position < bytes.length; ) {
      const header = readBatchHeader(bytes, position);
      const entry: Placed = { file, position, sizeBytes: header.sizeBytes, baseOffset: header.baseOffset, lastOffset: header.lastOffset };
      for (const record of decodeBatch(bytes, position).records()) {
        const key = record.key === null ? undefined : decodeOffsetsTopicKey(record.key);
        if (key?.kind === 'offset' && record.value !== null) entry.commit = { groupId: key.groupId, offset: decodeOffsetCommitValue(record.value).offset };
      }
      placed.push(entry);
      position += header.sizeBytes;
    }
  }
  return placed;
}

function flipBit(fs: FileSystem, file: string, position: number): void {
  const bytes = fs.readFile(file);
  const handle = fs.openFile(file);
  handle.write(Buffer.from([bytes[position] ^ 0x08]), 0, 1, position);
  handle.close();
}

function cut(fs: FileSystem, file: string, length: number): void {
  const handle = fs.openFile(file);
  handle.truncate(length);
  handle.close();
}

describe.each(backends)('a damaged broker data dir on %s', (_name, makeBackend) => {
  let backend: Backend;
  let broker: Broker | undefined;
  beforeEach(() => {
    backend = makeBackend();
  });
  afterEach(async () => {
    await broker?.close();
    broker = undefined;
    backend.cleanup();
  });

  const open = (warnings: Warning[]) =>
    Broker.open({ dir: backend.dir, fs: backend.fs, clock: new FakeClock(), random: seededRandom(), config: CONFIG, logger: { warn: (message, fields) => warnings.push({ message, code: fields?.code }) } });

  const commit = async (groupId: string, offset: number): Promise<void> => {
    const response = (await (broker as Broker).handle(ApiKey.OffsetCommit, 8, {
      groupId, generationIdOrMemberEpoch: -1, memberId: '', groupInstanceId: null,
      topics: [{ name: 't', partitions: [{ partitionIndex: 0, committedOffset: offset, committedLeaderEpoch: 0, committedMetadata: '' }] }],
    })) as Body;
    expect(response.topics[0].partitions[0].errorCode).toBe(ErrorCode.NONE);
  };

  const committed = async (groupId: string): Promise<number> => {
    const response = (await (broker as Broker).handle(ApiKey.OffsetFetch, 7, { groupId, topics: [{ name: 't', partitionIndexes: [0] }], requireStable: false })) as Body;
    return response.topics[0].partitions[0].committedOffset;
  };

  /** Topic `t` with small segments and 30 batches of 2 records; ROUNDS commits by each of GROUPS groups. */
  async function populate(stop: 'clean stop' | 'crash'): Promise<void> {
    broker = await open([]);
    await createTopic(broker, 't', 1, [{ name: 'segment.bytes', value: '700' }]);
    for (let i = 0; i < 30; i++) expect(await produce(broker, 't', 0, batch([`r${i}-0`, `r${i}-1`]))).toMatchObject({ errorCode: 0 });
    for (let round = 1; round <= ROUNDS; round++) for (let group = 0; group < GROUPS; group++) await commit(`g${group}`, round * 100 + group);
    if (stop === 'clean stop') await broker.close();
    else {
      for (const partition of broker.replicaManager?.all() ?? []) partition.log.flush();
      broker.kill();
      backend.memory?.crash();
    }
    broker = undefined;
  }

  /** Every group's committed offset is its last commit, or for `damagedGroup` an earlier one (or none). */
  async function expectCommitsSurvive(damagedGroup: string | undefined): Promise<void> {
    for (let group = 0; group < GROUPS; group++) {
      const offset = await committed(`g${group}`);
      if (`g${group}` === damagedGroup) expect([-1, ...Array.from({ length: ROUNDS }, (_, round) => (round + 1) * 100 + group)]).toContain(offset);
      else expect(offset, `g${group}`).toBe(ROUNDS * 100 + group);
    }
  }

  /** Fetches t-0 from 0 to the end, skipping a CORRUPT_MESSAGE batch as a consumer that seeks past it; returns the values read. */
  async function consumeAll(): Promise<{ values: string[]; corruptAt: number[] }> {
    const values: string[] = [];
    const corruptAt: number[] = [];
    const partition = (broker as Broker).partition('t', 0);
    let offset = 0;
    while (offset < (partition?.highWatermark ?? 0)) {
      const response = await fetchPartition(broker as Broker, 't', 0, offset, { partitionMaxBytes: 300 });
      if (response.errorCode === ErrorCode.CORRUPT_MESSAGE) {
        corruptAt.push(offset);
        offset += 1;
        continue;
      }
      expect(response.errorCode).toBe(ErrorCode.NONE);
      const records: Buffer = response.records;
      if (records.length === 0) break;
      for (let position = 0; position < records.length; position += records.readInt32BE(position + 8) + 12) {
        expect(isBatchCrcValid(records, position)).toBe(true);
        for (const record of decodeBatch(records, position).records()) {
          if (record.offset >= offset) values.push(record.value?.toString() ?? '');
          offset = Math.max(offset, record.offset + 1);
        }
      }
    }
    return { values, corruptAt };
  }

  const allValues = Array.from({ length: 30 }, (_, i) => [`r${i}-0`, `r${i}-1`]).flat();

  describe.each(['clean stop', 'crash'] as const)('after a %s', (stop) => {
    it.each([
      ['a flipped bit in a closed __consumer_offsets segment', 'closed', 'flip'],
      ['a cut in the middle of a closed __consumer_offsets segment', 'closed', 'cut'],
      ['a flipped bit in the active __consumer_offsets segment', 'active', 'flip'],
    ] as const)('%s: the broker starts, other groups keep their offsets', async (_label, which, kind) => {
      await populate(stop);
      const offsetsDir = path.join(backend.dir, '__consumer_offsets-0');
      const placed = layout(backend.fs, offsetsDir);
      const files = [...new Set(placed.map((entry) => entry.file))];
      expect(files.length).toBeGreaterThanOrEqual(3);
      // The last commit of the group whose final commit sits in the chosen segment.
      const file = which === 'closed' ? files[1] : files[files.length - 1];
      const candidates = placed.filter((entry) => entry.file === file && entry.commit !== undefined);
      const victim = candidates[Math.floor(candidates.length / 2)];
      if (kind === 'flip') flipBit(backend.fs, file, victim.position + victim.sizeBytes - 3);
      else cut(backend.fs, file, victim.position + 20);
      // A cut costs every commit after it in that segment.
      const damaged = kind === 'cut' ? candidates.filter((entry) => entry.position >= victim.position) : [victim];
      const damagedGroups = new Set(damaged.map((entry) => entry.commit?.groupId));

      const warnings: Warning[] = [];
      broker = await open(warnings);
      for (let group = 0; group < GROUPS; group++) {
        const offset = await committed(`g${group}`);
        if (damagedGroups.has(`g${group}`)) expect([-1, ...Array.from({ length: ROUNDS }, (_, round) => (round + 1) * 100 + group)]).toContain(offset);
        else expect(offset, `g${group}`).toBe(ROUNDS * 100 + group);
      }
      expect(warnings.length).toBeGreaterThan(0);
      // New commits work and survive a clean restart, which has nothing left to report about __consumer_offsets.
      await commit('g0', 999);
      await broker.close();
      const again: Warning[] = [];
      broker = await open(again);
      expect(await committed('g0')).toBe(999);
      expect((await consumeAll()).values).toEqual(allValues);
    });

    it('a flipped bit in a closed segment of a topic: fetches serve the batches around it and CORRUPT_MESSAGE only at it', async () => {
      await populate(stop);
      const placed = layout(backend.fs, path.join(backend.dir, 't-0'));
      const files = [...new Set(placed.map((entry) => entry.file))];
      const inSecond = placed.filter((entry) => entry.file === files[1]);
      const victim = inSecond[Math.floor(inSecond.length / 2)];
      flipBit(backend.fs, victim.file, victim.position + victim.sizeBytes - 3);
      const warnings: Warning[] = [];
      broker = await open(warnings);
      await expectCommitsSurvive(undefined);
      // A fetch from before the damage gets the good batches up to it.
      const before = await fetchPartition(broker, 't', 0, victim.baseOffset - 2);
      expect(before.errorCode).toBe(ErrorCode.NONE);
      expect(readBatchHeader(before.records, 0).baseOffset).toBe(victim.baseOffset - 2);
      const { values, corruptAt } = await consumeAll();
      const lost = [`r${victim.baseOffset / 2}-0`, `r${victim.baseOffset / 2}-1`];
      expect(values).toEqual(allValues.filter((value) => !lost.includes(value)));
      if (stop === 'clean stop') {
        // Not re-read at a clean start: the damage is found by the fetch, reported once, and left in place.
        expect(corruptAt).toEqual([victim.baseOffset, victim.baseOffset + 1]);
        expect(warnings.filter((warning) => warning.code === 'CORRUPT_BATCH_READ')).toHaveLength(1);
      }
      expect(warnings.length).toBeGreaterThan(0);
    });

    it.each([
      ['recovery-point-offset-checkpoint'],
      ['log-start-offset-checkpoint'],
      ['t-0/leader-epoch-checkpoint'],
      ['__consumer_offsets-0/leader-epoch-checkpoint'],
    ])('garbage in %s: the broker starts with every record and offset', async (name) => {
      await populate(stop);
      backend.fs.writeFileAtomic(path.join(backend.dir, name), Buffer.from('garbage\n'));
      const warnings: Warning[] = [];
      broker = await open(warnings);
      await expectCommitsSurvive(undefined);
      expect((await consumeAll()).values).toEqual(allValues);
      expect(warnings.map((warning) => warning.code)).toContain('CHECKPOINT_UNREADABLE');
      expect(backend.fs.exists(path.join(backend.dir, `${name}.corrupt`))).toBe(true);
    });
  });
});
