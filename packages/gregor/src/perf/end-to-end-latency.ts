/**
 * Produce-to-consume latency at a steady rate (issue 8's "p50 and p99 at 10,000 records/s with
 * acks=all"), shared by `gregor perf latency` and `pnpm bench replication`. Kafka's EndToEndLatency
 * tool sends one record and waits for it; this run is driven by the clock instead, so the figure
 * is the one an application sees under a steady load:
 *
 * - The producer sends on a 1 ms tick the records due by then at `rate` records a second (so
 *   about rate/1000 per send). When the event loop was late, the missed records go out at once in
 *   sends of at most `sendRecordsMax`, so the offered rate stays the asked one; how far the sender
 *   fell behind its schedule is reported (`scheduleLagMaxMs`), since a late send hides its delay
 *   from the latency figures.
 * - Each value is `recordBytes` long (at least VALUE_HEADER_BYTES) and starts with
 *
 *     sentAt f64 BE (performance.now() of this process, ms) | sequence f64 BE | 0x61 padding
 *
 *   where sentAt is taken as `producer.send` is called.
 * - The consumer (a fresh group, subscribed from the latest offset, in this process) has joined and
 *   holds its positions before the first send; in `eachMessage` it takes `performance.now()` and
 *   records now - sentAt: the latency until the application's code got the record.
 * - The first `warmupMs` of sending (connections, the JIT, the group) are sent and received but
 *   not counted. Then records are counted until `measure` is met; the run waits until every
 *   record sent has been received, and checks the counts: each sequence number received once.
 *
 * - A produce error that keeps coming back before any record was acknowledged (NOT_ENOUGH_REPLICAS
 *   on a topic whose min.insync.replicas exceeds its live replicas, an authorization the broker
 *   keeps refusing) ends the run with that error once a batch has failed FAILED_ATTEMPTS_MAX times
 *   (about 3 s of the producer's backoff), rather than retrying until the buffer fills.
 *
 * Timing uses `performance.now()` of this process for both ends (producer and consumer are in it).
 * Single caller; the producer and consumer are the caller's, connected, and left connected.
 */
import assert from 'node:assert';
import type { Consumer, EachMessagePayload, Producer, ProducerRetryPayload } from '@gregor/client';
import { LatencyRecorder } from './latency-recorder.js';

/** sentAt and sequence, two f64s. */
export const VALUE_HEADER_BYTES = 16;
const TICK_MS = 1;
/** Attempts a batch may fail, before any record of the run is acknowledged, before the run ends with its error. */
export const FAILED_ATTEMPTS_MAX = 5;

export interface EndToEndLatencyOptions {
  /** Connected; its acks setting (or `acks`) is the one measured. */
  producer: Producer;
  /** Connected, in a group of its own, not subscribed yet: the run subscribes it to `topic` (latest) and stops it at the end. */
  consumer: Consumer;
  topic: string;
  /** Records a second offered. */
  rate: number;
  recordBytes: number;
  acks: number;
  /** Sending before the measured records, not counted. */
  warmupMs: number;
  /** What ends the measured part: a number of records, or a time of sending. */
  measure: { records: number } | { durationMs: number };
  /** The most records one catch-up send carries (default max(1, rate / 1000) × 4). */
  sendRecordsMax?: number;
  /** How long to wait, after the last send, for every record to arrive (default 30 s). */
  drainTimeoutMs?: number;
  /** How long to wait for the consumer to join its group and take its positions (default 60 s). */
  joinTimeoutMs?: number;
  /** Called as measured records arrive, with their count and the count expected (0 when not known yet). */
  onProgress?: (received: number, expected: number) => void;
  /** Called once the warm-up ends and measuring starts. */
  onMeasuring?: () => void;
}

export interface EndToEndLatencyReport {
  /** Records sent, acknowledged and received in the measured part. */
  sent: number;
  acknowledged: number;
  received: number;
  /** Measured sequence numbers received more than once (0 unless something went wrong). */
  duplicates: number;
  /** Records sent during the warm-up (sent and received, not counted). */
  warmupRecords: number;
  /** Seconds of measured sending, and the rate sent in them (the asked rate unless the sender fell behind). */
  seconds: number;
  offeredRate: number;
  /** The rate asked for. */
  targetRate: number;
  /** Produce-to-consume latency per record, ms. */
  endToEnd: LatencySummary;
  /** send() to its acknowledgement, per record, ms. */
  acknowledgement: LatencySummary;
  /** The furthest the sender was behind its schedule in the measured part, ms. */
  scheduleLagMaxMs: number;
}

