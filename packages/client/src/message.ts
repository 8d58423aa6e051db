/**
 * The message the consumer hands to `eachMessage` / `eachBatch` (kafkajs's KafkaMessage shape).
 * Decoding a record keeps only positions into the fetched batch; `key`, `value`, `offset` and
 * `timestamp` become a Buffer view or a decimal string on first read (then cached), because a
 * `subarray` and a number-to-string conversion per record cost more than everything else the
 * consumer does per record, and many handlers never read the key, the offset or the timestamp.
 * The getters live on the prototype: `JSON.stringify` and `console.log` show the kafkajs shape
 * (`toJSON`, `util.inspect.custom`), but an object spread (`{ ...message }`) copies only
 * `headers`, `attributes` and `size`. Not shared between consumers.
 */
import type { RecordView } from '@gregor/records';
import { bufferView } from './buffer-view.js';

export interface KafkaMessage {
  key: Buffer | null;
  value: Buffer | null;
  headers: Record<string, Buffer | null | (Buffer | null)[]>;
  /** Offset and timestamp as decimal strings, as kafkajs. */
  offset: string;
  timestamp: string;
  attributes: number;
  size: number;
}

// `undefined` marks a field not decoded yet (null is Kafka's null key or value).
export class FetchedMessage implements KafkaMessage {
  private keyView: Buffer | null | undefined = undefined;
  private valueView: Buffer | null | undefined = undefined;
  private offsetString: string | undefined = undefined;
  private timestampString: string | undefined = undefined;
  private readonly data: Buffer;
  private readonly keyStart: number;
  private readonly keyLength: number;
  private readonly valueStart: number;
  private readonly valueLength: number;
  /** The offset and timestamp as numbers, for the consumer's own bookkeeping. */
  readonly offsetNumber: number;
  readonly timestampMs: number;

  constructor(
    record: RecordView,
    public headers: Record<string, Buffer | null | (Buffer | null)[]>,
    public attributes: number,
    public size: number,
  ) {
    this.data = record.data;
    this.keyStart = record.keyStart;
    this.keyLength = record.keyLength;
    this.valueStart = record.valueStart;
    this.valueLength = record.valueLength;
    this.offsetNumber = record.offset;
    this.timestampMs = record.timestamp;
  }

  get key(): Buffer | null {
    if (this.keyView === undefined) this.keyView = this.keyLength < 0 ? null : bufferView(this.data, this.keyStart, this.keyLength);
    return this.keyView;
  }

  set key(key: Buffer | null) {
    this.keyView = key;
  }

  get value(): Buffer | null {
    if (this.valueView === undefined) this.valueView = this.valueLength < 0 ? null : bufferView(this.data, this.valueStart, this.valueLength);
    return this.valueView;
  }

  set value(value: Buffer | null) {
    this.valueView = value;
  }

  get offset(): string {
    return (this.offsetString ??= String(this.offsetNumber));
  }

  set offset(offset: string) {
    this.offsetString = offset;
  }

  get timestamp(): string {
    return (this.timestampString ??= String(this.timestampMs));
  }

  set timestamp(timestamp: string) {
    this.timestampString = timestamp;
  }

  /** The plain kafkajs shape, for JSON.stringify and logging. */
  toJSON(): KafkaMessage {
    return { key: this.key, value: this.value, headers: this.headers, offset: this.offset, timestamp: this.timestamp, attributes: this.attributes, size: this.size };
  }

  /** console.log and util.inspect show the kafkajs shape, not the positions inside. */
  [Symbol.for('nodejs.util.inspect.custom')](): KafkaMessage {
    return this.toJSON();
  }
}
