import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleFixture, eventually, getJson, startConsole } from './support.js';

let fixture: ConsoleFixture;
let base: string;
const T0 = Date.UTC(2024, 4, 1, 12, 0, 0);

beforeAll(async () => {
  fixture = await startConsole({ messagesLimitMax: 100, scanRecordsMax: 1000, alertConsumerLagMax: 10 });
  base = fixture.base;
  const admin = fixture.gregor.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'orders', numPartitions: 3 }, { topic: 'empty', numPartitions: 1 }] });
  const producer = fixture.gregor.producer();
  await producer.connect();
  // 30 records: keys user-0..user-5, JSON values, one header; timestamps one second apart.
  await producer.send({
    topic: 'orders',
    messages: Array.from({ length: 30 }, (_, i) => ({ key: `user-${i % 6}`, value: JSON.stringify({ n: i, note: i === 17 ? 'needle in haystack' : 'hay' }), headers: { source: 'test' }, timestamp: T0 + i * 1000 })),
  });
  await producer.send({ topic: 'orders', messages: [{ key: 'binary', value: Buffer.from([0xff, 0x00, 0xfe]), partition: 0, timestamp: T0 + 60_000 }] });
  // A group with committed offsets and no members: its lag is the high watermark minus 0.
  await admin.setOffsets({ groupId: 'lagging', topic: 'orders', partitions: [0, 1, 2].map((partition) => ({ partition, offset: 0 })) });
  // Pages read offsets from a snapshot up to a second old: wait for one taken after the produce.
  await eventually(() => getJson(base, '/api/topics'), ({ body }) => body.topics?.find((t: { name: string }) => t.name === 'orders')?.messages === 31);
});

afterAll(async () => {
  await fixture?.close();
});

