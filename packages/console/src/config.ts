/**
 * The console's settings: every bound on what an HTTP request may make the console read, hold or
 * send, and the alert thresholds. Each is a named setting with a default, checked when the console
 * starts (a bad value is a ConsoleError 'INVALID_CONSOLE_CONFIG', never a silent clamp).
 */
import { ConsoleError } from './errors.js';

export interface ConsoleConfig {
  /** Records one `/api/messages` answer holds by default (`limit` omitted). */
  messagesLimitDefault: number;
  /** The largest `limit` a request may ask for; above it the request is a 400. */
  messagesLimitMax: number;
  /** Bytes of keys, values and headers one answer (or one tail event batch) carries at most; reading stops before the record that would pass it. */
  responseBytesMax: number;
  /** Bytes of one key, value or header value shown; longer ones are cut and marked `truncated`. */
  fieldBytesMax: number;
  /** Bytes asked of the broker per Fetch while reading (Kafka's `fetch.max.bytes` of this reader). */
  fetchBytesMax: number;
  /** Records a search or a filtered read scans per partition, newest first window, before it answers with what it found. */
  scanRecordsMax: number;
  /** Fetch round trips one `/api/messages` request may make in all, whatever it scans. */
  fetchRequestsMax: number;
  /** Live-tail streams (server-sent events) open at once; one more is a 503. */
  tailStreamsMax: number;
  /** How long a tail's long-poll Fetch waits for new records (also bounds how long closing waits). */
  tailWaitMs: number;
  /** A comment line every this many ms keeps idle tail streams open through proxies. */
  tailKeepAliveMs: number;
  /** Bytes of a produce-form request body; more is a 413. */
  produceBodyBytesMax: number;
  /** Sampling period of throughput and lag (the "now" rates and the lag-over-time charts). */
  sampleIntervalMs: number;
  /** Samples kept per series (lag history of each group, throughput history). */
  historySamples: number;
  /** Consumer groups the sampler follows; the others are listed without lag history. */
  groupsSampledMax: number;
  /** Alert: a group's total lag above this (seed 000: 1000 messages). */
  alertConsumerLagMax: number;
  /** Alert: under-replicated partitions above this (seed 000: 0). */
  alertUnderReplicatedPartitionsMax: number;
  /** Alert: any API's 99th percentile request time above this many ms (seed 000: 100). */
  alertRequestLatencyP99MsMax: number;
  /** Alert: a log directory's used share of its file system above this (seed 000: 0.8). */
  alertDiskUsedRatioMax: number;
}

export const consoleConfigDefaults: Readonly<ConsoleConfig> = Object.freeze({
  messagesLimitDefault: 50,
  messagesLimitMax: 500,
  responseBytesMax: 4 * 1024 * 1024,
  fieldBytesMax: 16 * 1024,
  fetchBytesMax: 1024 * 1024,
  scanRecordsMax: 100_000,
  fetchRequestsMax: 200,
  tailStreamsMax: 32,
  tailWaitMs: 500,
  tailKeepAliveMs: 15_000,
  produceBodyBytesMax: 1024 * 1024,
  sampleIntervalMs: 5000,
  historySamples: 360,
  groupsSampledMax: 100,
  alertConsumerLagMax: 1000,
  alertUnderReplicatedPartitionsMax: 0,
  alertRequestLatencyP99MsMax: 100,
  alertDiskUsedRatioMax: 0.8,
});

export function resolveConsoleConfig(overrides: Partial<ConsoleConfig> = {}): ConsoleConfig {
  const config = { ...consoleConfigDefaults, ...overrides };
  for (const [name, value] of Object.entries(config)) {
    const isRatio = name === 'alertDiskUsedRatioMax';
    const valid = isRatio ? typeof value === 'number' && value > 0 && value <= 1 : Number.isSafeInteger(value) && value >= 0;
    if (!valid) throw new ConsoleError('INVALID_CONSOLE_CONFIG', `console setting ${name} must be ${isRatio ? 'a ratio in (0, 1]' : 'a non-negative integer'}, got ${String(value)}`, 500);
  }
  for (const name of ['messagesLimitDefault', 'messagesLimitMax', 'responseBytesMax', 'fieldBytesMax', 'fetchBytesMax', 'scanRecordsMax', 'fetchRequestsMax', 'sampleIntervalMs', 'historySamples', 'tailWaitMs'] as const) {
    if (config[name] === 0) throw new ConsoleError('INVALID_CONSOLE_CONFIG', `console setting ${name} must be positive`, 500);
  }
  if (config.messagesLimitDefault > config.messagesLimitMax) {
    throw new ConsoleError('INVALID_CONSOLE_CONFIG', `messagesLimitDefault (${config.messagesLimitDefault}) exceeds messagesLimitMax (${config.messagesLimitMax})`, 500);
  }
  return config;
}
