/**
 * The lock that gives a data directory to one process: `<dir>/.lock`, held with an advisory OS
 * lock on an open file description, as Kafka holds its `.lock` with `FileChannel.tryLock`. The lock
 * comes from fs-native-extensions (Linux `fcntl(F_OFD_SETLK)`, macOS `flock`, Windows
 * `LockFileEx`), because Node has no file lock of its own.
 *
 * Why an OS lock and not a pid file: the kernel drops the lock when the holder's last descriptor
 * closes, however the process ends (exit, SIGKILL, OOM kill), so a crashed broker never leaves a
 * lock that blocks its restart, and no pid is ever trusted. A pid can be reused by an unrelated
 * process, and in a container the broker is often pid 1 on every start. The pid written into the
 * file is only for the error message. An open-file-description lock also conflicts with a second
 * open of the same file in the same process, so one process cannot open a directory twice.
 *
 * The file stays when the lock is released (Kafka leaves `.lock` too): deleting it would let a
 * process that opened the old file and one that created a new file both hold "the" lock.
 * Not for concurrent use; Node runs this on one thread.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

export const LOCK_FILE = '.lock';

/** The part of fs-native-extensions we use (the package ships no types). */
export interface OsLock {
  /** Takes an exclusive lock on the whole file without waiting; false when another holder has it. */
  tryLock(fd: number): boolean;
}

/** Another live process (or another `Gregor.open` in this one) holds the data directory. */
export class DataDirLockedError extends Error {
  readonly code = 'DATA_DIR_LOCKED';
  readonly retriable = false;
  constructor(
    readonly dir: string,
    /** The holder's pid as it wrote it into the lock file; undefined when unreadable. */
    readonly pid: number | undefined,
  ) {
    super(`the data directory ${dir} is in use by ${pid === undefined ? 'another process' : `process ${pid}`}`);
    this.name = 'DataDirLockedError';
  }
}

/** This platform has no OS file lock we can load; the directory cannot be opened safely. */
export class DataDirLockUnavailableError extends Error {
  readonly code = 'DATA_DIR_LOCK_UNAVAILABLE';
  readonly retriable = false;
  constructor(dir: string, cause: unknown) {
    super(`cannot lock the data directory ${dir}: no file lock on ${process.platform}-${process.arch} (${(cause as Error).message})`, { cause });
    this.name = 'DataDirLockUnavailableError';
  }
}

let osLock: OsLock | Error | undefined;

function loadOsLock(): OsLock | Error {
  if (osLock === undefined) {
    try {
      osLock = createRequire(import.meta.url)('fs-native-extensions') as OsLock;
    } catch (error) {
      osLock = error as Error;
    }
  }
  return osLock;
}

/**
 * Takes `<dir>/.lock` for this process (creating the directory), or throws DataDirLockedError.
 * Returns the release function: it closes the descriptor, which drops the lock. `lock` is the OS
 * lock to use (fs-native-extensions, or why it could not be loaded); tests pass their own.
 */
export function lockDataDir(dir: string, lock: OsLock | Error = loadOsLock()): () => void {
  if (lock instanceof Error) throw new DataDirLockUnavailableError(dir, lock);
  fs.mkdirSync(dir, { recursive: true });
  const lockPath = path.join(dir, LOCK_FILE);
  // 'a+' creates the file if needed and never truncates it before the lock is ours.
  const fd = fs.openSync(lockPath, 'a+', 0o644);
  let locked: boolean;
  try {
    locked = lock.tryLock(fd);
  } catch (error) {
    fs.closeSync(fd);
    throw error;
  }
  if (!locked) {
    const pid = readPid(fd);
    fs.closeSync(fd);
    throw new DataDirLockedError(dir, pid);
  }
  fs.ftruncateSync(fd, 0);
  fs.writeSync(fd, `${process.pid}\n`, 0);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    fs.closeSync(fd);
  };
}

function readPid(fd: number): number | undefined {
  const buffer = Buffer.alloc(32);
  const length = fs.readSync(fd, buffer, 0, buffer.length, 0);
  const pid = Number.parseInt(buffer.toString('utf8', 0, length), 10);
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}
