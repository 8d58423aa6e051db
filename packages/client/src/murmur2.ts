/**
 * Kafka's murmur2 hash (`org.apache.kafka.common.utils.Utils.murmur2`), used by the default
 * partitioner so keyed records land on the same partition as with the Java client, librdkafka's
 * `murmur2_random` and kafkajs's `DefaultPartitioner`. Pure function; safe to call from anywhere.
 */

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** The signed 32-bit murmur2 of `data`, exactly as Java's `Utils.murmur2` returns it. */
export function murmur2(data: Uint8Array): number {
  const length = data.length;
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M);
    h ^= k;
  }
  const tail = length4 * 4;
  // The remaining one to three bytes are mixed from the highest down, as Java's switch falls through.
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) {
    h ^= data[tail];
    h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/**
 * Kafka's `Utils.toPositive(murmur2(key)) % partitions`: the partition of a keyed record. With one
 * partition that is 0 whatever the hash, so the key is not hashed at all.
 */
export function partitionForKey(key: Uint8Array, partitionCount: number): number {
  if (partitionCount === 1) return 0;
  return (murmur2(key) & 0x7fffffff) % partitionCount;
}
