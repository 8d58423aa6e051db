/**
 * The embedded API's contract for failures: every error is one of the classes `gregor` exports,
 * with a stable string `code` and `retriable`; after `close()` nothing appears to work.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import * as gregorModule from '../src/index.js';
import { BrokerError, DataDirLockedError, Gregor, KafkaClientError, KafkaProtocolError } from '../src/index.js';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function temporaryDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-facade-'));
  cleanups.push(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function open(): Promise<Gregor> {
  const gregor = await Gregor.open({ dir: temporaryDir(), config: { groupInitialRebalanceDelayMs: 0 } });
  cleanups.push(() => gregor.close());
  return gregor;
}

/** What a caller can rely on for any error Gregor throws. */
function expectCodedError(error: unknown, code: string, retriable = false): void {
  expect(error).toBeInstanceOf(Error);
  expect((error as { code: unknown }).code).toBe(code);
  expect((error as { retriable: unknown }).retriable).toBe(retriable);
  const exportedClasses = (Object.values(gregorModule) as unknown[]).filter((value): value is ErrorConstructor => typeof value === 'function' && (value as { prototype?: unknown }).prototype instanceof Error);
  expect(exportedClasses.some((errorClass) => error instanceof errorClass)).toBe(true);
}

async function caught(action: () => unknown): Promise<unknown> {
  try {
    await action();
  } catch (error) {
    return error;
  }
  throw new Error('expected a failure');
}

describe('gregor errors', () => {
  it('exports every error class, each error carrying a code and retriable', async () => {
    for (const name of ['KafkaClientError', 'KafkaJSError', 'KafkaProtocolError', 'KafkaConnectionError', 'BrokerError', 'BrokerConfigError', 'LogError', 'LogCorruptionError', 'RecordsError', 'CorruptRecordError', 'ProtocolError', 'ServerError', 'DataDirLockedError']) {
      expect(typeof (gregorModule as Record<string, unknown>)[name], name).toBe('function');
    }
    const gregor = await open();
    const admin = gregor.admin();
    await admin.connect();
    const missing = await caught(() => admin.fetchTopicMetadata({ topics: ['missing'] }));
    expect(missing).toBeInstanceOf(KafkaProtocolError);
    expectCodedError(missing, 'UNKNOWN_TOPIC_OR_PARTITION', true);
    expectCodedError(await caught(() => admin.createTopics({ topics: [{ topic: 'none', numPartitions: 0 }] })), 'INVALID_PARTITIONS');
    expectCodedError(await caught(() => gregor.consumer({} as never)), 'INVALID_CONFIG');
    expectCodedError(await caught(() => Gregor.open({ dir: gregor.dir })), 'DATA_DIR_LOCKED');
    expect(await caught(() => Gregor.open({ dir: gregor.dir }))).toBeInstanceOf(DataDirLockedError);
  });

  it('refuses new clients, listen() and connecting after close() with BROKER_CLOSED', async () => {
    const gregor = await open();
    const early = gregor.producer();
    await gregor.close();
    expect(gregor.closed).toBe(true);
    for (const call of [() => gregor.producer(), () => gregor.consumer({ groupId: 'g' }), () => gregor.admin(), () => gregor.listen({ port: 0 })]) {
      const error = await caught(call);
      expect(error).toBeInstanceOf(BrokerError);
      expectCodedError(error, 'BROKER_CLOSED');
      expect((error as Error).message).toContain('after close()');
    }
    const connecting = await caught(() => early.connect());
    expect(connecting).toBeInstanceOf(KafkaClientError);
    expectCodedError(connecting, 'BROKER_CLOSED');
  });

  it('refuses a second listen() naming the address it already serves', async () => {
    const gregor = await open();
    const { port } = await gregor.listen({ port: 0 });
    const error = await caught(() => gregor.listen({ port: 0 }));
    expectCodedError(error, 'ALREADY_LISTENING');
    expect((error as Error).message).toContain(String(port));
  });
});
