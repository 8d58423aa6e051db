import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeClock, LogCorruptionError, OffsetIndex, PartitionLog, recoverChannel } from '../src/index.js';
import { type Backend, backends, fileSize, overwriteFile, readAll, simpleBatch, truncateFile } from './helpers.js';

const SEGMENT_0 = '00000000000000000000';
const silent = { warn: () => {} };

describe.each(backends)('crash recovery on %s', (_name, makeBackend) => {
  let backend: Backend;
  let dir: string;
  beforeEach(() => {
    backend = makeBackend();
    dir = path.join(backend.dir, 'topic-0');
  });
  afterEach(() => backend.cleanup());

  const open = (config = {}, extra = {}) => PartitionLog.open({ fs: backend.fs, dir, config, clock: new FakeClock(), ...extra });
  const logFile = (base = SEGMENT_0) => path.join(dir, `${base}.log`);

  /** Writes `count` batches of 3 records cleanly; returns each batch's [position, size]. */
  function writeBatches(count: number, config = {}): [number, number][] {
    const log = open(config);
    const ranges: [number, number][] = [];
    let position = 0;
    for (let i = 0; i < count; i++) {
      const batch = simpleBatch(3, 1000 + i, `b${i}-`);
      log.append(batch);
      ranges.push([position, batch.length]);
      position += batch.length;
    }
    log.close();
    return ranges;
  }

  it('recovers to the last whole batch when the tail is torn at every byte of the last batch', () => {
    const ranges = writeBatches(4);
    const [lastPosition, lastSize] = ranges[3];
    const original = backend.fs.readFile(logFile());
    for (let cut = 0; cut < lastSize; cut++) {
      truncateFile(backend.fs, logFile(), lastPosition + cut);
      const log = open({}, { hadCleanShutdown: false });
      expect(log.logEndOffset).toBe(9);
      expect(readAll(log, 0).map((record) => record.value)).toEqual(['b0-0', 'b0-1', 'b0-2', 'b1-0', 'b1-1', 'b1-2', 'b2-0', 'b2-1', 'b2-2']);
      expect(fileSize(backend.fs, logFile())).toBe(lastPosition);
      log.closeWithoutFlush();
      // Put the whole file back for the next cut.
      overwriteFile(backend.fs, logFile(), 0, original);
    }
  });

  it('recovers from a torn write followed by a crash (memory file system)', () => {
    if (!backend.memory) return;
    const memory = backend.memory;
    const size = simpleBatch(3).length;
    for (let keep = 0; keep < size; keep += 7) {
      const log = open();
      log.append(simpleBatch(3));
      log.flush();
      memory.tearNextWrite(keep);
      log.append(simpleBatch(3));
      log.flush();
      memory.crash();
      const reopened = open();
      expect(reopened.logEndOffset).toBe(3);
      reopened.truncateFullyAndStartAt(0);
      reopened.close();
    }
  });

  it('loses only unsynced appends in a crash, keeping flushed ones (memory file system)', () => {
    if (!backend.memory) return;
    const log = open();
    log.append(simpleBatch(3));
    log.flush();
    log.append(simpleBatch(3));
    backend.memory.crash();
    const reopened = open();
    expect(reopened.logEndOffset).toBe(3);
    reopened.close();
  });

  it('a corrupt batch in the middle of a segment is a typed error on read naming its bytes, and recovery cuts out only that batch', () => {
    // Index entries at every batch, so a clean open reads only the last batch (the tail past the last entry).
    const config = { indexIntervalBytes: 1 };
    const ranges = writeBatches(6, config);
    const [position, size] = ranges[3];
    // Flip one byte inside the records of the 4th batch (after the header).
    const flipped = Buffer.from(backend.fs.readFile(logFile()).subarray(position + 70, position + 71));
    flipped[0] ^= 0x10;
    overwriteFile(backend.fs, logFile(), position + 70, flipped);
    const original = backend.fs.readFile(logFile());
    const clean = open(config, { hadCleanShutdown: true, logger: silent });
    // A read from before the damage serves the batches that precede it.
    expect(clean.read(0).records.length).toBe(position);
    let error: unknown;
    try {
      clean.read(10);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(LogCorruptionError);
    const corruption = error as LogCorruptionError;
    expect(corruption.code).toBe('LOG_CORRUPTION');
    expect(corruption.path).toBe(logFile());
    expect([corruption.startPosition, corruption.endPosition]).toEqual([position, position + size]);
    expect(corruption.resumeOffset).toBe(12);
    expect(readAll(clean, 12).map((record) => record.offset)).toEqual([12, 13, 14, 15, 16, 17]);
    clean.closeWithoutFlush();
    const events: unknown[] = [];
    const listener = (message: unknown) => events.push(message);
    recoverChannel.subscribe(listener);
    const warnings: string[] = [];
    const recovered = open(config, { hadCleanShutdown: false, logger: { warn: (message: string) => warnings.push(message) } });
    recoverChannel.unsubscribe(listener);
    expect(recovered.logEndOffset).toBe(18);
    expect(readAll(recovered, 0).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17]);
    expect(fileSize(backend.fs, logFile())).toBe(original.length - size);
    expect(backend.fs.readFile(`${logFile()}.${position}.corrupt`).equals(original.subarray(position, position + size))).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`moved bytes [${position}, ${position + size}) of ${logFile()}`);
    expect(warnings[0]).toContain('offsets 9..11, 3 records');
    expect(events).toHaveLength(1);
    recovered.close();
  });

  it('recovery after a bad batch in a closed segment keeps the later segments', () => {
    const config = { segmentBytes: 400 };
    const log = open(config);
    for (let i = 0; i < 12; i++) log.append(simpleBatch(3));
    const bases = log.segmentBaseOffsets();
    const before = readAll(log, 0).map((record) => record.offset);
    log.close();
    expect(bases.length).toBeGreaterThan(2);
    // Corrupt the first batch of the second segment.
    const second = String(bases[1]).padStart(20, '0');
    overwriteFile(backend.fs, logFile(second), 30, Buffer.from([0xff, 0xff]));
    const recovered = open(config, { hadCleanShutdown: false, logger: silent });
    expect(recovered.logEndOffset).toBe(36);
    expect(recovered.segmentBaseOffsets()).toEqual(bases);
    expect(readAll(recovered, 0).map((record) => record.offset)).toEqual(before.filter((offset) => offset < bases[1] || offset >= bases[1] + 3));
    recovered.close();
  });

  it.each([
    ['2^31-1', 0x7fffffff],
    ['negative', -5],
    ['zero', 0],
  ])('an absurd batchLength (%s) is a typed error without a large allocation', (_label, batchLength) => {
    // Index entries at every batch, so a clean open only scans the last batch and the read finds the damage.
    const config = { indexIntervalBytes: 1 };
    const ranges = writeBatches(5, config);
    const [position] = ranges[2];
    const field = Buffer.alloc(4);
    field.writeInt32BE(batchLength);
    overwriteFile(backend.fs, logFile(), position + 8, field);
    const largest = { bytes: 0 };
    const track = (size: number) => {
      largest.bytes = Math.max(largest.bytes, size);
    };
    const allocUnsafe = Buffer.allocUnsafe;
    const alloc = Buffer.alloc;
    const spyUnsafe = vi.spyOn(Buffer, 'allocUnsafe').mockImplementation((size: number) => {
      track(size);
      return allocUnsafe(size);
    });
    const spyAlloc = vi.spyOn(Buffer, 'alloc').mockImplementation(((size: number, fill?: never) => {
      track(size);
      return alloc(size, fill);
    }) as typeof Buffer.alloc);
    try {
      const log = open(config, { hadCleanShutdown: true, logger: silent });
      expect(() => log.read(6)).toThrow(LogCorruptionError);
      // Reads before the damage are served, and reads after it resume at the next valid batch.
      expect(log.read(0).records.length).toBe(position);
      expect(readAll(log, 9).map((record) => record.offset)[0]).toBe(9);
      log.closeWithoutFlush();
      const recovered = open(config, { hadCleanShutdown: false, logger: silent });
      expect(recovered.logEndOffset).toBe(15);
      expect(readAll(recovered, 0).map((record) => record.offset)).toEqual([0, 1, 2, 3, 4, 5, 9, 10, 11, 12, 13, 14]);
      recovered.close();
    } finally {
      spyUnsafe.mockRestore();
      spyAlloc.mockRestore();
    }
    expect(largest.bytes).toBeLessThan(4 * 1024 * 1024);
  });

  it('a segment opened below a later one reads its own appends past that one\'s base once a truncation makes it active again', () => {
    const config = { segmentBytes: 400 };
    const log = open(config);
    for (let i = 0; i < 6; i++) log.append(simpleBatch(3));
    const bases = log.segmentBaseOffsets();
    expect(bases.length).toBeGreaterThan(1);
    log.close();
    // Opened with a successor: the first segment's offsets are bounded by the second's base. Larger
    // segments now, so the appends below stay in the first segment.
    const reopened = open({ segmentBytes: 4000 }, { hadCleanShutdown: true, logger: silent });
    reopened.truncateTo(bases[1] - 3);
    expect(reopened.segmentBaseOffsets()).toEqual([0]);
    for (let i = 0; i < 3; i++) reopened.append(simpleBatch(3));
    expect(reopened.logEndOffset).toBe(bases[1] + 6);
    expect(readAll(reopened, 0).map((record) => record.offset)).toEqual(Array.from({ length: bases[1] + 6 }, (_, offset) => offset));
    reopened.close();
  });

  it('rebuilds a deleted .index and gives the same lookups', () => {
    const config = { indexIntervalBytes: 100 };
    writeBatches(30, config);
    const indexPath = path.join(dir, `${SEGMENT_0}.index`);
    const before = backend.fs.readFile(indexPath);
    expect(before.length).toBeGreaterThan(8);
    backend.fs.unlink(indexPath);
    const log = open(config, { hadCleanShutdown: true });
    expect(readAll(log, 40).map((record) => record.offset)[0]).toBe(40);
    log.close();
    expect(backend.fs.readFile(indexPath).equals(before)).toBe(true);
  });

  it('rebuilds a corrupt .index (entries out of order) and a corrupt .timeindex', () => {
    const config = { indexIntervalBytes: 100 };
    writeBatches(30, config);
    const indexPath = path.join(dir, `${SEGMENT_0}.index`);
    const timeIndexPath = path.join(dir, `${SEGMENT_0}.timeindex`);
    const before = backend.fs.readFile(indexPath);
    const timeBefore = backend.fs.readFile(timeIndexPath);
    overwriteFile(backend.fs, indexPath, 8, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1]));
    overwriteFile(backend.fs, timeIndexPath, 12, Buffer.alloc(12, 0xff));
    const log = open(config, { hadCleanShutdown: true });
    expect(log.offsetForTimestamp(1020)).toBe(60);
    expect(readAll(log, 50)[0].offset).toBe(50);
    log.close();
    expect(backend.fs.readFile(indexPath).equals(before)).toBe(true);
    expect(backend.fs.readFile(timeIndexPath).equals(timeBefore)).toBe(true);
  });

  it('rebuilds an index whose entries point past the end of the log', () => {
    const config = { indexIntervalBytes: 100 };
    const ranges = writeBatches(30, config);
    const indexPath = path.join(dir, `${SEGMENT_0}.index`);
    truncateFile(backend.fs, logFile(), ranges[20][0]);
    const log = open(config, { hadCleanShutdown: true });
    expect(log.logEndOffset).toBe(60);
    log.close();
    // The rebuilt index, read back with the cut log's size as its limit, loads and points inside it.
    const index = OffsetIndex.open(backend.fs, indexPath, { baseOffset: 0, maxIndexBytes: 1 << 20, limits: { logSizeBytes: ranges[20][0] } });
    const indexEntries = index.entries();
    index.close();
    expect(indexEntries.length).toBeGreaterThan(0);
    for (const entry of indexEntries) expect(entry.position).toBeLessThan(ranges[20][0]);
  });
});
