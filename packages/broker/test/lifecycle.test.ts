import diagnosticsChannel from 'node:diagnostics_channel';
import { afterEach, describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { MemoryFileSystem } from '@gregor/log';
import { Broker, type Body } from '@gregor/broker';
import { batch, bumpLeaderEpoch, createTopic, fetchRequest, openTestBroker, produce, type TestBroker } from './helpers.js';

describe('broker lifecycle and limits', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('writes the clean-shutdown marker on close and answers parked fetches first', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({}, fs);
    await createTopic(test.broker, 't');
    const parked = test.broker.handle(ApiKey.Fetch, 11, fetchRequest('t', 0, 0, { maxWaitMs: 60_000, minBytes: 1 }));
    expect(fs.exists('/data/.kafka_cleanshutdown')).toBe(false);
    await test.broker.close();
    expect(((await parked) as Body).responses[0].partitions[0].errorCode).toBe(0);
    expect(fs.exists('/data/.kafka_cleanshutdown')).toBe(true);
    await expect(test.broker.handle(ApiKey.Metadata, 1, { topics: null })).rejects.toMatchObject({ code: 'BROKER_CLOSED' });
  });

  it('refuses an API or version it does not serve with a typed error', async () => {
    test = await openTestBroker();
    await expect(test.broker.handle(ApiKey.Produce, 99, {})).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION', errorCode: ErrorCode.UNSUPPORTED_VERSION });
    await expect(test.broker.handle(9999, 0, {})).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
  });

  it('refuses to open a data dir that belongs to another node id', async () => {
    const fs = new MemoryFileSystem();
    test = await openTestBroker({ nodeId: 1 }, fs);
    await expect(Broker.open({ dir: '/data', fs, config: { nodeId: 2 } })).rejects.toMatchObject({ code: 'INCONSISTENT_NODE_ID' });
  });

  it('refuses members beyond group.max.size', async () => {
    test = await openTestBroker({ groupMaxSize: 1 });
    const body = { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] };
    expect(((await test.broker.handle(ApiKey.JoinGroup, 3, body)) as Body).errorCode).toBe(0);
    expect(((await test.broker.handle(ApiKey.JoinGroup, 3, body)) as Body).errorCode).toBe(ErrorCode.GROUP_MAX_SIZE_REACHED);
  });

  it('checks the client\'s leader epoch in Fetch (FENCED_LEADER_EPOCH, UNKNOWN_LEADER_EPOCH)', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    bumpLeaderEpoch(test.broker, 't', 0, 3);
    const ask = async (currentLeaderEpoch: number): Promise<number> => {
      const request = fetchRequest('t', 0, 0);
      request.topics[0].partitions[0].currentLeaderEpoch = currentLeaderEpoch;
      return ((await test.broker.handle(ApiKey.Fetch, 11, request)) as Body).responses[0].partitions[0].errorCode;
    };
    expect(await ask(2)).toBe(ErrorCode.FENCED_LEADER_EPOCH);
    expect(await ask(4)).toBe(ErrorCode.UNKNOWN_LEADER_EPOCH);
    expect(await ask(3)).toBe(ErrorCode.NONE);
    await produce(test.broker, 't', 0, batch(['a']));
    const found = (await test.broker.handle(ApiKey.OffsetForLeaderEpoch, 4, { replicaId: -1, topics: [{ topic: 't', partitions: [{ partition: 0, currentLeaderEpoch: 3, leaderEpoch: 0 }] }] })) as Body;
    expect(found.topics[0].partitions[0]).toMatchObject({ errorCode: 0, leaderEpoch: 0, endOffset: 0 });
  });

  it('publishes produce, fetch and group events on diagnostics channels', async () => {
    test = await openTestBroker();
    const events: { channel: string; message: unknown }[] = [];
    const names = ['gregor:broker:produce', 'gregor:broker:fetch', 'gregor:broker:group'];
    const listeners = names.map((name) => {
      const listener = (message: unknown): void => { events.push({ channel: name, message }); };
      diagnosticsChannel.subscribe(name, listener);
      return () => diagnosticsChannel.unsubscribe(name, listener);
    });
    try {
      await createTopic(test.broker, 't');
      await produce(test.broker, 't', 0, batch(['a']));
      await test.broker.handle(ApiKey.Fetch, 11, fetchRequest('t', 0, 0));
      await test.broker.handle(ApiKey.JoinGroup, 3, { groupId: 'g', sessionTimeoutMs: 10_000, rebalanceTimeoutMs: 10_000, memberId: '', protocolType: 'consumer', protocols: [{ name: 'range', metadata: Buffer.alloc(0) }] });
    } finally {
      for (const unsubscribe of listeners) unsubscribe();
    }
    expect(events.find((event) => event.channel === 'gregor:broker:produce')?.message).toMatchObject({ topic: 't', partition: 0, errorCode: 0, baseOffset: 0 });
    expect(events.find((event) => event.channel === 'gregor:broker:fetch')?.message).toMatchObject({ partitions: 1 });
    expect(events.filter((event) => event.channel === 'gregor:broker:group').map((event) => (event.message as Body).state)).toEqual(['PreparingRebalance', 'CompletingRebalance']);
  });
});
