import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointFormatError, formatOffsetCheckpoint, LeaderEpochCache, nodeFileSystem, readOffsetCheckpoint, writeOffsetCheckpoint } from '../src/index.js';
import { type Backend, backends } from './helpers.js';

describe.each(backends)('checkpoint files on %s', (_name, makeBackend) => {
  let backend: Backend;
  beforeEach(() => {
    backend = makeBackend();
    backend.fs.mkdir(backend.dir);
  });
  afterEach(() => backend.cleanup());

  it('writes the leader-epoch checkpoint in Kafka text format and reads it back', () => {
    const file = path.join(backend.dir, 'leader-epoch-checkpoint');
    const cache = LeaderEpochCache.open(backend.fs, file);
    cache.assign(0, 0);
    cache.assign(2, 15);
    cache.assign(2, 20);
    cache.assign(5, 40);
    expect(backend.fs.readFile(file).toString()).toBe('0\n3\n0 0\n2 15\n5 40\n');
    expect(LeaderEpochCache.open(backend.fs, file).entries()).toEqual(cache.entries());
  });

  it('answers endOffsetFor like Kafka', () => {
    const cache = LeaderEpochCache.open(backend.fs, path.join(backend.dir, 'leader-epoch-checkpoint'));
    cache.assign(1, 0);
    cache.assign(3, 10);
    cache.assign(6, 30);
    expect(cache.endOffsetFor(1, 50)).toEqual({ epoch: 1, endOffset: 10 });
    expect(cache.endOffsetFor(2, 50)).toEqual({ epoch: 1, endOffset: 10 });
    expect(cache.endOffsetFor(6, 50)).toEqual({ epoch: 6, endOffset: 50 });
    expect(cache.endOffsetFor(0, 50)).toEqual({ epoch: 0, endOffset: 0 });
    expect(cache.endOffsetFor(7, 50)).toEqual({ epoch: -1, endOffset: -1 });
    expect(cache.endOffsetFor(-1, 50)).toEqual({ epoch: -1, endOffset: -1 });
  });

  it('truncates from the end and from the start, persisting each change', () => {
    const file = path.join(backend.dir, 'leader-epoch-checkpoint');
    const cache = LeaderEpochCache.open(backend.fs, file);
    cache.assign(1, 0);
    cache.assign(3, 10);
    cache.assign(6, 30);
    cache.truncateFromEnd(30);
    expect(cache.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 3, startOffset: 10 }]);
    cache.truncateFromStart(12);
    expect(cache.entries()).toEqual([{ epoch: 3, startOffset: 12 }]);
    expect(LeaderEpochCache.open(backend.fs, file).entries()).toEqual([{ epoch: 3, startOffset: 12 }]);
  });

  it('a newer epoch at a lower offset removes the entries it contradicts', () => {
    const cache = LeaderEpochCache.open(backend.fs, path.join(backend.dir, 'leader-epoch-checkpoint'));
    cache.assign(1, 0);
    cache.assign(3, 10);
    cache.assign(4, 5);
    expect(cache.entries()).toEqual([{ epoch: 1, startOffset: 0 }, { epoch: 4, startOffset: 5 }]);
    cache.assign(2, 50);
    expect(cache.latestEpoch).toBe(4);
  });

  it('rejects a malformed checkpoint with a typed error', () => {
    const file = path.join(backend.dir, 'leader-epoch-checkpoint');
    backend.fs.writeFileAtomic(file, Buffer.from('0\n2\n1 0\n'));
    expect(() => LeaderEpochCache.open(backend.fs, file)).toThrow(CheckpointFormatError);
    backend.fs.writeFileAtomic(file, Buffer.from('1\n0\n'));
    expect(() => LeaderEpochCache.open(backend.fs, file)).toThrow(CheckpointFormatError);
  });

  it('round-trips the recovery-point checkpoint (topic partition offset lines)', () => {
    const file = path.join(backend.dir, 'recovery-point-offset-checkpoint');
    writeOffsetCheckpoint(backend.fs, file, [
      { topic: 'orders', partition: 0, offset: 42 },
      { topic: 'my-topic', partition: 3, offset: 7 },
    ]);
    expect(backend.fs.readFile(file).toString()).toBe('0\n2\norders 0 42\nmy-topic 3 7\n');
    const read = readOffsetCheckpoint(backend.fs, file);
    expect(read.get('my-topic-3')).toEqual({ topic: 'my-topic', partition: 3, offset: 7 });
    expect(readOffsetCheckpoint(backend.fs, path.join(backend.dir, 'missing')).size).toBe(0);
  });
});

describe('writeFileAtomicInBackground (the real file system)', () => {
  let dir: string;
  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-background-checkpoint-'));
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('replaces the file with the new offsets and leaves no temporary file', async () => {
    const file = path.join(dir, 'replication-offset-checkpoint');
    writeOffsetCheckpoint(nodeFileSystem, file, [{ topic: 't', partition: 0, offset: 5 }]);
    const written = await nodeFileSystem.writeFileAtomicInBackground!(file, formatOffsetCheckpoint([{ topic: 't', partition: 0, offset: 9 }, { topic: 'u', partition: 2, offset: 3 }]), () => true);
    expect(written).toBe(true);
    expect([...readOffsetCheckpoint(nodeFileSystem, file).values()]).toEqual([{ topic: 't', partition: 0, offset: 9 }, { topic: 'u', partition: 2, offset: 3 }]);
    expect(fs.readdirSync(dir)).toEqual(['replication-offset-checkpoint']);
  });

  it('does not replace a file written synchronously while it was under way (a shutdown checkpoint stays)', async () => {
    const file = path.join(dir, 'replication-offset-checkpoint');
    let wanted = true;
    const background = nodeFileSystem.writeFileAtomicInBackground!(file, formatOffsetCheckpoint([{ topic: 't', partition: 0, offset: 7 }]), () => wanted);
    // The shutdown: the last HWs written at once, and the background write no longer wanted.
    writeOffsetCheckpoint(nodeFileSystem, file, [{ topic: 't', partition: 0, offset: 8 }]);
    wanted = false;
    expect(await background).toBe(false);
    expect([...readOffsetCheckpoint(nodeFileSystem, file).values()]).toEqual([{ topic: 't', partition: 0, offset: 8 }]);
    expect(fs.readdirSync(dir)).toEqual(['replication-offset-checkpoint']);
  });
});
