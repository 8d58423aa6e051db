/**
 * The damage matrix of one partition log, over the real file system and MemoryFileSystem alike:
 * truncation and bit flips in the active and in closed segments, in their indexes and in the three
 * checkpoints, each after a clean stop and after a crash. For every case the log opens; every
 * record outside the damaged batches is readable at its offset (by a sequential read and by a read
 * at that very offset); no batch with a bad CRC is ever returned; recovery removes only bytes it
 * copied aside to a `.corrupt` file; whatever is lost is reported; the log keeps appending; and a
 * second open finds nothing more to repair. `GREGOR_DAMAGE_SEEDS=N` adds N random flips and cuts
 * per segment target (anywhere in the file) to the fixed cases.
 */
import nodeFs from 'node:fs';
import path from 'node:path';
import { isBatchCrcValid, readBatchHeader } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FakeClock,
  type FileSystem,
  LEADER_EPOCH_CHECKPOINT_FILE,
  LOG_START_OFFSET_CHECKPOINT_FILE,
  LogCorruptionError,
  LogManager,
  nodeFileSystem,
  type PartitionLog,
  RECOVERY_POINT_CHECKPOINT_FILE,
  recoverChannel,
} from '../src/index.js';
import { type Backend, backends, batchOf, overwriteFile, recordsOf, truncateFile } from './helpers.js';

const CONFIG = { segmentBytes: 800, indexIntervalBytes: 150, segmentIndexBytes: 4096 };
const BATCHES = 28;
const RECORDS_PER_BATCH = 3;
const EXTRA_SEEDS = Number(process.env.GREGOR_DAMAGE_SEEDS ?? 0);

interface Warning {
  message: string;
  fields: Record<string, unknown>;
}

/** One batch as written, where it lies on disk. */
interface Placed {
  file: string;
  position: number;
  sizeBytes: number;
  baseOffset: number;
  lastOffset: number;
}

interface Written {
  values: Map<number, string>;
  timestamps: Map<number, number>;
  batches: Placed[];
  segmentFiles: string[];
  epochs: { epoch: number; startOffset: number }[];
}

/**
 * Applies one damage; returns the batches it may cost (none for index and checkpoint damage). A
 * cut at a batch boundary of the active segment after a crash looks exactly like unsynced appends
 * lost in the crash, so nothing can report it: such a case returns `{ batches, silentAfterCrash }`.
 */
type Damage = (fs: FileSystem, dir: string, written: Written) => Placed[] | { batches: Placed[]; silentAfterCrash: true };

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function flipBit(fs: FileSystem, file: string, position: number, bit: number): void {
  const byte = Buffer.from(fs.readFile(file).subarray(position, position + 1));
  byte[0] ^= 1 << bit;
  overwriteFile(fs, file, position, byte);
}

/** The batches of a file whose bytes lie at or after `position` (a cut), or that hold `position` (a flip). */
function batchesFrom(written: Written, file: string, position: number): Placed[] {
  return written.batches.filter((batch) => batch.file === file && batch.position + batch.sizeBytes > position);
}
function batchAt(written: Written, file: string, position: number): Placed[] {
  return written.batches.filter((batch) => batch.file === file && batch.position <= position && position < batch.position + batch.sizeBytes);
}

/** A middle batch of the active (last) or of a closed (second) segment. */
function target(written: Written, which: 'active' | 'closed'): Placed {
  const file = which === 'active' ? written.segmentFiles[written.segmentFiles.length - 1] : written.segmentFiles[1];
  const inFile = written.batches.filter((batch) => batch.file === file);
  expect(inFile.length).toBeGreaterThanOrEqual(3);
  return inFile[Math.floor(inFile.length / 2)];
}