export interface LatencySummary {
  p50: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
}

function summarize(recorder: LatencyRecorder): LatencySummary {
  return { p50: recorder.percentile(0.5), p99: recorder.percentile(0.99), p999: recorder.percentile(0.999), max: recorder.max, mean: recorder.mean };
}

/** A record's value: the send time and sequence number, then padding to `recordBytes`. */
function valueOf(sentAt: number, sequence: number, recordBytes: number): Buffer {
  const value = Buffer.allocUnsafe(recordBytes);
  value.writeDoubleBE(sentAt, 0);
  value.writeDoubleBE(sequence, 8);
  value.fill(0x61, VALUE_HEADER_BYTES);
  return value;
}

export async function measureEndToEndLatency(options: EndToEndLatencyOptions): Promise<EndToEndLatencyReport> {
  const { producer, consumer, topic, rate, recordBytes, acks } = options;
  assert(rate > 0 && Number.isFinite(rate), 'the rate is a positive number of records a second');
  assert(recordBytes >= VALUE_HEADER_BYTES, `a record carries at least ${VALUE_HEADER_BYTES} bytes (send time and sequence number)`);
  const perTick = Math.max(1, Math.ceil((rate * TICK_MS) / 1000));
  const sendRecordsMax = options.sendRecordsMax ?? perTick * 4;
  const drainTimeoutMs = options.drainTimeoutMs ?? 30_000;

  // Counting on the consumer's side: sequence numbers from `firstMeasured` on are measured.
  let firstMeasured = Number.POSITIVE_INFINITY;
  let expected = 0;
  const seen = new Set<number>();
  let received = 0;
  let duplicates = 0;
  let receivedAll = 0;
  let sentAll = 0;
  const endToEnd = new LatencyRecorder();
  let wake: (() => void) | null = null;
  let crashed: Error | null = null;
  const eachMessage = ({ message }: EachMessagePayload): void => {
    const now = performance.now();
    const value = message.value;
    if (value === null || value.length < VALUE_HEADER_BYTES) return;
    receivedAll++;
    const sequence = value.readDoubleBE(8);
    if (sequence >= firstMeasured) {
      if (seen.has(sequence)) duplicates++;
      else {
        seen.add(sequence);
        received++;
        endToEnd.record(now - value.readDoubleBE(0), 1);
        options.onProgress?.(received, expected);
      }
    }
    if (receivedAll >= sentAll && wake !== null) wake();
  };

  // The group joined and its positions taken (the consumer emits group_join after both): from
  // here on, every record sent is one the consumer reads.
  const joined = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the consumer did not join its group within ${options.joinTimeoutMs ?? 60_000} ms`)), options.joinTimeoutMs ?? 60_000);
    consumer.once('consumer.group_join', () => {
      clearTimeout(timer);
      resolve();
    });
  });
  const onCrash = (event: { payload: { error: Error } }) => {
    crashed = event.payload.error;
    wake?.();
  };
  consumer.on('consumer.crash', onCrash);
  const cleanups: (() => void)[] = [];
  await consumer.subscribe({ topics: [topic], fromBeginning: false });
  await consumer.run({ autoCommit: false, eachMessage });

  try {
    await joined;
    const acknowledgement = new LatencyRecorder();
    let acknowledged = 0;
    let sendError: Error | null = null;
    let anyAcknowledged = false;
    const onRetry = ({ payload }: { payload: ProducerRetryPayload }) => {
      if (anyAcknowledged || payload.attempts < FAILED_ATTEMPTS_MAX) return;
      sendError ??= payload.error;
      wake?.();
    };
    producer.on(producer.events.RETRY, onRetry);
    cleanups.push(() => producer.off(producer.events.RETRY, onRetry));
    const inFlight = new Set<Promise<void>>();
    let measuring = false;
    let scheduleLagMaxMs = 0;
    let sequence = 0;
    const send = (count: number, sentAt: number): void => {
      const messages = new Array<{ value: Buffer }>(count);
      for (let i = 0; i < count; i++) messages[i] = { value: valueOf(sentAt, sequence++, recordBytes) };
      const counted = measuring;
      const sending: Promise<void> = producer.send({ topic, acks, messages }).then(
        () => {
          anyAcknowledged = true;
          if (counted) {
            acknowledgement.record(performance.now() - sentAt, count);
            acknowledged += count;
          }
        },
        (error: Error) => {
          sendError ??= error;
          wake?.();
        },
      ).finally(() => inFlight.delete(sending));
      inFlight.add(sending);
    };

    // The schedule: record k of a phase is due at phaseStart + k / rate.
    const warmupEnd = performance.now() + options.warmupMs;
    let phaseStart = performance.now();
    let phaseSent = 0;
    let measuredSent = 0;
    const measuredLimit = 'records' in options.measure ? options.measure.records : Number.POSITIVE_INFINITY;
    let measureEnd = Number.POSITIVE_INFINITY;
    for (;;) {
      if (sendError !== null) throw sendError;
      if (crashed !== null) throw crashed;
      const now = performance.now();
      if (!measuring && now >= warmupEnd) {
        measuring = true;
        firstMeasured = sequence;
        phaseStart = now;
        phaseSent = 0;
        if ('durationMs' in options.measure) {
          measureEnd = now + options.measure.durationMs;
          expected = Math.round((options.measure.durationMs / 1000) * rate);
        } else expected = options.measure.records;
        options.onMeasuring?.();
      }
      if (measuring && (measuredSent >= measuredLimit || now >= measureEnd)) break;
      const due = Math.floor(((now - phaseStart) * rate) / 1000) + 1;
      let owed = due - phaseSent;
      if (measuring) owed = Math.min(owed, measuredLimit - measuredSent);
      if (owed > 0) {
        // The oldest record owed was due at phaseStart + phaseSent / rate.
        if (measuring) scheduleLagMaxMs = Math.max(scheduleLagMaxMs, now - (phaseStart + (phaseSent * 1000) / rate));
        while (owed > 0) {
          const count = Math.min(owed, sendRecordsMax);
          send(count, performance.now());
          owed -= count;
          phaseSent += count;
          sentAll += count;
          if (measuring) measuredSent += count;
        }
      }
      const nextDue = phaseStart + (phaseSent * 1000) / rate;
      await sleep(Math.max(0, Math.min(TICK_MS, nextDue - performance.now())));
    }
    const seconds = (performance.now() - phaseStart) / 1000;
    // The sends still out, unless a repeated produce error ends the run first (onRetry wakes it).
    while (inFlight.size > 0 && sendError === null) {
      await Promise.race([...inFlight, new Promise<void>((resolve) => (wake = resolve))]);
      wake = null;
    }
    if (sendError !== null) throw sendError;
    // Every record sent (warm-up included) arrives, or the run says how many did not.
    const deadline = performance.now() + drainTimeoutMs;
    while (receivedAll < sentAll && crashed === null && performance.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, Math.min(100, Math.max(0, deadline - performance.now())));
      });
      wake = null;
    }
    if (crashed !== null) throw crashed;
    return {
      sent: measuredSent,
      acknowledged,
      received,
      duplicates,
      warmupRecords: firstMeasured === Number.POSITIVE_INFINITY ? sequence : firstMeasured,
      seconds,
      offeredRate: measuredSent / seconds,
      targetRate: rate,
      endToEnd: summarize(endToEnd),
      acknowledgement: summarize(acknowledgement),
      scheduleLagMaxMs,
    };
  } finally {
    consumer.off('consumer.crash', onCrash);
    for (const cleanup of cleanups) cleanup();
    await consumer.stop();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The report as lines: produce-to-consume first, then the acknowledgement beside it, then the counts. */
export function formatEndToEndLatency(report: EndToEndLatencyReport): string {
  const ms = (value: number) => value.toFixed(2);
  const rate = (value: number) => Math.round(value).toLocaleString('en-US');
  const e = report.endToEnd;
  const a = report.acknowledgement;
  return [
    `produce-to-consume latency: ${ms(e.p50)} ms 50th, ${ms(e.p99)} ms 99th, ${ms(e.p999)} ms 99.9th, ${ms(e.max)} ms max, ${ms(e.mean)} ms avg`,
    `produce acknowledgement latency: ${ms(a.p50)} ms 50th, ${ms(a.p99)} ms 99th, ${ms(a.p999)} ms 99.9th, ${ms(a.max)} ms max`,
    `${report.sent} records sent, ${report.acknowledged} acknowledged, ${report.received} received (${report.duplicates} twice) in ${report.seconds.toFixed(2)} s: ` +
      `${rate(report.offeredRate)} records/s offered of ${rate(report.targetRate)} asked; sender at most ${ms(report.scheduleLagMaxMs)} ms behind its schedule; ${report.warmupRecords} warm-up records not counted`,
  ].join('\n');
}
