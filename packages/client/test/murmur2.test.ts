import { Partitioners as KafkaJsPartitioners } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { murmur2, partitionForKey } from '../src/murmur2.js';

describe('murmur2', () => {
  // Kafka's UtilsTest.testMurmur2 vectors (Java ints).
  const vectors: [string, number][] = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  it.each(vectors)('hashes %s like Kafka', (input, expected) => {
    expect(murmur2(Buffer.from(input))).toBe(expected);
  });

  it('maps keys to the same partition as kafkajs JavaCompatiblePartitioner', () => {
    const kafkajs = KafkaJsPartitioners.JavaCompatiblePartitioner();
    for (const partitions of [1, 3, 10, 64]) {
      const partitionMetadata = Array.from({ length: partitions }, (_, i) => ({ partitionId: i, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));
      for (let i = 0; i < 300; i++) {
        const key = `key-${i}-${'x'.repeat(i % 7)}`;
        const expected = kafkajs({ topic: 't', partitionMetadata, message: { key, value: null } });
        expect(partitionForKey(Buffer.from(key), partitions)).toBe(expected);
      }
    }
  });
});
