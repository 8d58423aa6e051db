/**
 * `gregor perf latency`: produce-to-consume latency at a steady rate (perf/end-to-end-latency.ts),
 * the rate-driven analogue of Kafka's EndToEndLatency tool (kafka-e2e-latency.sh). A producer in
 * this process sends --rate records a second on a 1 ms tick, each value carrying its send time; a
 * consumer in this process (a fresh group, from the latest offset) takes the difference when its
 * eachMessage gets the record. Prints p50, p99, p99.9 and max of that, the produce
 * acknowledgement latency beside it, the rate offered and the counts. As Kafka's tool, the producer
 * has linger.ms 0 unless --linger-ms says otherwise; the consumer keeps its default long poll
 * (fetch.max.wait.ms): the broker answers a parked fetch as soon as the high watermark passes new
 * records.
 */
import { acksOption, CliError, integerOption, parseCommand, requiredOption } from '../args.js';
import { connect, connectionHelp, connectionOptions } from '../connect.js';
import { createProgress, type Progress } from '../progress.js';
import { formatEndToEndLatency, measureEndToEndLatency, VALUE_HEADER_BYTES } from '../../perf/end-to-end-latency.js';

const help = `usage: gregor perf latency --topic T [--rate 10000] [--record-size 100] [--acks all|1]
                           [--duration 10 | --messages N] [--warmup 2] [--linger-ms 0]
                           [--partitions 1] [--replication-factor N] [--json]

Produce-to-consume latency at a steady rate (Kafka's kafka-e2e-latency, driven by the clock): a
producer sends --rate records a second of --record-size bytes (each value starts with its send
time), a consumer in the same process (a fresh group, reading from the latest offset) measures
the time from send() until its eachMessage got the record. After --warmup seconds not counted, it
measures for --duration seconds (default 10) or --messages records, waits until every record sent
arrived, and prints the latency's 50th, 99th and 99.9th percentiles and maximum, the produce
acknowledgement latency beside it, and the rate offered. Missed ticks (a busy machine) are caught
up in small sends, so the rate stays the one asked; how far the sender fell behind is printed.
The producer has linger.ms 0 (as Kafka's tool; --linger-ms to change it), the consumer its
default long poll. A topic that does not exist is created with --partitions and
--replication-factor (default: the broker's default.replication.factor). --json prints the
report as one JSON object on standard output instead (the progress stays on standard error), for
scripts such as \`pnpm bench replication\`. A produce error that
keeps coming back before any record is acknowledged (NOT_ENOUGH_REPLICAS when the topic's
min.insync.replicas exceeds its in-sync replicas) ends the run with that error after about 3 s.

${connectionHelp}

Examples:
  gregor perf latency --topic lat --dir /tmp/perf
  gregor perf latency --topic lat --bootstrap-server 127.0.0.1:9092 --rate 10000 --acks all --duration 20`;

const options = {
  ...connectionOptions,
  topic: { type: 'string' },
  rate: { type: 'string' },
  'record-size': { type: 'string' },
  acks: { type: 'string' },
  duration: { type: 'string' },
  messages: { type: 'string' },
  warmup: { type: 'string' },
  'linger-ms': { type: 'string' },
  partitions: { type: 'string' },
  'replication-factor': { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** Seconds as a number (a fraction allowed: `--duration 2.5`), more than 0 or, with `zeroAllowed`, at least 0; at most a day. */
function secondsOption(value: string | undefined, name: string, fallback: number, zeroAllowed: boolean): number {
  if (value === undefined) return fallback;
  const seconds = Number(value);
  if (value.trim() === '' || !Number.isFinite(seconds)) throw new CliError(`--${name} takes seconds as a number, got '${value}'`);
  if (zeroAllowed ? seconds < 0 : seconds <= 0) throw new CliError(`--${name} must be ${zeroAllowed ? 'at least 0' : 'more than 0'} seconds, got ${value}`);
  if (seconds > 86_400) throw new CliError(`--${name} must be at most 86400 seconds (a day), got ${value}`);
  return seconds;
}

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}' (gregor perf latency takes options only)`);
  const topic = requiredOption(values.topic, 'topic');
  const rate = integerOption(values.rate, 'rate', 10_000, { min: 1, max: 10_000_000 });
  const recordBytes = integerOption(values['record-size'], 'record-size', 100, { min: VALUE_HEADER_BYTES });
  const acks = acksOption(values.acks);
  if (acks === 0) throw new CliError('--acks 0 has no acknowledgement to time; latency needs --acks all or 1 (as Kafka\'s kafka-e2e-latency)');
  if (values.duration !== undefined && values.messages !== undefined) throw new CliError('give either --duration or --messages, not both');
  const measure: { records: number } | { durationMs: number } = values.messages !== undefined
    ? { records: integerOption(values.messages, 'messages', 0, { min: 1 }) }
    : { durationMs: Math.round(secondsOption(values.duration, 'duration', 10, false) * 1000) };
  const warmupMs = Math.round(secondsOption(values.warmup, 'warmup', 2, true) * 1000);
  const lingerMs = integerOption(values['linger-ms'], 'linger-ms', 0, { min: 0 });
  const partitions = integerOption(values.partitions, 'partitions', 1, { min: 1 });
  const replicationFactor = integerOption(values['replication-factor'], 'replication-factor', -1, { min: -1 });
  if (replicationFactor === 0) throw new CliError('--replication-factor must be at least 1 (or -1 for the broker\'s default), got 0');

  const connection = await connect(values, 'gregor-perf-latency');
  try {
    const admin = connection.admin();
    await admin.connect();
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor }], waitForLeaders: true });
    }
    const producer = connection.producer({ acks, lingerMs });
    await producer.connect();
    const consumer = connection.consumer({ groupId: `gregor-perf-latency-${process.pid}-${Date.now()}` });
    await consumer.connect();
    let progress: Progress | undefined;
    const stream = process.stderr;
    stream.write(`${warmupMs > 0 ? `warming up for ${(warmupMs / 1000).toFixed(1)} s, then ` : ''}measuring ${'records' in measure ? `${measure.records} records` : `${(measure.durationMs / 1000).toFixed(1)} s`} at ${rate} records/s of ${recordBytes} B, acks=${acks === -1 ? 'all' : acks}, linger.ms ${lingerMs}, on ${connection.describe}\n`);
    const measuring = measureEndToEndLatency({
      producer,
      consumer,
      topic,
      rate,
      recordBytes,
      acks,
      warmupMs,
      measure,
      onMeasuring: () => {
        const expected = 'records' in measure ? measure.records : Math.round((measure.durationMs / 1000) * rate);
        progress = createProgress({ label: 'received', total: expected, unit: 'records', stream });
      },
      onProgress: (received) => progress?.update(received),
    });
    // A run that failed (a produce error that kept coming back) ends now: what is still unsent
    // fails at once instead of being retried until delivery.timeout.ms.
    const report = await measuring.catch(async (error: unknown) => {
      await producer.disconnect({ timeoutMs: 0 });
      throw error;
    });
    if (values.json === true) {
      progress?.finish(`${report.received} records received`);
      console.log(JSON.stringify(report));
    } else {
      (progress ?? createProgress({ label: 'received', total: 1, stream })).finish(formatEndToEndLatency(report));
    }
  } finally {
    await connection.close();
  }
}