function segmentCases(which: 'active' | 'closed'): [string, Damage][] {
  const cases: [string, Damage][] = [
    [`cut in the middle of a batch of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      truncateFile(fs, batch.file, batch.position + Math.floor(batch.sizeBytes / 2));
      return batchesFrom(written, batch.file, batch.position);
    }],
    [`cut at a batch boundary of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      truncateFile(fs, batch.file, batch.position);
      const batches = batchesFrom(written, batch.file, batch.position);
      return which === 'active' ? { batches, silentAfterCrash: true } : batches;
    }],
    [`bit flip in the records of a batch of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      flipBit(fs, batch.file, batch.position + 64, 3);
      return [batch];
    }],
    [`bit flip in the length field of a batch of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      flipBit(fs, batch.file, batch.position + 11, 2);
      return [batch];
    }],
    [`bit flip in the baseOffset (not CRC-covered) of a batch of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      flipBit(fs, batch.file, batch.position + 7, 1);
      return [batch];
    }],
    [`bit flip in a high bit of the baseOffset of a batch of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      flipBit(fs, batch.file, batch.position + 3, 4);
      return [batch];
    }],
    [`bit flip in the magic byte of a batch of the ${which} segment`, (fs, _dir, written) => {
      const batch = target(written, which);
      flipBit(fs, batch.file, batch.position + 16, 0);
      return [batch];
    }],
  ];
  for (let seed = 1; seed <= EXTRA_SEEDS; seed++) {
    cases.push([`random bit flip #${seed} in the ${which} segment`, (fs, _dir, written) => {
      const file = target(written, which).file;
      const size = fs.readFile(file).length;
      const position = Math.floor(seeded(seed)() * size);
      flipBit(fs, file, position, seed % 8);
      return batchAt(written, file, position);
    }]);
    cases.push([`random cut #${seed} in the ${which} segment`, (fs, _dir, written) => {
      const file = target(written, which).file;
      const position = Math.floor(seeded(seed * 7919)() * fs.readFile(file).length);
      truncateFile(fs, file, position);
      return batchesFrom(written, file, position);
    }]);
  }
  return cases;
}

function indexCases(): [string, Damage][] {
  const indexOf = (written: Written, which: 'active' | 'closed', suffix: string) => {
    const file = which === 'active' ? written.segmentFiles[written.segmentFiles.length - 1] : written.segmentFiles[1];
    return file.replace(/\.log$/, suffix);
  };
  const cases: [string, Damage][] = [];
  for (const which of ['closed', 'active'] as const) {
    cases.push(
      [`bit flip in an offset of the ${which} segment's .index`, (fs, _dir, written) => {
        flipBit(fs, indexOf(written, which, '.index'), 3, 0);
        return [];
      }],
      [`bit flip in a position of the ${which} segment's .index`, (fs, _dir, written) => {
        flipBit(fs, indexOf(written, which, '.index'), 8 + 7, 2);
        return [];
      }],
      [`cut in the middle of an entry of the ${which} segment's .index`, (fs, _dir, written) => {
        truncateFile(fs, indexOf(written, which, '.index'), 12);
        return [];
      }],
      [`bit flip in a timestamp of the ${which} segment's .timeindex`, (fs, _dir, written) => {
        flipBit(fs, indexOf(written, which, '.timeindex'), 7, 5);
        return [];
      }],
      [`bit flip in an offset of the ${which} segment's .timeindex`, (fs, _dir, written) => {
        flipBit(fs, indexOf(written, which, '.timeindex'), 11, 1);
        return [];
      }],
    );
  }
  for (let seed = 1; seed <= EXTRA_SEEDS; seed++) {
    cases.push([`random bit flip #${seed} in the closed segment's .index`, (fs, _dir, written) => {
      const file = indexOf(written, 'closed', '.index');
      flipBit(fs, file, Math.floor(seeded(seed)() * fs.readFile(file).length), seed % 8);
      return [];
    }]);
  }
  return cases;
}

