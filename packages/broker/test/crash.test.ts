/**
 * Crashes on the fault-injecting MemoryFileSystem (unsynced writes lost, or a random prefix of them
 * kept): after reopening, the topics are intact, the log is a prefix of what was acknowledged
 * beyond the last flush, and idempotent producer state agrees with the surviving log.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKey } from '@gregor/protocol';
import { MemoryFileSystem } from '@gregor/log';
import type { Body } from '@gregor/broker';
import { batch, createTopic, openTestBroker, produce } from './helpers.js';

describe('crash and reopen', () => {
  it('keeps topics, a prefix of the log and matching producer state', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 0, max: 12 }), fc.boolean(), fc.integer({ min: 1, max: 1000 }), async (count, flushAfter, keepRandomPrefix, seed) => {
        const fs = new MemoryFileSystem({ seed });
        const first = await openTestBroker({}, fs);
        await createTopic(first.broker, 't');
        const init = (await first.broker.handle(ApiKey.InitProducerId, 4, { transactionalId: null, transactionTimeoutMs: 1, producerId: -1, producerEpoch: -1 })) as Body;
        const producer = { producerId: init.producerId, producerEpoch: init.producerEpoch };
        const batches = Array.from({ length: count }, (_, sequence) => batch([`v${sequence}`], { ...producer, baseSequence: sequence }));
        for (const [sequence, data] of batches.entries()) {
          expect(await produce(first.broker, 't', 0, Buffer.from(data))).toMatchObject({ errorCode: 0, baseOffset: sequence });
          if (sequence + 1 === flushAfter) first.broker.partition('t', 0)?.log.flush();
        }
        first.broker.kill();
        fs.crash({ keepRandomPrefix });
        const second = await openTestBroker({}, fs);
        try {
          const partition = second.broker.partition('t', 0);
          expect(partition).toBeDefined();
          const survived = partition?.logEndOffset ?? -1;
          expect(survived).toBeGreaterThanOrEqual(flushAfter <= count ? flushAfter : 0);
          expect(survived).toBeLessThanOrEqual(count);
          if (survived > 0) {
            expect(await produce(second.broker, 't', 0, Buffer.from(batches[survived - 1]))).toMatchObject({ errorCode: 0, baseOffset: survived - 1 });
          }
          const next = batch(['next'], { ...producer, baseSequence: survived });
          expect(await produce(second.broker, 't', 0, next)).toMatchObject({ errorCode: 0, baseOffset: survived });
        } finally {
          await second.broker.close();
        }
      }),
      { numRuns: 40 },
    );
  });
});
