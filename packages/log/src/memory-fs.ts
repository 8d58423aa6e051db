/**
 * A file system in memory that models the page cache, for deterministic fault tests (as
 * TigerBeetle's testing storage). Callers: tests, and simulations that own the instance.
 *
 * The model:
 * - Each file has durable content and a list of unsynced operations (writes, truncations) in the
 *   order they were made. Reads see both. `File.sync()` applies the list to the durable content.
 * - `crash()` closes every open handle and drops each file's unsynced operations; with
 *   `keepRandomPrefix` it keeps, per file, a random prefix of them (seeded), as a kernel that wrote
 *   back some dirty pages before power was lost.
 * - Directory operations (create, rename, unlink, mkdir, rmdir) are durable at once, as on ext4
 *   when the caller fsyncs the directory after each; `nodeFileSystem.rename` does exactly that.
 *   A file created and never synced survives a crash empty.
 * - Faults: `tearNextWrite(keepBytes)` makes the next write store only its first `keepBytes`
 *   bytes while reporting full success (a torn sector write seen after the next crash);
 *   `flipBit` flips one bit of both durable and current content (bit rot); `failNext(operation)`
 *   makes the next call of that operation throw an EIO-like `FileSystemError`; `setDiskFull(true)`
 *   makes every write, directory creation and atomic file write throw ENOSPC until it is turned
 *   off, leaving the content as it was (creating an empty file still works, as on a real disk
 *   with free inodes).
 */
import path from 'node:path';
import { FileSystemError } from './errors.js';
import type { File, FileSystem, OpenOptions } from './fs.js';

/** Content with spare capacity; bytes between `size` and the buffer's end are always zero. */
class Content {
  buffer: Buffer;
  size: number;
  constructor(buffer = Buffer.alloc(0), size = 0) {
    this.buffer = buffer;
    this.size = size;
  }
  clone(): Content {
    return new Content(Buffer.from(this.buffer.subarray(0, Math.min(this.size, this.buffer.length))), this.size);
  }
  write(data: Uint8Array, position: number): void {
    const end = position + data.length;
    if (end > this.buffer.length) {
      const grown = Buffer.alloc(Math.max(end, Math.min(this.buffer.length * 2, end + 64 * 1024 * 1024)));
      this.buffer.copy(grown, 0, 0, Math.min(this.size, this.buffer.length));
      this.buffer = grown;
    }
    this.buffer.set(data, position);
    this.size = Math.max(this.size, end);
  }
  truncate(length: number): void {
    if (length < this.size) this.buffer.fill(0, Math.min(length, this.buffer.length), Math.min(this.size, this.buffer.length));
    this.size = length;
  }
  read(target: Uint8Array, targetOffset: number, length: number, position: number): number {
    const end = Math.min(this.size, position + length);
    if (end <= position) return 0;
    const fromBuffer = Math.max(0, Math.min(end, this.buffer.length) - position);
    if (fromBuffer > 0) target.set(this.buffer.subarray(position, position + fromBuffer), targetOffset);
    // Past the buffer lies zero-extended (sparse) space.
    target.fill(0, targetOffset + fromBuffer, targetOffset + (end - position));
    return end - position;
  }
}

type PendingOperation = { kind: 'write'; position: number; data: Buffer } | { kind: 'truncate'; length: number };

class Node {
  durable = new Content();
  current = new Content();
  pending: PendingOperation[] = [];
  apply(operation: PendingOperation, content: Content): void {
    if (operation.kind === 'write') content.write(operation.data, operation.position);
    else content.truncate(operation.length);
  }
}

export type FileSystemOperation =
  | 'open' | 'read' | 'write' | 'sync' | 'truncate' | 'rename' | 'unlink' | 'mkdir' | 'readdir' | 'writeFileAtomic';

function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

class MemoryFile implements File {
  closed = false;
  constructor(private owner: MemoryFileSystem, private node: Node, private filePath: string) {}
  private check(operation: FileSystemOperation): void {
    if (this.closed) throw new FileSystemError('EBADF', operation, this.filePath, `EBADF: ${operation} on a closed file ${this.filePath}`);
    this.owner.maybeFail(operation, this.filePath);
  }
  read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): number {
    this.check('read');
    return this.node.current.read(buffer, bufferOffset, length, position);
  }
  write(buffer: Uint8Array, bufferOffset: number, length: number, position: number): number {
    this.check('write');
    const keep = this.owner.takeTear(length);
    const data = Buffer.from(buffer.subarray(bufferOffset, bufferOffset + keep));
    const operation: PendingOperation = { kind: 'write', position, data };
    this.node.pending.push(operation);
    this.node.apply(operation, this.node.current);
    return length;
  }
  size(): number {
    if (this.closed) throw new FileSystemError('EBADF', 'fstat', this.filePath);
    return this.node.current.size;
  }
  truncate(length: number): void {
    this.check('truncate');
    const operation: PendingOperation = { kind: 'truncate', length };
    this.node.pending.push(operation);
    this.node.apply(operation, this.node.current);
  }
  sync(): void {
    this.check('sync');
    for (const operation of this.node.pending) this.node.apply(operation, this.node.durable);
    this.node.pending = [];
  }
  close(): void {
    this.closed = true;
    this.owner.forget(this);
  }
}