function checkpointCases(): [string, Damage][] {
  const cases: [string, Damage][] = [];
  const files = [RECOVERY_POINT_CHECKPOINT_FILE, LOG_START_OFFSET_CHECKPOINT_FILE, `t-0/${LEADER_EPOCH_CHECKPOINT_FILE}`];
  for (const name of files) {
    const at = (dir: string) => path.join(dir, name);
    cases.push(
      [`garbage in ${name}`, (fs, dir) => {
        fs.writeFileAtomic(at(dir), Buffer.from('\u0000\u00ffnot a checkpoint\n'));
        return [];
      }],
      [`an empty ${name}`, (fs, dir) => {
        fs.writeFileAtomic(at(dir), Buffer.alloc(0));
        return [];
      }],
      [`a wrong entry count in ${name}`, (fs, dir) => {
        const lines = fs.readFile(at(dir)).toString('utf8').split('\n');
        lines[1] = String(Number(lines[1]) + 1);
        fs.writeFileAtomic(at(dir), Buffer.from(lines.join('\n')));
        return [];
      }],
      [`a flipped bit that breaks an entry of ${name}`, (fs, dir) => {
        const text = fs.readFile(at(dir)).toString('utf8');
        // The last digit of the file: bit 6 turns a digit into a letter.
        const position = text.search(/\d\n?$/);
        flipBit(fs, at(dir), position, 6);
        return [];
      }],
    );
  }
  return cases;
}

/**
 * Real files go to a RAM-backed file system when the machine has one (/dev/shm): the same files and
 * system calls, without an fsync per file on a shared disk, which would make the matrix slow. What
 * is under test is what recovery does with damaged bytes, not whether the disk keeps them.
 */
const matrixBackends: [string, () => Backend][] = backends.map(([name, make]) => {
  if (name !== 'node' || !nodeFs.existsSync('/dev/shm')) return [name, make];
  return [name, () => {
    const dir = nodeFs.mkdtempSync('/dev/shm/gregor-damage-');
    return { name: 'node', fs: nodeFileSystem, dir, cleanup: () => nodeFs.rmSync(dir, { recursive: true, force: true }) };
  }];
});

const ALL_CASES: [string, Damage][] = [...segmentCases('active'), ...segmentCases('closed'), ...indexCases(), ...checkpointCases()];

/** The files of each written log, by backend and stop: written once, copied into every case. */
const writtenLogs = new Map<string, { written: Written; files: Map<string, Buffer> }>();

