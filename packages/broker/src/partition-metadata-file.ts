/**
 * `partition.metadata` in each partition directory (Kafka's PartitionMetadataFile, KIP-516):
 *
 *   version: 0
 *   topic_id: <the topic id as Kafka prints a Uuid: 22 characters of base64url>
 *
 * It ties the directory to one incarnation of its topic, so a broker that was down while a topic
 * was deleted and created again under the same name recognises the old directory as stray.
 * Written once, atomically, when the broker first hosts the partition. Pure functions.
 */
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { uuidFromBase64, uuidToBase64 } from './ids.js';

export const PARTITION_METADATA_FILE = 'partition.metadata';

/** The topic id recorded in `dir` (8-4-4-4-12), or null when there is no readable file. */
export function readPartitionTopicId(fs: FileSystem, dir: string): string | null {
  const filePath = path.join(dir, PARTITION_METADATA_FILE);
  if (!fs.exists(filePath)) return null;
  const match = /^version: 0\ntopic_id: (\S+)\n?$/.exec(fs.readFile(filePath).toString('utf8'));
  return match === null ? null : uuidFromBase64(match[1]);
}

export function writePartitionTopicId(fs: FileSystem, dir: string, topicId: string): void {
  fs.writeFileAtomic(path.join(dir, PARTITION_METADATA_FILE), Buffer.from(`version: 0\ntopic_id: ${uuidToBase64(topicId)}\n`));
}
