/**
 * `Gregor.open`'s defaults for an embedded broker (EMBEDDED_BROKER_DEFAULTS): a new group gets its
 * first record without Kafka's initial rebalance delay, `__consumer_offsets` is one partition, and
 * every default yields to the caller's config. The broker runs on a FakeClock that the test never
 * advances, so a delay timer anywhere between JoinGroup and the first fetch would hold the record
 * back and fail the test by its timeout.
 */
import { describe, expect, it } from 'vitest';
import { EMBEDDED_BROKER_DEFAULTS, FakeClock, Gregor, MemoryFileSystem } from '../src/index.js';

describe('Gregor.open defaults for an embedded broker', () => {
  it('hands a new group its first record with no rebalance delay, on one offsets partition', async () => {
    const clock = new FakeClock();
    const gregor = await Gregor.open({ dir: '/embedded', fs: new MemoryFileSystem(), clock });
    try {
      expect(gregor.broker.config.groupInitialRebalanceDelayMs).toBe(0);
      const admin = gregor.admin();
      await admin.createTopics({ topics: [{ topic: 'events', numPartitions: 1 }] });
      const producer = gregor.producer({ lingerMs: 0 });
      await producer.connect();
      await producer.send({ topic: 'events', messages: [{ key: 'k', value: 'first' }] });
      const consumer = gregor.consumer({ groupId: 'new-group', maxWaitTimeInMs: 0 });
      await consumer.connect();
      await consumer.subscribe({ topics: ['events'], fromBeginning: true });
      const first = new Promise<string>((resolve) => {
        void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
      });
      expect(await first).toBe('first');
      expect(gregor.broker.image.topic('__consumer_offsets')?.partitions.size).toBe(1);
    } finally {
      await gregor.close();
    }
  });

  it('lets the caller restore any of Kafka defaults', async () => {
    const gregor = await Gregor.open({
      dir: '/kafka-like',
      fs: new MemoryFileSystem(),
      clock: new FakeClock(),
      config: { groupInitialRebalanceDelayMs: 3000, offsetsTopicNumPartitions: 50, offsetsTopicReplicationFactor: undefined },
    });
    try {
      expect(gregor.broker.config.groupInitialRebalanceDelayMs).toBe(3000);
      expect(gregor.broker.config.offsetsTopicNumPartitions).toBe(50);
      // A setting passed as undefined keeps the embedded default.
      expect(gregor.broker.config.offsetsTopicReplicationFactor).toBe(EMBEDDED_BROKER_DEFAULTS.offsetsTopicReplicationFactor);
    } finally {
      await gregor.close();
    }
  });
});
