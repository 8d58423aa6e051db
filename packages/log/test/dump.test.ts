import path from 'node:path';
import { Compression } from '@gregor/records';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { dumpLogFile, FakeClock, PartitionLog } from '../src/index.js';
import { type Backend, backends, batchOf, overwriteFile, simpleBatch } from './helpers.js';

describe.each(backends)('dumpLogFile on %s', (_name, makeBackend) => {
  let backend: Backend;
  let dir: string;
  beforeEach(() => {
    backend = makeBackend();
    dir = path.join(backend.dir, 'topic-0');
    const log = PartitionLog.open({ fs: backend.fs, dir, clock: new FakeClock(), config: { indexIntervalBytes: 1 } });
    log.append(batchOf([{ key: 'k1', value: 'hello', timestamp: 1000 }, { key: null, value: null, timestamp: 1001 }]), { leaderEpoch: 2 });
    log.append(batchOf([{ key: 'bin', value: '\u0001\u0002', timestamp: 1005 }], { compression: Compression.gzip }));
    log.append(simpleBatch(2, 1010));
    log.close();
  });
  afterEach(() => backend.cleanup());

  const dump = (name: string, records = false) => [...dumpLogFile(backend.fs, path.join(dir, name), { records })];

  it('prints each batch with offsets, codec, timestamps, producer fields, position, size and CRC validity', () => {
    const lines = dump('00000000000000000000.log');
    expect(lines[0]).toMatch(/^Dumping .*00000000000000000000\.log$/);
    expect(lines[1]).toBe('Log starting offset: 0');
    expect(lines[2]).toMatch(/^baseOffset: 0 lastOffset: 1 count: 2 baseSequence: -1 lastSequence: -1 producerId: -1 producerEpoch: -1 partitionLeaderEpoch: 2 isTransactional: false isControl: false position: 0 baseTimestamp: 1000 CreateTime: 1001 size: \d+ magic: 2 compresscodec: none crc: \d+ isvalid: true$/);
    expect(lines[3]).toContain('baseOffset: 2 lastOffset: 2 count: 1');
    expect(lines[3]).toContain('compresscodec: gzip');
    expect(lines).toHaveLength(5);
  });

  it('prints records with keys and values as text when printable, hex otherwise', () => {
    const lines = dump('00000000000000000000.log', true);
    expect(lines).toContain('| offset: 0 CreateTime: 1000 keySize: 2 valueSize: 5 headers: [] key: "k1" payload: "hello"');
    expect(lines).toContain('| offset: 1 CreateTime: 1001 keySize: -1 valueSize: -1 headers: [] key: null payload: null');
    expect(lines).toContain('| offset: 2 CreateTime: 1005 keySize: 3 valueSize: 2 headers: [] key: "bin" payload: 0x0102');
  });

  it('marks a batch with a bad CRC invalid, and goes on after an absurd length at the next valid batch', () => {
    overwriteFile(backend.fs, path.join(dir, '00000000000000000000.log'), 70, Buffer.from([0xee]));
    expect(dump('00000000000000000000.log')[2]).toContain('isvalid: false');
    overwriteFile(backend.fs, path.join(dir, '00000000000000000000.log'), 8, Buffer.from([0x7f, 0xff, 0xff, 0xff]));
    const lines = dump('00000000000000000000.log');
    expect(lines[2]).toMatch(/^Corrupt batch at position 0: batchLength 2147483647/);
    expect(lines[3]).toMatch(/^Skipped \d+ bytes; the next valid batch starts at position \d+$/);
    expect(lines[4]).toContain('baseOffset: 2 lastOffset: 2 count: 1');
    expect(lines).toHaveLength(6);
  });

  it('dumps bytes moved aside by recovery with the positions they had in their segment', () => {
    const segment = path.join(dir, '00000000000000000000.log');
    const bytes = backend.fs.readFile(segment);
    const second = bytes.readInt32BE(8) + 12;
    const moved = `${segment}.${second}.corrupt`;
    backend.fs.writeFileAtomic(moved, bytes.subarray(second));
    const lines = [...dumpLogFile(backend.fs, moved, {})];
    expect(lines[1]).toBe(`Bytes moved aside from 00000000000000000000.log at position ${second} (positions below are the segment's)`);
    expect(lines[3]).toContain(`baseOffset: 2 lastOffset: 2 count: 1`);
    expect(lines[3]).toContain(`position: ${second} `);
  });

  it('prints index and time index entries with absolute offsets', () => {
    expect(dump('00000000000000000000.index').slice(1)).toEqual([expect.stringMatching(/^offset: 2 position: \d+$/), expect.stringMatching(/^offset: 4 position: \d+$/)]);
    expect(dump('00000000000000000000.timeindex').slice(1)).toEqual(['timestamp: 1005 offset: 2', 'timestamp: 1010 offset: 4']);
  });
});
