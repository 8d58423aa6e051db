/**
 * `gregor`: Kafka's core as a TypeScript library. `Gregor.open({ dir })` for an embedded broker
 * with in-process clients, `gregor.listen({ port })` to serve Kafka's wire protocol, and
 * `new Gregor.Client({ brokers })` for the same client API over TCP.
 */
export { Gregor, type GregorOptions, type GregorListenOptions } from './gregor.js';
export { DataDirLockedError, DataDirLockUnavailableError } from './data-dir-lock.js';
export {
  Client,
  CompressionTypes,
  type Producer,
  type Consumer,
  type Admin,
  type ProducerOptions,
  type ConsumerOptions,
  type Message,
  type RecordMetadata,
  msgpackSerializer,
} from '@gregor/client';
export { MemoryFileSystem, FakeClock, nodeFileSystem, systemClock } from '@gregor/log';
