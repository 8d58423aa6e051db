/**
 * A process that holds a data directory's lock until it is killed: `tsx hold-data-dir.ts <dir>`
 * prints `locked <pid>` once the lock is taken, or `refused <code>` and exits 3 when it is not.
 */
import { lockDataDir } from '../../src/data-dir-lock.js';

const dir = process.argv[2];
if (dir === undefined) throw new Error('usage: hold-data-dir.ts <dir>');
try {
  lockDataDir(dir);
} catch (error) {
  process.stdout.write(`refused ${(error as { code?: string }).code} ${(error as Error).message}\n`);
  process.exit(3);
}
process.stdout.write(`locked ${process.pid}\n`);
// Stay alive until the test kills us; the lock goes with the process.
setInterval(() => {}, 60_000);