export interface MemoryFileSystemOptions {
  /** Seed of the generator that picks which unsynced writes survive `crash({ keepRandomPrefix })`. */
  seed?: number;
}

export class MemoryFileSystem implements FileSystem {
  private files = new Map<string, Node>();
  private directories = new Set<string>(['/']);
  private handles = new Set<MemoryFile>();
  private failures: { operation: FileSystemOperation; error: Error; skip: number }[] = [];
  private tearKeepBytes: number | undefined;
  private diskFull = false;
  private random: () => number;

  constructor(options: MemoryFileSystemOptions = {}) {
    this.random = mulberry32(options.seed ?? 1);
  }

  // --- faults -----------------------------------------------------------------------------------

  /**
   * Loses unsynced writes (all, or per file all but a random prefix) and closes every open handle.
   * With `tearWrites` as well, the first unsynced write past the kept prefix of each file is kept
   * in part (a random number of its first bytes): the write the power cut interrupted.
   * With `processOnly` only the process dies (SIGKILL), not the machine: every write it made
   * survives (the kernel writes the page cache back), only its handles close.
   */
  crash(options: { keepRandomPrefix?: boolean; tearWrites?: boolean; processOnly?: boolean } = {}): void {
    for (const handle of this.handles) handle.closed = true;
    this.handles.clear();
    for (const node of this.files.values()) {
      const kept = options.processOnly ? node.pending.length : options.keepRandomPrefix ? Math.floor(this.random() * (node.pending.length + 1)) : 0;
      for (const operation of node.pending.slice(0, kept)) node.apply(operation, node.durable);
      const interrupted = node.pending[kept];
      if (options.tearWrites && interrupted?.kind === 'write' && interrupted.data.length > 1) {
        const keepBytes = Math.floor(this.random() * interrupted.data.length);
        if (keepBytes > 0) node.apply({ kind: 'write', position: interrupted.position, data: interrupted.data.subarray(0, keepBytes) }, node.durable);
      }
      node.pending = [];
      node.current = node.durable.clone();
    }
    this.tearKeepBytes = undefined;
    this.failures = [];
  }

  /** The next write stores only its first `keepBytes` bytes but reports full success. */
  tearNextWrite(keepBytes: number): void {
    this.tearKeepBytes = keepBytes;
  }

  /** Flips bit `bit` (0-7) of the byte at `position`, in durable and current content alike. */
  flipBit(filePath: string, position: number, bit: number): void {
    const node = this.node(filePath, 'flipBit');
    for (const content of [node.current, node.durable]) {
      if (position < content.size && position < content.buffer.length) content.buffer[position] ^= 1 << bit;
    }
  }

  /**
   * The next call of `operation` (or, with `afterCalls`, the call after that many more succeed)
   * throws `error` (default: an EIO `FileSystemError`). Each call to failNext fails one call.
   */
  failNext(operation: FileSystemOperation, error?: Error, options: { afterCalls?: number } = {}): void {
    this.failures.push({ operation, error: error ?? new FileSystemError('EIO', operation, '', `EIO: injected ${operation} failure`), skip: options.afterCalls ?? 0 });
  }

  /** While full, writes, new directories and atomic file writes fail with ENOSPC and change nothing. */
  setDiskFull(full: boolean): void {
    this.diskFull = full;
  }

  /** Writes bytes straight into a file's durable and current content (test setup of corrupt files). */
  overwrite(filePath: string, position: number, data: Uint8Array): void {
    const node = this.node(filePath, 'overwrite');
    node.current.write(data, position);
    node.durable.write(data, position);
  }

  /** Unsynced operations pending on a file (for tests of the flush policy). */
  unsyncedOperations(filePath: string): number {
    return this.node(filePath, 'stat').pending.length;
  }

  // --- internal hooks used by MemoryFile ------------------------------------------------------

  maybeFail(operation: FileSystemOperation, filePath: string): void {
    if (this.diskFull && (operation === 'write' || operation === 'writeFileAtomic')) {
      throw new FileSystemError('ENOSPC', operation, filePath, `ENOSPC: no space left on device, ${operation} '${filePath}'`);
    }
    const index = this.failures.findIndex((failure) => failure.operation === operation);
    if (index < 0) return;
    if (this.failures[index].skip > 0) {
      this.failures[index].skip--;
      return;
    }
    const [failure] = this.failures.splice(index, 1);
    if (failure.error instanceof FileSystemError && failure.error.path === '') {
      throw new FileSystemError(failure.error.code, operation, filePath, `${failure.error.code}: injected ${operation} failure on ${filePath}`);
    }
    throw failure.error;
  }

