/**
 * Producer ids for InitProducerId (Kafka's ProducerIdManager): ids are handed out from blocks of
 * consecutive ids, and a block is reserved durably by its source before any id in it is used, so
 * no id is handed out twice, across restarts too. Uniqueness never depends on the clock.
 *
 * The block source is the seam the cluster work swaps: on one broker it is the data dir
 * (`ProducerIdBlockFile`); with a controller quorum it becomes the controller's
 * AllocateProducerIds, which answers asynchronously. Like Kafka's RPCProducerIdManager, the
 * allocator asks for the next block when 90% of the current one is used, and while no block is
 * ready it fails with a retriable error (COORDINATOR_LOAD_IN_PROGRESS, which every client retries)
 * instead of waiting. A synchronous source always has the next block ready.
 * Single-threaded: the broker calls `allocate()` from the event loop.
 */
import assert from 'node:assert';
import { ErrorCode } from '@gregor/protocol';
import { BrokerError } from './errors.js';

/** Kafka's ProducerIdsBlock.PRODUCER_ID_BLOCK_SIZE. */
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** Kafka's PidPrefetchThreshold: ask for the next block once this share of the current one is used. */
const PREFETCH_THRESHOLD = 0.9;

/** `size` consecutive ids from `firstProducerId`, reserved for this broker (Kafka's ProducerIdsBlock). */
export interface ProducerIdBlock {
  firstProducerId: number;
  size: number;
}

/** Hands out producer ids, each at most once. */
export interface ProducerIdAllocator {
  /** The next unused id; throws a BrokerError with a retriable `errorCode` when none is ready. */
  allocate(): number;
}

/** Where blocks come from. A block it returns is durably reserved: it is never returned again. */
export interface ProducerIdBlockSource {
  nextBlock(): ProducerIdBlock | Promise<ProducerIdBlock>;
}

export class BlockProducerIdAllocator implements ProducerIdAllocator {
  private current: ProducerIdBlock | null = null;
  private nextId = 0;
  private prefetched: ProducerIdBlock | null = null;
  private requesting = false;
  /** Why the last request for a block failed, reported until a request succeeds. */
  private lastFailure: unknown = null;

  constructor(private readonly source: ProducerIdBlockSource) {}

  allocate(): number {
    if (this.current === null || this.nextId >= this.current.firstProducerId + this.current.size) {
      if (this.prefetched === null) this.requestBlock();
      if (this.prefetched === null) throw this.unavailable();
      this.useBlock(this.prefetched);
      this.prefetched = null;
    }
    const block = this.current as ProducerIdBlock;
    const id = this.nextId++;
    if (id === block.firstProducerId + Math.floor(block.size * PREFETCH_THRESHOLD)) this.requestBlock();
    return id;
  }

  private useBlock(block: ProducerIdBlock): void {
    assert(Number.isSafeInteger(block.firstProducerId) && block.firstProducerId >= 0 && Number.isSafeInteger(block.size) && block.size > 0, 'a producer id block is a positive range of safe integers');
    // Blocks only move forward (Kafka checks the controller's answer the same way).
    if (this.current !== null) assert(block.firstProducerId >= this.current.firstProducerId + this.current.size, 'producer id blocks do not overlap');
    this.current = block;
    this.nextId = block.firstProducerId;
  }

  /** Asks the source for the next block unless one is ready or on its way. */
  private requestBlock(): void {
    if (this.prefetched !== null || this.requesting) return;
    let answer: ProducerIdBlock | Promise<ProducerIdBlock>;
    try {
      answer = this.source.nextBlock();
    } catch (error) {
      this.lastFailure = error;
      return;
    }
    if (!(answer instanceof Promise)) {
      this.accept(answer);
      return;
    }
    this.requesting = true;
    answer.then(
      (block) => {
        this.requesting = false;
        this.accept(block);
      },
      (error: unknown) => {
        this.requesting = false;
        this.lastFailure = error;
      },
    );
  }

  private accept(block: ProducerIdBlock): void {
    this.prefetched = block;
    this.lastFailure = null;
  }

  private unavailable(): BrokerError {
    const why = this.lastFailure === null ? 'waiting for the next block' : `the last request for a block failed: ${(this.lastFailure as Error).message}`;
    return new BrokerError('PRODUCER_IDS_UNAVAILABLE', `No producer id available (${why})`, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
  }
}
