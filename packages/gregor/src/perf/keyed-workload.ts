/**
 * The keyed workload of issue 9, shared by `gregor perf` and `pnpm bench keyed`: records with a
 * key of `keyBytes` (`k000000000`, ...; none with 0) and a JSON-like value of `valueBytes`, sent
 * through the public producer API as arrays of `messagesPerSend` messages with up to
 * `sendsInFlight` sends outstanding, and read back by a fresh consumer group with `eachBatch` or
 * `eachMessage`, touching every key and value. The message arrays are made once, before the clock
 * starts (an application's own cost of building them is not the library's), and reused round-robin;
 * the bare-framing baseline (bare-framing.ts) frames the very same objects. Single caller.
 */
import type { Consumer, EachBatchPayload, EachMessagePayload, EachRecordsPayload, Producer } from '@gregor/client';
import type { BareRecord } from './bare-framing.js';

export interface KeyedRecordsOptions {
  /** Bytes of each key; 0 sends null keys. */
  keyBytes: number;
  valueBytes: number;
  messagesPerSend: number;
  /** Distinct message arrays made (default 16); records repeat after chunks × messagesPerSend. */
  chunks?: number;
}

export interface KeyedMessage extends BareRecord {
  key: Buffer | null;
  value: Buffer;
}

function keyFor(index: number, keyBytes: number): Buffer | null {
  if (keyBytes === 0) return null;
  const digits = String(index).padStart(Math.max(0, keyBytes - 1), '0');
  return Buffer.from(`k${digits}`.slice(0, keyBytes).padEnd(keyBytes, '0'), 'latin1');
}

function valueFor(index: number, valueBytes: number): Buffer {
  const json = `{"id":${index},"user":"user-${index % 9973}","event":"page_view","ms":${(index * 7) % 1000},"pad":"`;
  const text = json.length + 2 <= valueBytes ? `${json}${'x'.repeat(valueBytes - json.length - 2)}"}` : json.slice(0, valueBytes);
  return Buffer.from(text, 'latin1');
}

/** The message arrays of the workload: `chunks` arrays of `messagesPerSend` distinct records. */
export function keyedRecords(options: KeyedRecordsOptions): KeyedMessage[][] {
  const chunks = options.chunks ?? 16;
  return Array.from({ length: chunks }, (_, chunk) =>
    Array.from({ length: options.messagesPerSend }, (_, i) => {
      const index = chunk * options.messagesPerSend + i;
      return { key: keyFor(index, options.keyBytes), value: valueFor(index, options.valueBytes) };
    }),
  );
}

export interface ProduceLoopOptions {
  topic: string;
  records: number;
  chunks: readonly (readonly KeyedMessage[])[];
  sendsInFlight: number;
  acks?: number;
  /** Called with the records acknowledged so far, after each send resolves. */
  onProgress?: (acknowledged: number) => void;
}

/**
 * Sends `records` records with `producer.send`, `sendsInFlight` sends outstanding at most; resolves
 * with the seconds from the first send to the last acknowledgement.
 */
export async function produceKeyed(producer: Producer, options: ProduceLoopOptions): Promise<number> {
  const { topic, records, chunks, sendsInFlight, acks } = options;
  const perSend = chunks[0].length;
  let acknowledged = 0;
  let chunkIndex = 0;
  const inFlight = new Set<Promise<void>>();
  const started = performance.now();
  for (let sent = 0; sent < records; sent += perSend) {
    const count = Math.min(perSend, records - sent);
    const chunk = chunks[chunkIndex] as KeyedMessage[];
    chunkIndex = (chunkIndex + 1) % chunks.length;
    const send: Promise<void> = producer.send({ topic, acks, messages: count === perSend ? chunk : chunk.slice(0, count) }).then(() => {
      acknowledged += count;
      options.onProgress?.(acknowledged);
      inFlight.delete(send);
    });
    inFlight.add(send);
    if (inFlight.size >= sendsInFlight) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return (performance.now() - started) / 1000;
}

/**
 * `eachMessagePlain`: eachMessage as a plain function, which the consumer does not await;
 * `eachRecords`: Gregor's cursor shape (key and value lengths read from their positions).
 */
export type ConsumeHandler = 'eachBatch' | 'eachMessage' | 'eachMessagePlain' | 'eachRecords';

export interface ConsumeResult {
  records: number;
  payloadBytes: number;
  /** From the end of the group join (the first fetch's start) to the `records`-th record. */
  seconds: number;
  /** From the first record handed out to the `records`-th. */
  fromFirstRecordSeconds: number;
  /** From `run()` to the first record: joining the group, finding the offsets, the first fetch. */
  firstRecordMs: number;
}

/**
 * Runs `consumer` (connected and subscribed, from the beginning) until `records` records arrived,
 * reading every key and value; then stops it. The consumer is not disconnected.
 */
export async function consumeKeyed(consumer: Consumer, records: number, handler: ConsumeHandler, onProgress?: (received: number) => void): Promise<ConsumeResult> {
  let received = 0;
  let payloadBytes = 0;
  let first = 0;
  let last = 0;
  let finish!: () => void;
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  const runAt = performance.now();
  let joinedAt = 0;
  const onJoin = () => {
    if (joinedAt === 0) joinedAt = performance.now();
  };
  consumer.on('consumer.group_join', onJoin);
  // Only the first `records` records count: a batch (or the messages a stopping consumer still
  // hands out) may go past them.
  const eachBatch = async ({ batch }: EachBatchPayload) => {
    if (received >= records) return;
    if (first === 0) first = performance.now();
    const messages = batch.messages;
    const count = Math.min(messages.length, records - received);
    for (let i = 0; i < count; i++) {
      const message = messages[i];
      payloadBytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
    }
    received += count;
    onProgress?.(received);
    if (received === records) {
      last = performance.now();
      finish();
    }
  };
  const eachMessagePlain = ({ message }: EachMessagePayload): void => {
    if (received >= records) return;
    if (first === 0) first = performance.now();
    payloadBytes += (message.key?.length ?? 0) + (message.value?.length ?? 0);
    if (++received % 10_000 === 0) onProgress?.(received);
    if (received === records) {
      onProgress?.(received);
      last = performance.now();
      finish();
    }
  };
  const eachMessage = async (payload: EachMessagePayload) => eachMessagePlain(payload);
  const eachRecords = ({ records: cursor }: EachRecordsPayload): void => {
    if (received >= records) return;
    if (first === 0) first = performance.now();
    // Stop at the count: the records not reached are not resolved (and not counted).
    while (received < records && cursor.next()) {
      payloadBytes += Math.max(0, cursor.keyLength) + Math.max(0, cursor.valueLength);
      received++;
    }
    onProgress?.(received);
    if (received === records) {
      last = performance.now();
      finish();
    }
  };
  await consumer.run(
    handler === 'eachBatch'
      ? { autoCommit: false, eachBatch }
      : handler === 'eachRecords'
        ? { autoCommit: false, eachRecords }
        : { autoCommit: false, eachMessage: handler === 'eachMessage' ? eachMessage : eachMessagePlain },
  );
  if (records > 0) await done;
  await consumer.stop();
  consumer.off('consumer.group_join', onJoin);
  return { records: received, payloadBytes, seconds: (last - (joinedAt || runAt)) / 1000, fromFirstRecordSeconds: (last - first) / 1000, firstRecordMs: first - runAt };
}
