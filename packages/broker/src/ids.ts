/**
 * Identifiers the broker makes from its injected randomness: topic ids (uuid v4, lowercase
 * 8-4-4-4-12), the cluster id (Kafka's 22-character base64url uuid), member ids, and Java's
 * String.hashCode, which Kafka uses to place a group on a `__consumer_offsets` partition.
 */

export type Random = () => number;

export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

/** 16 random bytes with the version-4 and variant bits set, as java.util.UUID.randomUUID. */
export function randomUuidBytes(random: Random): Buffer {
  const bytes = Buffer.alloc(16);
  for (let index = 0; index < 16; index++) bytes[index] = Math.floor(random() * 256) & 0xff;
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return bytes;
}

export function uuidToString(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** A topic id: Kafka never hands out the zero uuid (nor ids whose base64 starts with '-'). */
export function randomTopicId(random: Random): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = uuidToString(randomUuidBytes(random));
    if (id !== ZERO_UUID) return id;
  }
  throw new Error('random() keeps returning the zero uuid');
}

/** Kafka's cluster id: a uuid in base64url without padding (22 characters), not starting with '-'. */
export function randomClusterId(random: Random): string {
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = randomUuidBytes(random).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
  throw new Error('random() keeps returning ids starting with -');
}

/** Java's String.hashCode over UTF-16 code units, as a signed 32-bit integer. */
export function javaStringHashCode(text: string): number {
  let hash = 0;
  for (let index = 0; index < text.length; index++) hash = (Math.imul(hash, 31) + text.charCodeAt(index)) | 0;
  return hash;
}

/** Kafka's `Utils.abs(groupId.hashCode) % partitions`; Utils.abs maps Int.MinValue to 0. */
export function partitionForGroup(groupId: string, partitions: number): number {
  const hash = javaStringHashCode(groupId);
  return (hash === -2_147_483_648 ? 0 : Math.abs(hash)) % partitions;
}

/** Kafka's Uuid.toString: the 16 bytes in base64url without padding (22 characters). */
export function uuidToBase64(uuid: string): string {
  return Buffer.from(uuid.replaceAll('-', ''), 'hex').toString('base64url');
}

/** The 8-4-4-4-12 form of a Kafka base64url uuid, or null when `text` is not one. */
export function uuidFromBase64(text: string): string | null {
  if (!/^[A-Za-z0-9_-]{22}$/.test(text)) return null;
  const bytes = Buffer.from(text, 'base64url');
  return bytes.length === 16 ? uuidToString(bytes) : null;
}