describe.each(matrixBackends)('damage matrix on %s', (_name, makeBackend) => {
  let backend: Backend;
  beforeEach(() => {
    backend = makeBackend();
  });
  afterEach(() => backend.cleanup());

  function openManager(warnings: Warning[]): LogManager {
    return LogManager.open({
      fs: backend.fs,
      dir: backend.dir,
      clock: new FakeClock(),
      config: CONFIG,
      schedule: false,
      logger: { warn: (message, fields = {}) => warnings.push({ message, fields }) },
    });
  }

  /**
   * Writes the log (two leader epochs), then stops it cleanly or as a crash (after a flush, so the
   * crash itself loses nothing). The files are written once per backend and stop, and copied into
   * each case's fresh directory.
   */
  function write(stop: 'clean stop' | 'crash'): Written {
    const key = `${backend.name} ${stop}`;
    let cached = writtenLogs.get(key);
    if (cached === undefined) {
      const first = makeBackend();
      try {
        cached = writeOnce(first, stop);
      } finally {
        first.cleanup();
      }
      writtenLogs.set(key, cached);
    }
    for (const [relative, bytes] of cached.files) {
      const file = path.join(backend.dir, relative);
      backend.fs.mkdir(path.dirname(file));
      // Real files are copied without fsync: the case starts from these bytes, durability is not under test.
      if (backend.name === 'node') nodeFs.writeFileSync(file, bytes);
      else backend.fs.writeFileAtomic(file, bytes);
    }
    const resolve = (relative: string) => path.join(backend.dir, relative);
    return {
      ...cached.written,
      batches: cached.written.batches.map((batch) => ({ ...batch, file: resolve(batch.file) })),
      segmentFiles: cached.written.segmentFiles.map(resolve),
    };
  }

  function writeOnce(target: Backend, stop: 'clean stop' | 'crash'): { written: Written; files: Map<string, Buffer> } {
    const manager = LogManager.open({ fs: target.fs, dir: target.dir, clock: new FakeClock(), config: CONFIG, schedule: false, logger: { warn: () => {} } });
    const log = manager.getOrCreate('t', 0);
    const values = new Map<number, string>();
    const timestamps = new Map<number, number>();
    for (let i = 0; i < BATCHES; i++) {
      const timestamp = 10_000 + i * 10;
      const records = Array.from({ length: RECORDS_PER_BATCH }, (_, j) => ({ key: `k${j}`, value: `value-${i}-${j}`, timestamp }));
      const result = log.append(batchOf(records), { leaderEpoch: i < BATCHES / 2 ? 0 : 3 });
      records.forEach((record, j) => {
        values.set(result.baseOffset + j, record.value);
        timestamps.set(result.baseOffset + j, timestamp);
      });
    }
    const epochs = log.leaderEpochs.entries();
    if (stop === 'clean stop') manager.close();
    else {
      log.flush();
      manager.abandon();
      target.memory?.crash();
    }
    const files = new Map<string, Buffer>();
    for (const name of target.fs.readdir(target.dir)) {
      const entry = path.join(target.dir, name);
      if (!target.fs.isDirectory(entry)) files.set(name, Buffer.from(target.fs.readFile(entry)));
      else for (const inner of target.fs.readdir(entry)) files.set(path.join(name, inner), Buffer.from(target.fs.readFile(path.join(entry, inner))));
    }
    const segmentFiles = [...files.keys()].filter((name) => name.endsWith('.log')).sort();
    const batches: Placed[] = [];
    for (const file of segmentFiles) {
      const bytes = files.get(file) as Buffer;
      for (let position = 0; position < bytes.length; ) {
        const header = readBatchHeader(bytes, position);
        batches.push({ file, position, sizeBytes: header.sizeBytes, baseOffset: header.baseOffset, lastOffset: header.lastOffset });
        position += header.sizeBytes;
      }
    }
    expect(segmentFiles.length).toBeGreaterThanOrEqual(4);
    return { written: { values, timestamps, batches, segmentFiles, epochs }, files };
  }

  /** Snapshot of every file of the partition directory. */
  function snapshot(dir: string): Map<string, Buffer> {
    const files = new Map<string, Buffer>();
    for (const name of backend.fs.readdir(dir)) files.set(name, Buffer.from(backend.fs.readFile(path.join(dir, name))));
    return files;
  }

  /**
   * Reads the whole log as a consumer that seeks past damage would: every batch returned must pass
   * its CRC; a LogCorruptionError must name a resume offset past the one asked for.
   */
  function readEverything(log: PartitionLog): { seen: Map<number, string>; errors: LogCorruptionError[] } {
    const seen = new Map<number, string>();
    const errors: LogCorruptionError[] = [];
    let offset = log.logStartOffset;
    for (let guard = 0; offset < log.logEndOffset; guard++) {
      expect(guard).toBeLessThan(10_000);
      try {
        const read = log.read(offset, { maxBytes: 400 });
        if (read.records.length === 0) break;
        expectEveryCrcValid(read.records);
        for (const record of recordsOf(read.records)) if (record.offset >= offset) seen.set(record.offset, record.value ?? '');
        offset = read.nextOffset;
      } catch (error) {
        if (!(error instanceof LogCorruptionError)) throw error;
        errors.push(error);
        expect(error.resumeOffset).toBeGreaterThan(offset);
        offset = error.resumeOffset as number;
      }
    }
    return { seen, errors };
  }

  function expectEveryCrcValid(records: Buffer): void {
    for (let position = 0; position < records.length; ) {
      expect(isBatchCrcValid(records, position)).toBe(true);
      position += records.readInt32BE(position + 8) + 12;
    }
  }

  /** Recovery only removes bytes it copied aside: the new segment with each `.corrupt` copy put back is the damaged one. */
  function expectNothingDroppedUnkept(before: Map<string, Buffer>, after: Map<string, Buffer>): void {
    for (const [name, damaged] of before) {
      if (!name.endsWith('.log')) continue;
      const pieces = [...after.keys()]
        .map((other) => new RegExp(`^${name.replace('.', '\\.')}\\.(\\d+)\\.corrupt$`).exec(other))
        .filter((match): match is RegExpExecArray => match !== null)
        .map((match) => ({ position: Number(match[1]), bytes: after.get(match[0]) as Buffer }))
        .sort((a, b) => a.position - b.position);
      let rebuilt = after.get(name) ?? Buffer.alloc(0);
      for (const piece of pieces) rebuilt = Buffer.concat([rebuilt.subarray(0, piece.position), piece.bytes, rebuilt.subarray(piece.position)]);
      expect(rebuilt.equals(damaged), `${name} lost bytes that were not copied aside`).toBe(true);
    }
  }

  describe.each(['clean stop', 'crash'] as const)('after a %s', (stop) => {
    it.each(ALL_CASES)('%s', (_label, damage) => {
      const written = write(stop);
      const partitionDir = path.join(backend.dir, 't-0');
      const damaged_ = damage(backend.fs, backend.dir, written);
      const damagedBatches = Array.isArray(damaged_) ? damaged_ : damaged_.batches;
      const silent = !Array.isArray(damaged_) && stop === 'crash';
      const lost = new Set<number>();
      for (const batch of damagedBatches) for (let offset = batch.baseOffset; offset <= batch.lastOffset; offset++) lost.add(offset);
      const damaged = snapshot(partitionDir);

      const warnings: Warning[] = [];
      const manager = openManager(warnings);
      const log = manager.get('t', 0) as PartitionLog;
      expect(log).toBeDefined();
      const { seen, errors } = readEverything(log);

      // Every record outside the damaged batches, at its offset, read in sequence; and a read right
      // at the first and the last offset of each batch (index lookups).
      for (const [offset, value] of written.values) if (!lost.has(offset)) expect(seen.get(offset), `offset ${offset}`).toBe(value);
      for (const batch of written.batches) {
        if (lost.has(batch.baseOffset)) continue;
        for (const offset of [batch.baseOffset, batch.lastOffset]) {
          const direct = log.read(offset, { maxBytes: 1 });
          expect(recordsOf(direct.records).find((record) => record.offset === offset)?.value, `direct read of ${offset}`).toBe(written.values.get(offset));
        }
      }
      // Nothing served at an offset that held another record.
      for (const [offset, value] of seen) if (!lost.has(offset)) expect(value).toBe(written.values.get(offset));
      expect(log.logStartOffset).toBe(0);

      // Recovery kept what it cut; what is missing was reported.
      const after = snapshot(partitionDir);
      expectNothingDroppedUnkept(damaged, after);
      const missing = [...written.values.keys()].filter((offset) => !seen.has(offset));
      if ((missing.length > 0 || errors.length > 0) && !silent) expect(warnings.length, `warnings for ${missing.length} missing records`).toBeGreaterThan(0);
      for (const warning of warnings) expect(typeof warning.fields.code).toBe('string');
      if (damagedBatches.length === 0) {
        expect(missing).toEqual([]);
        for (const batch of written.batches) {
          const timestamp = written.timestamps.get(batch.baseOffset) as number;
          expect(log.offsetForTimestamp(timestamp - 1)).toBe(batch.baseOffset);
        }
        expect(log.leaderEpochs.entries()).toEqual(written.epochs);
      }
      // A damaged checkpoint is moved aside and reported.
      for (const name of [RECOVERY_POINT_CHECKPOINT_FILE, LOG_START_OFFSET_CHECKPOINT_FILE]) {
        if (backend.fs.exists(path.join(backend.dir, `${name}.corrupt`))) expect(warnings.some((warning) => warning.fields.code === 'CHECKPOINT_UNREADABLE')).toBe(true);
      }

      // The log keeps working, and a second open has nothing more to repair.
      const appended = log.append(batchOf([{ key: null, value: 'after', timestamp: 99_000 }]));
      manager.close();
      const secondWarnings: Warning[] = [];
      const second = openManager(secondWarnings);
      const reopened = second.get('t', 0) as PartitionLog;
      expect(secondWarnings.filter((warning) => warning.fields.code !== 'OFFSETS_MISSING' && warning.fields.code !== 'CORRUPT_BATCH_READ')).toEqual([]);
      expect(recordsOf(reopened.read(appended.baseOffset).records)[0]?.value).toBe('after');
      const again = readEverything(reopened);
      for (const [offset, value] of seen) expect(again.seen.get(offset)).toBe(value);
      second.close();
    });
  });

  it('a log start offset beyond the log end is reported and the data kept', () => {
    write('clean stop');
    const file = path.join(backend.dir, LOG_START_OFFSET_CHECKPOINT_FILE);
    backend.fs.writeFileAtomic(file, Buffer.from(`0\n1\nt 0 ${BATCHES * RECORDS_PER_BATCH + 500}\n`));
    const warnings: Warning[] = [];
    const manager = openManager(warnings);
    const log = manager.get('t', 0) as PartitionLog;
    expect(log.logStartOffset).toBe(0);
    expect(readEverything(log).seen.size).toBe(BATCHES * RECORDS_PER_BATCH);
    expect(warnings.map((warning) => warning.fields.code)).toEqual(['LOG_START_BEYOND_END']);
    manager.close();
  });

  it('after a crash, only the segments past the checkpointed recovery point are re-read', () => {
    const manager = openManager([]);
    const log = manager.getOrCreate('t', 0);
    for (let i = 0; i < BATCHES; i++) log.append(batchOf([{ key: null, value: `v${i}`, timestamp: 1000 + i }]));
    const activeBase = log.segmentBaseOffsets().at(-1) as number;
    // No flush and no periodic checkpoint: each roll alone advanced and checkpointed the recovery point.
    manager.abandon();
    backend.memory?.crash();
    expect(backend.fs.readFile(path.join(backend.dir, RECOVERY_POINT_CHECKPOINT_FILE)).toString()).toContain(`t 0 ${activeBase}`);
    const events: { segmentsRecovered: number }[] = [];
    const listener = (message: unknown) => events.push(message as { segmentsRecovered: number });
    recoverChannel.subscribe(listener);
    const reopenedWarnings: Warning[] = [];
    const reopenedManager = openManager(reopenedWarnings);
    recoverChannel.unsubscribe(listener);
    expect(log.segmentBaseOffsets().length).toBeGreaterThanOrEqual(3);
    expect(events.map((event) => event.segmentsRecovered)).toEqual([1]);
    expect(reopenedWarnings).toEqual([]);
    reopenedManager.close();
  });
});

