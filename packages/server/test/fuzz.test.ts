/**
 * Mutation fuzz of the TCP server: valid request frames of every served API and version (built
 * with @gregor/protocol's encoders from a minimal body, a hand-filled one for Produce/Fetch/Metadata
 * and bodies generated from the message descriptions), sent as they are and mutated (bit flips, truncation, int16/int32 length fields set
 * huge or negative, over-long varints, garbage appended, frame sizes declared huge or negative),
 * sent over a real connection to a Broker. Checked: every answer is a frame carrying the request's
 * correlation id or the connection closes; the server process never throws; memory stays bounded
 * (a declared 2 GiB frame must not be allocated); a well-behaved client is served afterwards.
 *
 * CI runs a bounded number; a long run: `GREGOR_FUZZ_ITERATIONS=1000000 pnpm vitest run --project server fuzz`.
 */
import net from 'node:net';
import v8 from 'node:v8';
import vm from 'node:vm';
import { ApiKey, decodeResponse, ErrorCode, encodeRequest, servedApiVersions, specFor } from '@gregor/protocol';
import { encodeBatch } from '@gregor/records';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../src/index.js';
import { type RunningGregor, startGregor } from './support/gregor.js';
import { bodyArbitrary } from './support/random-body.js';

const ITERATIONS = Number(process.env.GREGOR_FUZZ_ITERATIONS ?? 1000);
/** CI budget for the mutation loop; a long run (env var set) gets a day. */
const TIME_LIMIT_MS = process.env.GREGOR_FUZZ_ITERATIONS === undefined ? 8000 : 24 * 3600_000;
const TEST_TIMEOUT_MS = TIME_LIMIT_MS + 20_000;
const FRAME_LIMIT = 1024 * 1024;
const ANSWER_WAIT_MS = 300;
/** How long the well-behaved client waits for each answer after the fuzzing. */
const HEALTHY_ANSWER_WAIT_MS = 10_000;
/** Bodies generated from the descriptions per (api, version), besides a minimal and a hand-filled one. */
const RANDOM_BODIES_PER_VERSION = 3;
/**
 * Growth of external memory (Buffers) over the whole run, measured after a full GC: a few frames'
 * worth. A server that allocated declared sizes (2 GiB) or kept frames would be far above it.
 */
const MEMORY_GROWTH_MAX = 8 * FRAME_LIMIT;

