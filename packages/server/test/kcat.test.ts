/**
 * kcat 1.7.1 (librdkafka 2.0.2: classic and flexible protocol versions) against a Gregor server.
 * kcat cannot create topics: Metadata auto-creates them.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { batchesIn, Compression, readBatchHeader } from '@gregor/records';
import { type RunningGregor, startGregor } from './support/gregor.js';
import { kcat, kcatProcess } from './support/kcat.js';
import { waitFor } from './support/wait.js';

let gregor: RunningGregor;

beforeAll(async () => {
  gregor = await startGregor();
});

afterAll(async () => {
  await gregor?.close();
});

/** Lines `key:value`, values with a range of lengths and bytes kcat passes through unchanged. */
function keyedLines(prefix: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-k${i}:${prefix}-v${i}-${'x'.repeat(i * 13)}`);
}

const QUICK = ['-X', 'socket.timeout.ms=5000', '-X', 'topic.metadata.refresh.interval.ms=1000'];

async function produce(topic: string, lines: string[], extra: string[] = []): Promise<void> {
  const result = await kcat(['-P', '-b', gregor.bootstrap, '-t', topic, '-K:', ...QUICK, ...extra], { input: `${lines.join('\n')}\n` });
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
}

/** The codecs of the batches stored for partition 0 of `topic`, read from its first segment. */
async function storedCodecs(topic: string): Promise<number[]> {
  const segment = await readFile(path.join(gregor.dir, `${topic}-0`, '00000000000000000000.log'));
  return [...batchesIn(segment)].map(({ position }) => readBatchHeader(segment, position).compression);
}

async function consumeLines(topic: string, offset: string, expectedCount: number): Promise<string[]> {
  const result = await kcat(['-C', '-b', gregor.bootstrap, '-t', topic, '-o', offset, '-e', '-q', '-f', '%k:%s\\n', ...QUICK], { timeoutMs: 15_000 });
  expect(result.timedOut).toBe(false);
  const lines = result.stdout.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(expectedCount);
  return lines;
}

describe('kcat (librdkafka 2.0.2) against Gregor', () => {
  for (const codec of ['none', 'gzip', 'snappy', 'lz4', 'zstd']) {
    it(`produces with -z ${codec} and reads the same keys and values back from the beginning`, async () => {
      const topic = `kcat-${codec}`;
      const lines = keyedLines(codec, 25);
      await produce(topic, lines, ['-z', codec, '-X', 'linger.ms=200']);
      expect(await consumeLines(topic, 'beginning', lines.length)).toEqual(lines);
      // librdkafka silently falls back to no compression when the broker's ApiVersions do not
      // satisfy its feature checks, so the stored batches must carry the codec asked for. (It also
      // sends a batch uncompressed when compressing would not shrink it, hence "none" may appear.)
      const codecs = await storedCodecs(topic);
      const expected = Compression[codec as keyof typeof Compression];
      expect(codecs).toContain(expected);
      expect(codecs.every((stored) => stored === expected || stored === Compression.none)).toBe(true);
    });
  }

  it('consumes from a timestamp with -o s@<ms>', async () => {
    const topic = 'kcat-timestamps';
    await produce(topic, keyedLines('before', 5));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const boundaryMs = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 20));
    const after = keyedLines('after', 4);
    await produce(topic, after);
    expect(await consumeLines(topic, `s@${boundaryMs}`, after.length)).toEqual(after);
  });

  it('lists brokers and topics with -L and -L -J', async () => {
    await produce('kcat-listed', ['k:v']);
    const plain = await kcat(['-L', '-b', gregor.bootstrap, ...QUICK]);
    expect(plain.code).toBe(0);
    expect(plain.stdout).toContain(`broker 0 at 127.0.0.1:${gregor.port}`);
    expect(plain.stdout).toContain('topic "kcat-listed" with 1 partitions');
    const json = await kcat(['-L', '-J', '-b', gregor.bootstrap, ...QUICK]);
    expect(json.code).toBe(0);
    const metadata = JSON.parse(json.stdout);
    expect(metadata.brokers).toEqual([{ id: 0, name: `127.0.0.1:${gregor.port}` }]);
    const topic = metadata.topics.find((entry: { topic: string }) => entry.topic === 'kcat-listed');
    expect(topic.partitions).toEqual([expect.objectContaining({ partition: 0, leader: 0, replicas: [{ id: 0 }], isrs: [{ id: 0 }] })]);
  });

  it('balances two -G group members over the partitions of a topic', async () => {
    const topic = 'kcat-group';
    // Two partitions from the start: a partition count change during the join makes librdkafka rejoin.
    const context = { clientId: 'test', clientHost: '/127.0.0.1', correlationId: 0 };
    const created = await gregor.broker.handle(19, 4, { topics: [{ name: topic, numPartitions: 2, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 5000, validateOnly: false }, context);
    expect(created?.topics[0].errorCode).toBe(0);
    const groupArgs = [...(process.env.GREGOR_KCAT_DEBUG ? ['-d', 'cgrp'] : []), '-b', gregor.bootstrap, '-G', 'kcat-group', '-q', '-u', '-f', '%p:%k:%s\\n', '-X', 'auto.offset.reset=earliest', '-X', 'session.timeout.ms=6000', '-X', 'heartbeat.interval.ms=200', ...QUICK, topic];
    const members = [kcatProcess(groupArgs)];
    let lastSeen = '';
    const groupIsStable = (memberCount: number) => async () => {
      const described = await gregor.broker.handle(15, 0, { groups: ['kcat-group'] }, context);
      const group = (described as { groups: { groupState: string; members: { memberAssignment: Buffer }[] }[] }).groups[0];
      lastSeen = `${group.groupState} with ${group.members.length} members, assignment bytes ${group.members.map((member) => member.memberAssignment.length)}`;
      return group.groupState === 'Stable' && group.members.length === memberCount && group.members.every((member) => member.memberAssignment.length > 0);
    };
    const explain = (error: Error) => {
      throw new Error(`${error.message}; last seen: ${lastSeen}`);
    };
    try {
      // One member first, then a second: the second join makes the group rebalance and split.
      await waitFor(groupIsStable(1), 20_000, 'one stable kcat member').catch(explain);
      members.push(kcatProcess(groupArgs));
      await waitFor(groupIsStable(2), 20_000, 'two stable kcat members').catch(explain);
      const lines = ['a:0', 'b:1', 'c:2', 'd:3'];
      await produce(topic, lines.slice(0, 2), ['-p', '0']);
      await produce(topic, lines.slice(2), ['-p', '1']);
      const outputs = () => members.map((member) => member.output().split('\n').filter((line) => line !== ''));
      await waitFor(() => outputs().flat().length >= 4, 20_000, 'both partitions consumed');
      const [first, second] = outputs();
      expect([...first, ...second].sort()).toEqual(['0:a:0', '0:b:1', '1:c:2', '1:d:3']);
      // Each member owns exactly one partition.
      expect(new Set(first.map((line) => line[0])).size).toBe(1);
      expect(new Set(second.map((line) => line[0])).size).toBe(1);
    } catch (error) {
      if (process.env.GREGOR_DEBUG) for (const member of members) console.log(member.stderr().split('\n').filter((l) => /JOIN|SYNC|HEARTBEAT|REBALANCE|rror|LEAVE|FAIL/.test(l)).join('\n'));
      throw error;
    } finally {
      await Promise.all(members.map((member) => member.stop()));
    }
  });
});