describe.each(matrixBackends)('compaction over damage on %s', (_name, makeBackend) => {
  it('stops compacting a log whose closed segment is damaged, with a warning, and keeps every record readable around it', () => {
    const backend = makeBackend();
    try {
      const warnings: Warning[] = [];
      const manager = LogManager.open({ fs: backend.fs, dir: backend.dir, clock: new FakeClock(), config: { ...CONFIG, cleanupPolicy: 'compact' }, schedule: false, logger: { warn: (message, fields = {}) => warnings.push({ message, fields }) } });
      const log = manager.getOrCreate('c', 0);
      for (let i = 0; i < 30; i++) log.append(batchOf([{ key: `k${i % 5}`, value: `v${i}`, timestamp: 1000 + i }]));
      const second = path.join(backend.dir, 'c-0', `${String(log.segmentBaseOffsets()[1]).padStart(20, '0')}.log`);
      flipBit(backend.fs, second, 70, 2);
      const before = log.logEndOffset;
      expect(manager.runCompaction()).toBe(0);
      expect(warnings.map((warning) => warning.fields.code)).toContain('COMPACTION_STOPPED');
      // Stopped until reopened: the next pass does nothing and says nothing more.
      const count = warnings.length;
      expect(manager.runCompaction()).toBe(0);
      expect(warnings.length).toBe(count);
      expect(log.logEndOffset).toBe(before);
      expect(log.read(0).records.length).toBeGreaterThan(0);
      manager.close();
    } finally {
      backend.cleanup();
    }
  });
});