  takeTear(length: number): number {
    if (this.tearKeepBytes === undefined) return length;
    const keep = Math.min(length, this.tearKeepBytes);
    this.tearKeepBytes = undefined;
    return keep;
  }

  forget(handle: MemoryFile): void {
    this.handles.delete(handle);
  }

  // --- FileSystem ------------------------------------------------------------------------------

  private normalize(filePath: string): string {
    return path.posix.resolve('/', filePath);
  }

  private node(filePath: string, syscall: string): Node {
    const node = this.files.get(this.normalize(filePath));
    if (!node) throw new FileSystemError('ENOENT', syscall, filePath);
    return node;
  }

  private requireParent(filePath: string, syscall: string): void {
    if (!this.directories.has(path.posix.dirname(filePath))) throw new FileSystemError('ENOENT', syscall, filePath);
  }

  openFile(filePath: string, options: OpenOptions = {}): File {
    const key = this.normalize(filePath);
    this.maybeFail('open', key);
    let node = this.files.get(key);
    if (!node) {
      if (!options.create) throw new FileSystemError('ENOENT', 'open', key);
      this.requireParent(key, 'open');
      if (this.directories.has(key)) throw new FileSystemError('EISDIR', 'open', key);
      node = new Node();
      this.files.set(key, node);
    }
    const file = new MemoryFile(this, node, key);
    this.handles.add(file);
    if (options.truncate) file.truncate(0);
    return file;
  }

  readdir(dirPath: string): string[] {
    const key = this.normalize(dirPath);
    this.maybeFail('readdir', key);
    if (!this.directories.has(key)) throw new FileSystemError('ENOENT', 'scandir', key);
    const prefix = key === '/' ? '/' : `${key}/`;
    const names: string[] = [];
    for (const entry of [...this.files.keys(), ...this.directories]) {
      if (entry.startsWith(prefix) && entry.length > prefix.length && !entry.slice(prefix.length).includes('/')) names.push(entry.slice(prefix.length));
    }
    return names.sort();
  }

  mkdir(dirPath: string): void {
    const key = this.normalize(dirPath);
    this.maybeFail('mkdir', key);
    let current = key;
    if (this.diskFull && !this.directories.has(key)) throw new FileSystemError('ENOSPC', 'mkdir', key, `ENOSPC: no space left on device, mkdir '${key}'`);
    while (!this.directories.has(current)) {
      if (this.files.has(current)) throw new FileSystemError('EEXIST', 'mkdir', current);
      this.directories.add(current);
      current = path.posix.dirname(current);
    }
  }

  rename(from: string, to: string): void {
    const source = this.normalize(from);
    const target = this.normalize(to);
    this.maybeFail('rename', source);
    const node = this.files.get(source);
    if (!node) throw new FileSystemError('ENOENT', 'rename', source);
    this.requireParent(target, 'rename');
    this.files.delete(source);
    this.files.set(target, node);
  }

  unlink(filePath: string): void {
    const key = this.normalize(filePath);
    this.maybeFail('unlink', key);
    if (!this.files.delete(key)) throw new FileSystemError('ENOENT', 'unlink', key);
  }

  exists(filePath: string): boolean {
    const key = this.normalize(filePath);
    return this.files.has(key) || this.directories.has(key);
  }

  isDirectory(filePath: string): boolean {
    return this.directories.has(this.normalize(filePath));
  }

  rmdir(dirPath: string): void {
    const key = this.normalize(dirPath);
    const prefix = `${key}/`;
    for (const entry of [...this.files.keys()]) if (entry.startsWith(prefix)) this.files.delete(entry);
    for (const entry of [...this.directories]) if (entry === key || entry.startsWith(prefix)) this.directories.delete(entry);
  }

  readFile(filePath: string): Buffer {
    const node = this.node(filePath, 'open');
    this.maybeFail('read', this.normalize(filePath));
    const data = Buffer.alloc(node.current.size);
    node.current.read(data, 0, data.length, 0);
    return data;
  }

  writeFileAtomic(filePath: string, data: Uint8Array): void {
    const key = this.normalize(filePath);
    this.maybeFail('writeFileAtomic', key);
    this.requireParent(key, 'open');
    // Temporary file, fsync, rename, directory fsync: the new content is durable in one step.
    const node = new Node();
    node.durable.write(data, 0);
    node.current = node.durable.clone();
    this.files.set(key, node);
  }
}