describe('REST API of seed 001', () => {
  it('/health answers ok while the broker answers', async () => {
    const { status, body } = await getJson(base, '/health');
    expect(status).toBe(200);
    expect(body).toMatchObject({ status: 'ok', brokerAnswers: true, kafka: { port: fixture.gregor.address!.port } });
  });

  it('/api/topics lists every topic with partitions, record count and size', async () => {
    const { status, body } = await getJson(base, '/api/topics');
    expect(status).toBe(200);
    const orders = body.topics.find((t: any) => t.name === 'orders');
    expect(orders).toMatchObject({ internal: false, partitions: 3, replicationFactor: 1, underReplicatedPartitions: 0, offlinePartitions: 0, messages: 31 });
    expect(orders.sizeBytes).toBeGreaterThan(31 * 10);
    expect(body.topics.find((t: any) => t.name === 'empty')).toMatchObject({ messages: 0, partitions: 1 });
  });

  it('/api/topics/<t> shows leader, replicas, ISR, offsets, size, segments and configs per partition', async () => {
    const { status, body } = await getJson(base, '/api/topics/orders');
    expect(status).toBe(200);
    expect(body.partitions).toHaveLength(3);
    let total = 0;
    for (const p of body.partitions) {
      expect(p).toMatchObject({ leader: 0, replicas: [0], isr: [0], offlineReplicas: [], underReplicated: false, offline: false, logStartOffset: 0, segments: 1, error: null });
      expect(p.logEndOffset).toBe(p.highWatermark);
      expect(p.sizeBytes).toBeGreaterThan(0);
      total += p.highWatermark;
    }
    expect(total).toBe(31);
    expect(body.configs.find((c: any) => c.name === 'cleanup.policy')).toMatchObject({ value: 'delete', isDefault: true });
  });

  it('/api/messages/<t> answers the newest records, decoded as JSON, text or hex', async () => {
    const { status, body } = await getJson(base, '/api/messages/orders?limit=5');
    expect(status).toBe(200);
    expect(body.records).toHaveLength(5);
    expect(body.complete).toBe(true);
    const newest = body.records.at(-1);
    expect(newest).toMatchObject({ partition: 0, key: { encoding: 'text', data: 'binary' }, value: { encoding: 'hex', data: 'ff00fe', size: 3 } });
    const json = body.records.find((r: any) => r.value.encoding === 'json');
    expect(json.value.data).toHaveProperty('n');
    expect(json.headers).toEqual([{ key: 'source', value: { encoding: 'text', data: 'test', size: 4, truncated: false } }]);
    const timestamps = body.records.map((r: any) => r.timestamp);
    expect(timestamps).toEqual([...timestamps].sort((a, b) => a - b));
  });

  it('reads forward from an offset of one partition, up to end_offset', async () => {
    const { body } = await getJson(base, '/api/messages/orders?partition=1&offset=2&end_offset=4');
    expect(body.records.map((r: any) => [r.partition, r.offset])).toEqual([[1, 2], [1, 3], [1, 4]]);
  });

  it('reads from a timestamp (milliseconds or ISO 8601) up to to_timestamp', async () => {
    const iso = new Date(T0 + 10_000).toISOString();
    const { body } = await getJson(base, `/api/messages/orders?timestamp=${encodeURIComponent(iso)}&to_timestamp=${T0 + 12_000}`);
    expect(body.records.map((r: any) => r.value.data.n).sort((a: number, b: number) => a - b)).toEqual([10, 11, 12]);
    const { body: same } = await getJson(base, `/api/messages/orders?timestamp=${T0 + 10_000}&to_timestamp=${T0 + 12_000}`);
    expect(same.records).toHaveLength(3);
  });

  it('filters by key and searches text in keys, values and headers', async () => {
    const { body: byKey } = await getJson(base, '/api/messages/orders?key=user-4&limit=100');
    expect(byKey.records.map((r: any) => r.value.data.n)).toEqual([4, 10, 16, 22, 28]);
    const { body: found } = await getJson(base, '/api/messages/orders?search=NEEDLE');
    expect(found.records).toHaveLength(1);
    expect(found.records[0].value.data).toEqual({ n: 17, note: 'needle in haystack' });
    const { body: none } = await getJson(base, '/api/messages/orders?search=absent-text');
    expect(none.records).toEqual([]);
  });

  it('shows any field as hex or base64 on request', async () => {
    const { body } = await getJson(base, '/api/messages/orders?key=user-0&limit=1&format=base64');
    expect(body.records[0].key).toEqual({ encoding: 'base64', data: Buffer.from('user-0').toString('base64'), size: 6, truncated: false });
  });

  it('stops at responseBytesMax and says so', async () => {
    const small = await startConsole({ responseBytesMax: 100 }, { kafkaListener: false });
    try {
      const admin = small.gregor.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'big' }] });
      const producer = small.gregor.producer();
      await producer.connect();
      await producer.send({ topic: 'big', messages: Array.from({ length: 10 }, (_, i) => ({ value: `${i}`.repeat(40) })) });
      const { status, body } = await getJson(small.base, '/api/messages/big?limit=10');
      expect(status).toBe(200);
      expect(body.complete).toBe(false);
      expect(body.stoppedBy).toBe('response_bytes');
      expect(body.records.length).toBeLessThan(10);
      expect(body.records.length).toBeGreaterThan(0);
    } finally {
      await small.close();
    }
  });

  it('/api/latest/<t> answers the newest record', async () => {
    const { body } = await getJson(base, '/api/latest/orders');
    expect(body.record).toMatchObject({ partition: 0, key: { data: 'binary' } });
    const { body: empty } = await getJson(base, '/api/latest/empty');
    expect(empty.record).toBeNull();
  });

  it('answers 400 for bad parameters, naming the parameter', async () => {
    const cases: [string, RegExp][] = [
      ['/api/messages/orders?limit=101', /limit.*between 1 and 100/],
      ['/api/messages/orders?limit=0', /limit/],
      ['/api/messages/orders?limit=ten', /limit.*integer/],
      ['/api/messages/orders?partition=3', /partition.*below 3/],
      ['/api/messages/orders?offset=-1', /offset/],
      ['/api/messages/orders?offset=5&end_offset=2', /end_offset/],
      ['/api/messages/orders?timestamp=yesterday', /timestamp/],
      ['/api/messages/orders?format=xml', /format/],
      ['/api/messages/orders?colour=blue', /colour.*not known/],
      ['/api/latest/orders?limit=2', /limit.*not known/],
      ['/api/messages/bad%20name', /legal topic name/],
      ['/api/tail/orders?positions=zero', /positions/],
    ];
    for (const [url, message] of cases) {
      const { status, body } = await getJson(base, url);
      expect({ url, status }).toEqual({ url, status: 400 });
      expect(body.message).toMatch(message);
      expect(body.retriable).toBe(false);
    }
  });

  it('answers 404 for unknown topics, groups and paths, 405 for a wrong method', async () => {
    expect((await getJson(base, '/api/messages/nothing-here')).status).toBe(404);
    expect((await getJson(base, '/api/topics/nothing-here')).status).toBe(404);
    expect((await getJson(base, '/api/groups/no-such-group')).status).toBe(404);
    expect((await getJson(base, '/api/nothing')).status).toBe(404);
    expect((await fetch(`${base}/api/topics`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${base}/../../etc/passwd`)).status).toBe(404);
  });

  it('/api/groups and /api/groups/<g> show state, members, committed offsets and lag per partition', async () => {
    const { body: list } = await getJson(base, '/api/groups');
    expect(list.groups.find((g: any) => g.groupId === 'lagging')).toMatchObject({ state: 'Empty', members: 0, topics: ['orders'], lag: 31 });
    const { status, body } = await getJson(base, '/api/groups/lagging');
    expect(status).toBe(200);
    expect(body).toMatchObject({ groupId: 'lagging', state: 'Empty', members: [], lag: 31 });
    // The coordinator is named by its broker id, as in the list and in /api/brokers.
    const { body: brokers } = await getJson(base, '/api/brokers');
    expect(body.coordinator).toBe(brokers.brokers[0].nodeId);
    expect(list.groups.find((g: any) => g.groupId === 'lagging').coordinator).toBe(brokers.brokers[0].nodeId);
    expect(body.partitions.map((p: any) => [p.partition, p.committedOffset, p.lag])).toEqual(body.partitions.map((p: any) => [p.partition, 0, p.highWatermark]));
    const withHistory = await eventually(() => getJson(base, '/api/groups/lagging'), (r) => r.body.lagHistory.length > 0);
    expect(withHistory.body.lagHistory.at(-1).lag).toBe(31);
  });

  it('/api/brokers and /api/stats describe the cluster, the controller and the disk', async () => {
    const { body: brokers } = await getJson(base, '/api/brokers');
    expect(brokers.brokers).toHaveLength(1);
    const [broker] = brokers.brokers;
    expect(broker).toMatchObject({ nodeId: 0, isController: true, port: fixture.gregor.address!.port });
    expect(broker.logDirs[0].totalBytes).toBeGreaterThan(0);
    expect(broker.logDirs[0].usedRatio).toBeGreaterThan(0);
    const { body: stats } = await getJson(base, '/api/stats');
    expect(stats).toMatchObject({ brokers: 1, controllerId: 0, topics: 2, underReplicatedPartitions: 0, offlinePartitions: 0, groups: 1 });
    expect(stats.messages).toBeGreaterThanOrEqual(31);
  });

  it('/api/alerts fires the lag alert above its threshold and not the others', async () => {
    const { body } = await getJson(base, '/api/alerts');
    const byName = Object.fromEntries(body.alerts.map((a: any) => [a.name, a]));
    expect(byName.KafkaConsumerLagHigh).toMatchObject({ firing: true, value: 31, threshold: 10, details: ['lagging: lag 31'] });
    expect(byName.KafkaUnderReplicatedPartitions).toMatchObject({ firing: false, value: 0 });
    expect(byName.KafkaBrokerDiskUsageHigh.value).toBeGreaterThan(0);
  });

  it('the produce form appends a record by key (murmur2) or to a chosen partition, and refuses bad bodies', async () => {
    const post = (body: unknown, raw?: string) => fetch(`${base}/api/produce/orders`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: raw ?? JSON.stringify(body) });
    const written: any = await (await post({ key: 'form-key', value: '{"from":"form"}', headers: { via: 'console' }, partition: 2 })).json();
    expect(written).toMatchObject({ topic: 'orders', partition: 2 });
    const { body } = await getJson(base, `/api/messages/orders?partition=2&offset=${written.offset}&limit=1`);
    expect(body.records[0]).toMatchObject({ key: { data: 'form-key' }, value: { encoding: 'json', data: { from: 'form' } }, headers: [{ key: 'via', value: { data: 'console' } }] });
    expect((await post(null, '{not json')).status).toBe(400);
    expect((await post({ value: 'x', partition: 9 })).status).toBe(400);
    expect((await post({ value: 7 })).status).toBe(400);
    expect((await post({ value: 'x'.repeat(2 * 1024 * 1024) })).status).toBe(413);
  });
});

describe('live tail (server-sent events)', () => {
  it('streams records produced after it opened, filtered by key, and refuses streams past tailStreamsMax', async () => {
    const limited = await startConsole({ tailStreamsMax: 1 }, { kafkaListener: false });
    const abort = new AbortController();
    try {
      const admin = limited.gregor.admin();
      await admin.connect();
      await admin.createTopics({ topics: [{ topic: 'live', numPartitions: 2 }] });
      const response = await fetch(`${limited.base}/api/tail/live?key=wanted`, { signal: abort.signal });
      expect(response.headers.get('content-type')).toMatch(/text\/event-stream/);
      const reader = response.body!.getReader();
      let text = '';
      const readUntil = async (accept: () => boolean) => {
        while (!accept()) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`stream ended: ${text}`);
          text += Buffer.from(value).toString('utf8');
        }
      };
      await readUntil(() => text.includes('event: ready'));
      const second = await fetch(`${limited.base}/api/tail/live`);
      expect(second.status).toBe(503);
      expect(((await second.json()) as any).error).toBe('TOO_MANY_TAIL_STREAMS');
      const producer = limited.gregor.producer();
      await producer.connect();
      await producer.send({ topic: 'live', messages: [{ key: 'other', value: 'skip me' }, { key: 'wanted', value: 'hello tail' }] });
      await readUntil(() => text.includes('hello tail'));
      expect(text).not.toContain('skip me');
      const event = text.split('\n\n').find((chunk) => chunk.includes('hello tail'))!;
      const data = JSON.parse(event.split('\n').find((line) => line.startsWith('data: '))!.slice(6));
      expect(data.records).toHaveLength(1);
      expect(data.records[0]).toMatchObject({ key: { data: 'wanted' }, value: { encoding: 'text', data: 'hello tail' } });
    } finally {
      abort.abort();
      await limited.close();
    }
  });
});