/** A full GC, so memory figures hold live data only (V8's gc, exposed at run time). */
function collectGarbage(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

function externalBytes(): number {
  collectGarbage();
  return process.memoryUsage().arrayBuffers;
}

interface BaseFrame {
  apiKey: number;
  apiVersion: number;
  /** Frame without the size prefix. */
  frame: Buffer;
}

let gregor: RunningGregor;
/** Broker failures (a handler threw on a decoded request) are logged as errors: counted, and listed in a debug run. */
const brokerFailures = new Map<string, number>();
const collectingLogger: Logger = {
  info: () => {},
  warn: () => {},
  error: (message, fields) => {
    const key = `${message} ${fields?.apiKey ?? ''}v${fields?.apiVersion ?? ''} ${String(fields?.error ?? '').slice(0, 160)}`;
    brokerFailures.set(key, (brokerFailures.get(key) ?? 0) + 1);
  },
};
const bases: BaseFrame[] = [];
let bombFrame: Buffer;

function richBody(apiKey: number, apiVersion: number, batch: Buffer): Record<string, unknown> {
  switch (apiKey) {
    case ApiKey.Produce:
      return { acks: 1, timeoutMs: 1000, topicData: [{ name: 'fuzz', partitionData: [{ index: 0, records: batch }] }] };
    case ApiKey.Fetch:
      return { maxWaitMs: 0, minBytes: 0, maxBytes: 65536, topics: [{ topic: 'fuzz', partitions: [{ partition: 0, fetchOffset: 0, partitionMaxBytes: 65536 }] }] };
    case ApiKey.Metadata:
      return { topics: [{ name: 'fuzz' }], allowAutoTopicCreation: apiVersion >= 4 };
    default:
      return {};
  }
}

function withoutPrefix(frame: Buffer): Buffer {
  return frame.subarray(4);
}

function buildBases(): void {
  const batch = encodeBatch({ records: [{ key: Buffer.from('k'), value: Buffer.from('fuzz value') }], timestamp: 1_700_000_000_000 });
  let correlationId = 1;
  for (const { apiKey, minVersion, maxVersion } of servedApiVersions()) {
    const generated = bodyArbitrary(specFor(apiKey)?.request ?? [], batch);
    for (let apiVersion = minVersion; apiVersion <= maxVersion; apiVersion++) {
      const randomBodies = fc.sample(generated, { numRuns: RANDOM_BODIES_PER_VERSION, seed: apiKey * 100 + apiVersion });
      for (const body of [{ acks: 1, maxWaitMs: 0 }, richBody(apiKey, apiVersion, batch), ...randomBodies]) {
        bases.push({ apiKey, apiVersion, frame: withoutPrefix(encodeRequest({ apiKey, apiVersion, correlationId: correlationId++, clientId: 'fuzz' }, body)) });
      }
    }
  }
  // A gzip batch that inflates to 80 MiB from ~80 KiB on the wire: over the decompressed limit.
  const bomb = encodeBatch({ compression: 1, records: [{ value: Buffer.alloc(80 * 1024 * 1024) }], timestamp: 1_700_000_000_000 });
  bombFrame = encodeRequest({ apiKey: ApiKey.Produce, apiVersion: 9, correlationId: 424242, clientId: 'fuzz' }, { acks: 1, timeoutMs: 1000, topicData: [{ name: 'fuzz', partitionData: [{ index: 0, records: bomb }] }] });
}

type Mutation =
  | { kind: 'none' }
  | { kind: 'flip'; positions: number[]; bit: number }
  | { kind: 'truncate'; length: number }
  | { kind: 'int32'; position: number; value: number }
  | { kind: 'int16'; position: number; value: number }
  | { kind: 'varint'; position: number }
  | { kind: 'append'; bytes: Uint8Array }
  | { kind: 'declaredSize'; value: number }
  | { kind: 'apiHeader'; apiKey: number; apiVersion: number }
  | { kind: 'shortHeader'; length: number };

const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('flip' as const), positions: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), length: fc.nat() }),
  fc.record({ kind: fc.constant('int32' as const), position: fc.nat(), value: fc.constantFrom(0x7fffffff, -1, -2, -0x80000000, 0x10000000, FRAME_LIMIT + 1, 1 << 20) }),
  fc.record({ kind: fc.constant('int16' as const), position: fc.nat(), value: fc.constantFrom(0x7fff, -1, -2, -0x8000, 0x4000) }),
  fc.record({ kind: fc.constant('varint' as const), position: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }),
  fc.record({ kind: fc.constant('declaredSize' as const), value: fc.constantFrom(-1, -0x80000000, 0x7fffffff, FRAME_LIMIT + 1) }),
  fc.record({ kind: fc.constant('apiHeader' as const), apiKey: fc.integer({ min: -2, max: 80 }), apiVersion: fc.integer({ min: -1, max: 20 }) }),
  fc.record({ kind: fc.constant('shortHeader' as const), length: fc.integer({ min: 0, max: 7 }) }),
);

