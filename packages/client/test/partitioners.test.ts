import { describe, expect, it } from 'vitest';
import { partitionForKey } from '../src/murmur2.js';
import { DefaultPartitioner, RoundRobinPartitioner, toPartitioner } from '../src/partitioners.js';

const metadata = (n: number) => Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0 }));

function seeded(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

describe('DefaultPartitioner', () => {
  it('puts keyed records on the murmur2 partition', () => {
    const partitioner = new DefaultPartitioner(seeded(1));
    const key = Buffer.from('user-42');
    expect(partitioner.partition({ topic: 't', partitionMetadata: metadata(6), message: { key } }, key)).toBe(partitionForKey(key, 6));
  });

  it('sticks null-keyed records to one partition until its batch is sealed, then moves', () => {
    const partitioner = new DefaultPartitioner(seeded(7));
    const args = { topic: 't', partitionMetadata: metadata(5), message: {} };
    const first = partitioner.partition(args, null);
    for (let i = 0; i < 50; i++) expect(partitioner.partition(args, null)).toBe(first);
    partitioner.onBatchSealed('t', first);
    const second = partitioner.partition(args, null);
    expect(second).not.toBe(first);
    for (let i = 0; i < 50; i++) expect(partitioner.partition(args, null)).toBe(second);
  });

  it('ignores a sealed batch of a partition it is not sticking to', () => {
    const partitioner = new DefaultPartitioner(seeded(3));
    const args = { topic: 't', partitionMetadata: metadata(4), message: {} };
    const first = partitioner.partition(args, null);
    partitioner.onBatchSealed('t', (first + 1) % 4);
    expect(partitioner.partition(args, null)).toBe(first);
  });
});

describe('RoundRobinPartitioner', () => {
  it('deals null-keyed records to each partition in turn', () => {
    const partitioner = new RoundRobinPartitioner();
    const args = { topic: 't', partitionMetadata: metadata(3), message: {} };
    expect(Array.from({ length: 7 }, () => partitioner.partition(args, null))).toEqual([0, 1, 2, 0, 1, 2, 0]);
  });
});

describe('custom partitioner', () => {
  it('calls a kafkajs-style function with topic, partition metadata and message', () => {
    const seen: unknown[] = [];
    const partitioner = toPartitioner(() => (args) => {
      seen.push(args);
      return args.partitionMetadata.length - 1;
    });
    const message = { key: 'k', value: 'v' };
    expect(partitioner.partition({ topic: 'orders', partitionMetadata: metadata(4), message }, Buffer.from('k'))).toBe(3);
    expect(seen).toEqual([{ topic: 'orders', partitionMetadata: metadata(4), message }]);
  });
});
