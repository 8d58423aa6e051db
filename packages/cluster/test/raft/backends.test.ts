/**
 * The quorum's files on the real disk (a temporary directory, nodeFileSystem) and on the memory
 * file system alike: the log, quorum-state and snapshots are written, renamed, listed and reopened
 * through the same FileSystem calls.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type FileSystem, MemoryFileSystem, nodeFileSystem } from '@gregor/log';
import { afterEach, describe, expect, it } from 'vitest';
import { openNode, RecordingListener } from './support.js';

const backends: Array<[string, () => { fs: FileSystem; dir: string; cleanup: () => void }]> = [
  [
    'node',
    () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-raft-'));
      return { fs: nodeFileSystem, dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
    },
  ],
  ['memory', () => ({ fs: new MemoryFileSystem(), dir: '/meta', cleanup: () => {} })],
];

describe.each(backends)('the quorum on the %s file system', (_name, makeBackend) => {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  function backend() {
    const made = makeBackend();
    cleanups.push(made.cleanup);
    return made;
  }

  it('keeps its log, election state and snapshots across a restart, and reloads the newest snapshot then the log after it', async () => {
    const { fs: files, dir } = backend();
    const first = await openNode({ nodeId: 1, voters: [1], fs: files, dir, config: { metadataLogSegmentBytes: 200, metadataMaxRetentionBytes: 0 } });
    let last = 0;
    for (const value of ['a', 'b', 'c', 'd', 'e', 'f']) last = await first.raft.append([Buffer.from(value)]);
    const writer = first.raft.createSnapshot(last - 2, 1);
    writer?.append([Buffer.from('a..d')]);
    writer?.freeze();
    await first.raft.close();
    const partitionDir = path.join(dir, '__cluster_metadata-0');
    const names = files.readdir(partitionDir);
    expect(names).toContain('quorum-state');
    expect(names).toContain('00000000000000000005-0000000001.checkpoint');
    expect(names.some((name) => name.endsWith('.part'))).toBe(false);
    expect(JSON.parse(files.readFile(path.join(partitionDir, 'quorum-state')).toString())).toMatchObject({ leaderId: 1, leaderEpoch: 1, votedId: 1, data_version: 0 });

    const second = await openNode({ nodeId: 1, voters: [1], fs: files, dir, clock: first.clock, config: { metadataLogSegmentBytes: 200, metadataMaxRetentionBytes: 0 } });
    expect(second.raft.leaderAndEpoch).toEqual({ leaderId: 1, epoch: 2 });
    expect(second.raft.logStartOffset).toBe(5);
    const listener = new RecordingListener();
    second.raft.register(listener);
    expect(listener.snapshots).toEqual([{ endOffset: 5, epoch: 1, values: ['a..d'] }]);
    expect(listener.values).toEqual(['e', 'f']);
    await second.raft.close();
  });

  it('deletes a snapshot a crash left unfinished', async () => {
    const { fs: files, dir } = backend();
    const first = await openNode({ nodeId: 1, voters: [1], fs: files, dir });
    const offset = await first.raft.append([Buffer.from('x')]);
    first.raft.createSnapshot(offset, 1)?.append([Buffer.from('half')]);
    first.raft.kill();
    const partitionDir = path.join(dir, '__cluster_metadata-0');
    expect(files.readdir(partitionDir).some((name) => name.endsWith('.checkpoint.part'))).toBe(true);
    const second = await openNode({ nodeId: 1, voters: [1], fs: files, dir, clock: first.clock });
    expect(files.readdir(partitionDir).filter((name) => name.includes('.checkpoint'))).toEqual([]);
    await second.raft.close();
  });
});
