/**
 * The partition state machine replication builds on: the HW as the smallest LEO of the ISR,
 * followers' fetch offsets moving it, acks=all waiting for it, ISR shrink after the lag time and
 * NOT_ENOUGH_REPLICAS below min.insync.replicas.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { Body } from '@gregor/broker';
import { batch, createTopic, fetchRequest, openTestBroker, produce, type TestBroker } from './helpers.js';

describe('partition replication state', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('answers acks=all only when a follower in the ISR has fetched past the batch', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'min.insync.replicas', value: '2' }]);
    const partition = test.broker.partition('t', 0);
    if (partition === undefined) throw new Error('no partition');
    partition.replicas = [0, 1];
    partition.isr = [0, 1];
    let answered = false;
    const pending = produce(test.broker, 't', 0, batch(['a', 'b']), -1).then((response) => { answered = true; return response; });
    await new Promise((resolve) => setImmediate(resolve));
    expect(partition.logEndOffset).toBe(2);
    expect(partition.highWatermark).toBe(0);
    expect(answered).toBe(false);
    const follower = fetchRequest('t', 0, 1);
    follower.replicaId = 1;
    const read = (await test.broker.handle(ApiKey.Fetch, 11, follower)) as Body;
    expect(read.responses[0].partitions[0].records.length).toBeGreaterThan(0);
    expect(partition.highWatermark).toBe(1);
    expect(answered).toBe(false);
    follower.topics[0].partitions[0].fetchOffset = 2;
    await test.broker.handle(ApiKey.Fetch, 11, follower);
    expect(await pending).toMatchObject({ errorCode: 0, baseOffset: 0 });
    expect(partition.highWatermark).toBe(2);
  });

  it('drops a lagging follower from the ISR, after which acks=all fails with NOT_ENOUGH_REPLICAS', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't', 1, [{ name: 'min.insync.replicas', value: '2' }]);
    const partition = test.broker.partition('t', 0);
    if (partition === undefined) throw new Error('no partition');
    partition.replicas = [0, 1];
    partition.isr = [0, 1];
    partition.updateFollowerFetchState(1, 0, test.clock.now());
    await produce(test.broker, 't', 0, batch(['a']), 1);
    expect(partition.maybeShrinkIsr(test.clock.now() + 10_000, 30_000)).toEqual([]);
    expect(partition.maybeShrinkIsr(test.clock.now() + 30_001, 30_000)).toEqual([1]);
    expect(partition.isr).toEqual([0]);
    expect(partition.highWatermark).toBe(1);
    expect(await produce(test.broker, 't', 0, batch(['b']), -1)).toMatchObject({ errorCode: ErrorCode.NOT_ENOUGH_REPLICAS });
    partition.updateFollowerFetchState(1, 1, test.clock.now());
    expect(partition.isr).toEqual([0, 1]);
  });

  it('ignores fetch state from replica ids that are not assigned followers', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const partition = test.broker.partition('t', 0);
    expect(partition?.updateFollowerFetchState(7, 0, 0)).toBe(false);
    expect(partition?.isr).toEqual([0]);
  });
});