/** The mutated frame with its size prefix; correlation id bytes (8..11) are kept so answers can be matched. */
function mutate(base: Buffer, mutation: Mutation): Buffer {
  let body: Buffer = Buffer.from(base);
  const at = (position: number, width: number) => 8 + (position % Math.max(1, body.length - 8 - width + 1));
  switch (mutation.kind) {
    case 'none':
      break;
    case 'flip':
      for (const position of mutation.positions) if (body.length > 8) body[8 + (position % (body.length - 8))] ^= 1 << mutation.bit;
      break;
    case 'truncate':
      body = body.subarray(0, Math.min(body.length, 8 + (mutation.length % Math.max(1, body.length - 8))));
      break;
    case 'int32':
      if (body.length >= 12) body.writeInt32BE(mutation.value, at(mutation.position, 4));
      break;
    case 'int16':
      if (body.length >= 10) body.writeInt16BE(mutation.value, at(mutation.position, 2));
      break;
    case 'varint': {
      const position = at(mutation.position, 0);
      body = Buffer.concat([body.subarray(0, position), Buffer.alloc(11, 0xff), body.subarray(position)]);
      break;
    }
    case 'append':
      body = Buffer.concat([body, mutation.bytes]);
      break;
    case 'apiHeader':
      body.writeInt16BE(mutation.apiKey, 0);
      body.writeInt16BE(mutation.apiVersion, 2);
      break;
    case 'shortHeader':
      body = body.subarray(0, mutation.length);
      break;
    case 'declaredSize': {
      const prefix = Buffer.alloc(4);
      prefix.writeInt32BE(mutation.value);
      return Buffer.concat([prefix, body]);
    }
  }
  const prefix = Buffer.alloc(4);
  prefix.writeInt32BE(body.length);
  return Buffer.concat([prefix, body]);
}

/** One connection; `exchange` sends a frame and resolves with the answer frame, 'closed' or 'silent'. */
class FuzzConnection {
  private socket: net.Socket | undefined;
  private buffered: Buffer = Buffer.alloc(0);
  private closed = true;
  private waiter: (() => void) | undefined;
  readonly frames: Buffer[] = [];

  async open(port: number): Promise<void> {
    this.buffered = Buffer.alloc(0);
    this.frames.length = 0;
    const socket = net.connect({ host: '127.0.0.1', port });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.closed = false;
    socket.on('error', () => {});
    // Events of an earlier socket must not touch this one's state.
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.socket) return;
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= 4 + this.buffered.readInt32BE(0)) {
        const size = this.buffered.readInt32BE(0);
        this.frames.push(this.buffered.subarray(4, 4 + size));
        this.buffered = this.buffered.subarray(4 + size);
      }
      this.waiter?.();
    });
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.closed = true;
      this.waiter?.();
    });
  }

  get isOpen(): boolean {
    return !this.closed;
  }

  async exchange(frame: Buffer, answerWaitMs = ANSWER_WAIT_MS): Promise<Buffer | 'closed' | 'silent'> {
    this.socket?.write(frame);
    const deadline = Date.now() + answerWaitMs;
    while (this.frames.length === 0 && !this.closed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
    this.waiter = undefined;
    if (this.frames.length > 0) return this.frames.shift() as Buffer;
    return this.closed ? 'closed' : 'silent';
  }

  destroy(): void {
    this.socket?.destroy();
    this.closed = true;
  }
}

beforeAll(async () => {
  buildBases();
  // Validating a compressed batch inflates it up to producedBatchDecompressedBytesMax: bounded by
  // the frame limit here, so no request makes the broker allocate more than a frame's worth.
  gregor = await startGregor({ socketRequestMaxBytes: FRAME_LIMIT }, collectingLogger, { producedBatchDecompressedBytesMax: FRAME_LIMIT });
});

afterAll(async () => {
  await gregor?.close();
});

