/**
 * The file system the log sees: synchronous, positional, small. Synchronous because the append
 * path is one write of an already-encoded buffer into the page cache, which a sync call does
 * cheaper than a promise round trip, and because it makes the fault-injecting `MemoryFileSystem`
 * deterministic. Callers: `@gregor/log` only (segments, indexes, checkpoints, the log manager).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface File {
  /** Reads up to `length` bytes at `position` into `buffer[bufferOffset..]`; returns bytes read (0 at end of file). */
  read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): number;
  /** Writes `buffer[bufferOffset..bufferOffset+length)` at `position`; returns bytes written. */
  write(buffer: Uint8Array, bufferOffset: number, length: number, position: number): number;
  size(): number;
  /** Sets the file's length, cutting or zero-extending it. */
  truncate(length: number): void;
  /** Makes every write so far durable (fdatasync). */
  sync(): void;
  close(): void;
}

export interface OpenOptions {
  /** Create the file if missing (default false: missing file is ENOENT). */
  create?: boolean;
  /** Cut the file to zero length on open. */
  truncate?: boolean;
}

export interface FileSystem {
  openFile(filePath: string, options?: OpenOptions): File;
  /** Entry names (not paths) of a directory. */
  readdir(dirPath: string): string[];
  /** Creates a directory and its parents; existing is fine. */
  mkdir(dirPath: string): void;
  /** Atomically replaces `to` with `from`; durable once it returns (directory synced). Creating
   * (`openFile` with `create`), `mkdir` and `unlink` are durable on return as well. */
  rename(from: string, to: string): void;
  unlink(filePath: string): void;
  exists(filePath: string): boolean;
  /** Removes a directory and everything below it. */
  rmdir(dirPath: string): void;
  readFile(filePath: string): Buffer;
  /** Writes a temporary file, syncs it, renames it over `filePath` and syncs the directory. */
  writeFileAtomic(filePath: string, data: Uint8Array): void;
  /**
   * `writeFileAtomic` for periodic checkpoints, with the write and the two syncs (milliseconds of
   * disk wait each) off the event loop, on libuv's thread pool. The rename happens on the event
   * loop, and only while `stillWanted()` says so (it is asked once the temporary file is durable):
   * a synchronous `writeFileAtomic` of the same file made meanwhile (a shutdown) is then never
   * replaced by this older content. Resolves false when not renamed. Optional: a file system
   * without it (the simulation's) is written with `writeFileAtomic`.
   */
  writeFileAtomicInBackground?(filePath: string, data: Uint8Array, stillWanted: () => boolean): Promise<boolean>;
  isDirectory(filePath: string): boolean;
  /**
   * Size of the file system holding `dirPath` and the bytes an unprivileged writer may still use
   * (statfs: blocks and available blocks times the block size). Optional: a file system that
   * cannot tell leaves it out, and DescribeLogDirs then reports -1 (Kafka's "unknown").
   */
  diskSpace?(dirPath: string): { totalBytes: number; usableBytes: number };
}

class NodeFile implements File {
  constructor(private fd: number) {}
  read(buffer: Uint8Array, bufferOffset: number, length: number, position: number): number {
    let done = 0;
    // readSync may return fewer bytes than asked (large reads); loop until the end of file.
    while (done < length) {
      const n = fs.readSync(this.fd, buffer, bufferOffset + done, length - done, position + done);
      if (n === 0) break;
      done += n;
    }
    return done;
  }
  write(buffer: Uint8Array, bufferOffset: number, length: number, position: number): number {
    let done = 0;
    while (done < length) done += fs.writeSync(this.fd, buffer, bufferOffset + done, length - done, position + done);
    return done;
  }
  size(): number {
    return fs.fstatSync(this.fd).size;
  }
  truncate(length: number): void {
    fs.ftruncateSync(this.fd, length);
  }
  sync(): void {
    fs.fdatasyncSync(this.fd);
  }
  close(): void {
    fs.closeSync(this.fd);
  }
}

function syncDirectory(dirPath: string): void {
  const fd = fs.openSync(dirPath, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** The real file system through `node:fs`, positional `readSync`/`writeSync` and `fdatasyncSync`. */
export const nodeFileSystem: FileSystem = {
  openFile(filePath, options = {}) {
    let flags = fs.constants.O_RDWR;
    if (options.truncate) flags |= fs.constants.O_TRUNC;
    if (options.create) {
      // A new file's directory entry is durable only after the directory is synced (fsync(2)).
      try {
        const fd = fs.openSync(filePath, flags | fs.constants.O_CREAT | fs.constants.O_EXCL, 0o644);
        syncDirectory(path.dirname(filePath));
        return new NodeFile(fd);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    }
    return new NodeFile(fs.openSync(filePath, flags, 0o644));
  },
  readdir: (dirPath) => fs.readdirSync(dirPath),
  mkdir: (dirPath) => {
    const created = fs.mkdirSync(dirPath, { recursive: true });
    if (created !== undefined) syncDirectory(path.dirname(created));
  },
  rename(from, to) {
    fs.renameSync(from, to);
    syncDirectory(path.dirname(to));
  },
  unlink(filePath) {
    fs.unlinkSync(filePath);
    // Deletions must stick too: a truncated-away segment must not come back after a crash.
    syncDirectory(path.dirname(filePath));
  },
  exists: (filePath) => fs.existsSync(filePath),
  rmdir: (dirPath) => fs.rmSync(dirPath, { recursive: true, force: true }),
  readFile: (filePath) => fs.readFileSync(filePath),
  writeFileAtomic(filePath, data) {
    const temporary = `${filePath}.tmp`;
    const fd = fs.openSync(temporary, 'w', 0o644);
    try {
      try {
        let written = 0;
        while (written < data.length) written += fs.writeSync(fd, data, written, data.length - written, written);
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
      fs.renameSync(temporary, filePath);
    } catch (error) {
      // A full disk (ENOSPC) or an I/O error: the old file stays, and no `.tmp` is left behind.
      try {
        fs.rmSync(temporary, { force: true });
      } catch {
        // The write's error is the one to report; a temporary file that cannot be removed is
        // removed by the next successful write of the same file (or by log recovery).
      }
      throw error;
    }
    syncDirectory(path.dirname(filePath));
  },
  async writeFileAtomicInBackground(filePath, data, stillWanted) {
    // Its own temporary name: a synchronous writeFileAtomic of the same file may run meanwhile.
    const temporary = `${filePath}.background.tmp`;
    try {
      const handle = await fs.promises.open(temporary, 'w', 0o644);
      try {
        await handle.writeFile(data);
        await handle.sync();
      } finally {
        await handle.close();
      }
      if (!stillWanted()) {
        fs.rmSync(temporary, { force: true });
        return false;
      }
      fs.renameSync(temporary, filePath);
    } catch (error) {
      try {
        fs.rmSync(temporary, { force: true });
      } catch {
        // As in writeFileAtomic: the write's error is the one to report.
      }
      throw error;
    }
    const directory = await fs.promises.open(path.dirname(filePath), 'r');
    try {
      await directory.sync();
    } finally {
      await directory.close();
    }
    return true;
  },
  isDirectory: (filePath) => {
    try {
      return fs.statSync(filePath).isDirectory();
    } catch {
      return false;
    }
  },
  diskSpace: (dirPath) => {
    const stats = fs.statfsSync(dirPath);
    return { totalBytes: stats.blocks * stats.bsize, usableBytes: stats.bavail * stats.bsize };
  },
};
