/**
 * The producer id block a single broker reserved last, kept in `<dir>/latest-producer-id-block`
 * (the file stands for the znode `/latest_producer_id_block` where Kafka before KRaft kept it,
 * with the same fields). Java-properties text, one field a line:
 *
 *   version=1
 *   broker=<node id that reserved the block>
 *   block_start=<first id>
 *   block_end=<last id, inclusive>
 *   crc32c=<CRC-32C of the lines above, their newlines included, as an unsigned decimal>
 *
 * `nextBlock()` writes the new block with writeFileAtomic (temporary file, fsync, rename) before
 * returning it, so every id handed out lies in a block that is durable, and the next open starts
 * after it. A file that cannot be read or fails its CRC is not trusted: the next block then starts
 * above every producer id the partitions remember (`highestKnownProducerId`), rounded up to a
 * block boundary, and the damage is reported through `onWarning`. Ids that were handed out but
 * never produced with may then be handed out again, which is the best that can be done without
 * the file. Only the broker's allocator calls it, from the event loop.
 */
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { crc32c } from '@gregor/records';
import { BrokerError } from './errors.js';
import { parseProperties } from './properties.js';
import { PRODUCER_ID_BLOCK_SIZE, type ProducerIdBlock, type ProducerIdBlockSource } from './producer-id-allocator.js';

export const PRODUCER_ID_BLOCK_FILE = 'latest-producer-id-block';
const FILE_VERSION = 1;

export interface ProducerIdBlockFileOptions {
  fs: FileSystem;
  dir: string;
  nodeId: number;
  /** The highest producer id any partition's state holds (-1: none); used only when the file is damaged. */
  highestKnownProducerId: () => number;
  onWarning?: (message: string) => void;
  blockSize?: number;
}

export class ProducerIdBlockFile implements ProducerIdBlockSource {
  readonly filePath: string;
  private readonly blockSize: number;

  constructor(private readonly options: ProducerIdBlockFileOptions) {
    this.filePath = path.join(options.dir, PRODUCER_ID_BLOCK_FILE);
    this.blockSize = options.blockSize ?? PRODUCER_ID_BLOCK_SIZE;
  }

  nextBlock(): ProducerIdBlock {
    const firstProducerId = this.nextFirstProducerId();
    const lastProducerId = firstProducerId + this.blockSize - 1;
    if (!Number.isSafeInteger(lastProducerId)) {
      throw new BrokerError('PRODUCER_IDS_EXHAUSTED', `No producer id block left after ${firstProducerId - 1} (ids are safe integers)`);
    }
    this.options.fs.writeFileAtomic(this.filePath, formatBlock(this.options.nodeId, firstProducerId, lastProducerId));
    return { firstProducerId, size: this.blockSize };
  }

  /** The first id after the stored block; after damage, after every id the partitions know. */
  private nextFirstProducerId(): number {
    const { fs } = this.options;
    if (!fs.exists(this.filePath)) return 0;
    let problem: string;
    try {
      const stored = parseBlock(fs.readFile(this.filePath));
      if (typeof stored === 'number') return stored + 1;
      problem = stored.problem;
    } catch (error) {
      problem = (error as Error).message;
    }
    const highest = this.options.highestKnownProducerId();
    const next = (Math.floor((highest + 1) / this.blockSize) + 1) * this.blockSize;
    this.options.onWarning?.(`${this.filePath} is damaged (${problem}); the next producer id block starts at ${next}, above every producer id the partitions remember, and ids handed out before that were never used may repeat`);
    return next;
  }
}

export function formatBlock(nodeId: number, firstProducerId: number, lastProducerId: number): Buffer {
  const body = `version=${FILE_VERSION}\nbroker=${nodeId}\nblock_start=${firstProducerId}\nblock_end=${lastProducerId}\n`;
  return Buffer.from(`${body}crc32c=${crc32c(Buffer.from(body, 'utf8')) >>> 0}\n`, 'utf8');
}

/** The last id of the stored block, or why the file cannot be trusted. */
export function parseBlock(content: Buffer): number | { problem: string } {
  const text = content.toString('utf8');
  const crcAt = text.lastIndexOf('crc32c=');
  if (crcAt < 0) return { problem: 'no crc32c line' };
  const body = text.slice(0, crcAt);
  const properties = parseProperties(text);
  if (String(crc32c(Buffer.from(body, 'utf8')) >>> 0) !== properties.get('crc32c')) return { problem: 'CRC mismatch' };
  if (properties.get('version') !== String(FILE_VERSION)) return { problem: `unknown version ${properties.get('version')}` };
  const start = Number(properties.get('block_start'));
  const end = Number(properties.get('block_end'));
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) return { problem: `bad block ${properties.get('block_start')}..${properties.get('block_end')}` };
  return end;
}
