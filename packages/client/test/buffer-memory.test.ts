import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BufferMemory } from '../src/buffer-memory.js';

type Op = { kind: 'reserve'; bytes: number } | { kind: 'release'; index: number };

describe('BufferMemory', () => {
  it('matches a FIFO reference model and never hands out more than its total', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.oneof(fc.record({ kind: fc.constant('reserve' as const), bytes: fc.integer({ min: 1, max: 40 }) }), fc.record({ kind: fc.constant('release' as const), index: fc.nat() })), { maxLength: 60 }),
        async (ops: Op[]) => {
          const total = 100;
          const memory = new BufferMemory(total);
          // Reference: free bytes, held grants, and the queue of waiting requests.
          let free = total;
          const held: number[] = [];
          const queue: number[] = [];
          const pending: Promise<void>[] = [];
          for (const op of ops) {
            if (op.kind === 'reserve') {
              pending.push(memory.reserve(op.bytes, 60_000).catch(() => {}));
              if (queue.length === 0 && op.bytes <= free) {
                free -= op.bytes;
                held.push(op.bytes);
              } else queue.push(op.bytes);
            } else if (held.length > 0) {
              const [bytes] = held.splice(op.index % held.length, 1);
              memory.release(bytes);
              free += bytes;
              while (queue.length > 0 && queue[0] <= free) {
                free -= queue[0];
                held.push(queue.shift()!);
              }
            }
            expect(memory.availableBytes).toBe(free);
            expect(memory.waiterCount).toBe(queue.length);
            expect(free).toBeGreaterThanOrEqual(0);
          }
          memory.failWaiters(new Error('done'));
          await Promise.all(pending);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('fails at once with BUFFER_FULL when blocking is off', async () => {
    const memory = new BufferMemory(10);
    await memory.reserve(8, 0);
    await expect(memory.reserve(5, 0)).rejects.toMatchObject({ code: 'BUFFER_FULL' });
  });

  it('rejects a request larger than the whole budget as RECORD_TOO_LARGE', async () => {
    await expect(new BufferMemory(10).reserve(11, 1000)).rejects.toMatchObject({ code: 'RECORD_TOO_LARGE' });
  });
});
