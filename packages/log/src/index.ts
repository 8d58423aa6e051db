/**
 * `@gregor/log`: one partition on disk in Kafka's layout (segments, offset and time indexes,
 * leader-epoch checkpoint), the log manager of a data directory, and the file system and clock
 * interfaces they run on.
 */
export * from './errors.js';
export * from './clock.js';
export * from './config.js';
export * from './fs.js';
export { MemoryFileSystem, type MemoryFileSystemOptions, type FileSystemOperation } from './memory-fs.js';
export { OffsetIndex, TimeIndex, IndexCorruptError } from './index-file.js';
export * from './checkpoint.js';
export * from './leader-epoch.js';
export { LogSegment, segmentFileName, LOG_FILE_SUFFIX, INDEX_FILE_SUFFIX, TIME_INDEX_FILE_SUFFIX, type ScannedBatch, type DroppedRange } from './segment.js';
export { CORRUPT_FILE_SUFFIX, corruptCopyPath, damageChannel, type DamagedRange, reportDamage, stderrWarningSink, type WarningSink } from './damage.js';
export * from './partition-log.js';
export type { CompactionStats } from './cleaner.js';
export * from './log-manager.js';
export { dumpLogFile, type DumpOptions } from './dump.js';
export { appendChannel, rollChannel, recoverChannel } from './channels.js';