describe('server under mutated requests', () => {
  it('has a valid base frame for every served api and version', () => {
    const served = servedApiVersions().reduce((sum, range) => sum + range.maxVersion - range.minVersion + 1, 0);
    expect(new Set(bases.map((base) => `${base.apiKey}/${base.apiVersion}`)).size).toBe(served);
  });

  it('answers mutated frames with their correlation id or closes that connection, within bounded memory, and still serves a good client', async () => {
    const connection = new FuzzConnection();
    const outcomes = { answered: 0, closed: 0, silent: 0 };
    const memoryBefore = externalBytes();
    const history: string[] = [];
    let firstFailure: string | undefined;
    try {
      await fc.assert(
        fc.asyncProperty(fc.nat(), mutationArbitrary, async (baseIndex, mutation) => {
          const base = bases[baseIndex % bases.length];
          if (!connection.isOpen) await connection.open(gregor.port);
          const sent = mutate(base.frame, mutation);
          const outcome = await connection.exchange(sent);
          if (process.env.GREGOR_DEBUG) history.push(`${base.apiKey}v${base.apiVersion} corr ${sent.length >= 12 ? sent.readInt32BE(8) : '-'} ${JSON.stringify(mutation)} -> ${typeof outcome === 'string' ? outcome : outcome.readInt32BE(0)}`);
          const mustClose = mutation.kind === 'declaredSize' || mutation.kind === 'shortHeader';
          if (outcome === 'closed' || outcome === 'silent') {
            outcomes[outcome]++;
            if (outcome === 'silent') connection.destroy();
            if (mustClose) expect(outcome).toBe('closed');
            return;
          }
          outcomes.answered++;
          if (process.env.GREGOR_DEBUG && outcome.readInt32BE(0) !== sent.readInt32BE(8) && firstFailure === undefined) firstFailure = history.slice(-8).join('\n');
          expect(mustClose).toBe(false);
          expect(outcome.readInt32BE(0)).toBe(sent.length >= 12 ? sent.readInt32BE(8) : Number.NaN);
        }),
        { numRuns: ITERATIONS, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false },
      );
    } catch (error) {
      if (process.env.GREGOR_DEBUG) console.log(firstFailure);
      throw error;
    } finally {
      connection.destroy();
    }
    const memoryGrowth = externalBytes() - memoryBefore;
    if (process.env.GREGOR_DEBUG) console.log(outcomes, [...brokerFailures.entries()], { memoryGrowth });
    expect(outcomes.answered + outcomes.closed).toBeGreaterThan(0);
    expect(memoryGrowth).toBeLessThan(MEMORY_GROWTH_MAX);
    await expectHealthyServer();
  }, TEST_TIMEOUT_MS);

  it('refuses a compressed batch that inflates past the decompressed limit, and keeps serving', async () => {
    // The mutation fuzz above may have deleted the topic (DeleteTopics frames): make sure it exists.
    await gregor.broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name: 'fuzz', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
    const connection = new FuzzConnection();
    await connection.open(gregor.port);
    const memoryBefore = externalBytes();
    try {
      // The broker decompresses a compressed batch to validate it (as Kafka's LogValidator), up to
      // producedBatchDecompressedBytesMax, then refuses it; a generous wait for a busy machine.
      const answer = await connection.exchange(bombFrame, 20_000);
      expect(answer).not.toBe('silent');
      expect(answer).not.toBe('closed');
      const { correlationId, body } = decodeResponse(ApiKey.Produce, 9, answer as Buffer);
      expect(correlationId).toBe(424242);
      expect(body.responses[0].partitionResponses[0].errorCode).toBe(ErrorCode.CORRUPT_MESSAGE);
    } finally {
      connection.destroy();
    }
    expect(externalBytes() - memoryBefore).toBeLessThan(MEMORY_GROWTH_MAX);
    await expectHealthyServer();
  });
});

/** A well-behaved client: ApiVersions, Metadata with auto-create, Produce and read back the offset. */
async function expectHealthyServer(): Promise<void> {
  const connection = new FuzzConnection();
  await connection.open(gregor.port);
  try {
    // A good client's answers may take longer than a mutated frame's on a loaded machine.
    const versions = await connection.exchange(encodeRequest({ apiKey: ApiKey.ApiVersions, apiVersion: 3, correlationId: 1, clientId: 'good' }, { clientSoftwareName: 'fuzz', clientSoftwareVersion: '1' }), HEALTHY_ANSWER_WAIT_MS);
    expect(Buffer.isBuffer(versions)).toBe(true);
    expect(decodeResponse(ApiKey.ApiVersions, 3, versions as Buffer).body.errorCode).toBe(0);
    const metadata = await connection.exchange(encodeRequest({ apiKey: ApiKey.Metadata, apiVersion: 9, correlationId: 2, clientId: 'good' }, { topics: [{ name: 'healthy' }], allowAutoTopicCreation: true }), HEALTHY_ANSWER_WAIT_MS);
    expect(Buffer.isBuffer(metadata)).toBe(true);
    const { body } = decodeResponse(ApiKey.Metadata, 9, metadata as Buffer);
    expect(body.topics[0].errorCode).toBe(0);
    expect(body.brokers[0].port).toBe(gregor.port);
  } finally {
    connection.destroy();
  }
}
