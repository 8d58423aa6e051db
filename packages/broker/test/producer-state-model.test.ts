/**
 * The broker's idempotent-producer machinery against a reference model, over MemoryFileSystem and
 * a FakeClock: random InitProducerId calls (with and without ids and epochs, every version),
 * appends with the next, a repeated, a re-stamped, a conflicting, a skipped, a stale or an unknown
 * producer's sequence, client-side epoch bumps, clean restarts, kills, power losses, and time
 * passing past `producer.id.expiration.ms`. The model is plain data: the log as a list of values,
 * per producer its epoch, when it was last seen and its last five batches with their values, the
 * snapshot a clean close leaves, and every producer id handed out. The broker's answers (error
 * code, offsets of appends and duplicates) and its log must be the model's, and no producer id may
 * be handed out twice.
 *
 * GREGOR_MODEL_RUNS sets the number of random runs (CI uses the default).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { FakeClock, MemoryFileSystem } from '@gregor/log';
import { forEachBatch, decodeBatch } from '@gregor/records';
import { Broker, type Body } from '@gregor/broker';
import { batch, createTopic, DIR, produce, seededRandom } from './helpers.js';

const RUNS = Number(process.env.GREGOR_MODEL_RUNS ?? 100);
const EXPIRATION_MS = 60_000;
const CHECK_INTERVAL_MS = 10_000;
const BATCHES_RETAINED = 5;
const INT32_MAX = 2_147_483_647;
const UNKNOWN_PRODUCER_BASE = 1_000_000;

type InitMode = 'none' | 'zeros' | 'known' | 'random' | 'mismatched';
type SendKind = 'next' | 'retry' | 'restamp' | 'conflict' | 'recount' | 'skip' | 'stale' | 'bump' | 'old-epoch' | 'unknown';
type Operation =
  | { kind: 'init'; mode: InitMode; version: number; pick: number; id: number; epoch: number }
  | { kind: 'send'; send: SendKind; pick: number; count: number; gap: number }
  | { kind: 'restart'; how: 'clean' | 'kill' | 'power-loss' }
  | { kind: 'advance'; ms: number };

const operation: fc.Arbitrary<Operation> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('init' as const), mode: fc.constantFrom<InitMode>('none', 'zeros', 'known', 'random', 'mismatched'), version: fc.integer({ min: 0, max: 4 }), pick: fc.nat(), id: fc.nat(3000), epoch: fc.nat(20) }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('send' as const), send: fc.constantFrom<SendKind>('next', 'next', 'next', 'retry', 'restamp', 'conflict', 'recount', 'skip', 'stale', 'bump', 'old-epoch', 'unknown'), pick: fc.nat(), count: fc.integer({ min: 1, max: 3 }), gap: fc.integer({ min: 1, max: 3 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('restart' as const), how: fc.constantFrom<'clean' | 'kill' | 'power-loss'>('clean', 'kill', 'power-loss') }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('advance' as const), ms: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 20_000 }) }, { weight: 1, arbitrary: fc.integer({ min: 50_000, max: 130_000 }) }) }) },
);

const initOperation = fc.record({ kind: fc.constant('init' as const), mode: fc.constantFrom<InitMode>('none', 'zeros', 'known'), version: fc.integer({ min: 0, max: 4 }), pick: fc.nat(), id: fc.nat(3000), epoch: fc.nat(20) });

interface SentBatch { epoch: number; firstSequence: number; values: string[] }
/** A producer as its client sees it. */
interface Client { producerId: number; epoch: number; nextSequence: number; sent: SentBatch[] }
interface ModelBatch { firstSequence: number; lastSequence: number; firstOffset: number; values: string[] }
interface ModelEntry { epoch: number; lastSeenMs: number; batches: ModelBatch[] }
interface AppendedBatch { producerId: number; epoch: number; firstSequence: number; firstOffset: number; values: string[] }

interface Model {
  log: { producerId: number; value: string }[];
  appended: AppendedBatch[];
  entries: Map<number, ModelEntry>;
  /** What the last clean close wrote: each producer's last batch, at the log end offset then. */
  snapshot: { offset: number; entries: Map<number, ModelEntry> } | null;
  allocated: Set<number>;
  nextExpirationCheckMs: number;
}

type Expected = { kind: 'append' } | { kind: 'duplicate'; offset: number } | { kind: 'error'; errorCode: number };

function lastSequenceOf(first: number, count: number): number {
  const last = first + count - 1;
  return last > INT32_MAX ? last - INT32_MAX - 1 : last;
}

/** The rules, stated once more in the plainest form. */
function expectedAnswer(model: Model, producerId: number, epoch: number, firstSequence: number, values: string[]): Expected {
  const entry = model.entries.get(producerId);
  if (entry === undefined) return firstSequence === 0 ? { kind: 'append' } : { kind: 'error', errorCode: ErrorCode.UNKNOWN_PRODUCER_ID };
  if (epoch < entry.epoch) return { kind: 'error', errorCode: ErrorCode.INVALID_PRODUCER_EPOCH };
  if (epoch > entry.epoch) return firstSequence === 0 ? { kind: 'append' } : { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  const remembered = entry.batches.find((candidate) => candidate.firstSequence === firstSequence);
  if (remembered !== undefined) {
    const same = remembered.lastSequence === lastSequenceOf(firstSequence, values.length) && remembered.values.join('\u0000') === values.join('\u0000');
    return same ? { kind: 'duplicate', offset: remembered.firstOffset } : { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
  }
  const last = entry.batches[entry.batches.length - 1];
  return firstSequence === (last.lastSequence === INT32_MAX ? 0 : last.lastSequence + 1) ? { kind: 'append' } : { kind: 'error', errorCode: ErrorCode.OUT_OF_ORDER_SEQUENCE_NUMBER };
}

function remember(entries: Map<number, ModelEntry>, appended: AppendedBatch, seenMs: number): void {
  const current = entries.get(appended.producerId);
  const batches = current !== undefined && current.epoch === appended.epoch ? current.batches : [];
  batches.push({ firstSequence: appended.firstSequence, lastSequence: lastSequenceOf(appended.firstSequence, appended.values.length), firstOffset: appended.firstOffset, values: appended.values });
  while (batches.length > BATCHES_RETAINED) batches.shift();
  entries.set(appended.producerId, { epoch: appended.epoch, lastSeenMs: Math.max(seenMs, current?.lastSeenMs ?? seenMs), batches });
}

/** What a reopen at `nowMs` knows: the snapshot's producers not yet expired, then the log after it replayed. */
function reload(model: Model, nowMs: number): void {
  const entries = new Map<number, ModelEntry>();
  for (const [producerId, entry] of model.snapshot?.entries ?? []) {
    if (nowMs - entry.lastSeenMs < EXPIRATION_MS) entries.set(producerId, { ...entry, batches: [...entry.batches] });
  }
  for (const appended of model.appended) if (appended.firstOffset >= (model.snapshot?.offset ?? 0)) remember(entries, appended, nowMs);
  model.entries = entries;
  model.nextExpirationCheckMs = nowMs + CHECK_INTERVAL_MS;
}

function advanceModel(model: Model, untilMs: number): void {
  while (model.nextExpirationCheckMs <= untilMs) {
    for (const [producerId, entry] of model.entries) if (model.nextExpirationCheckMs - entry.lastSeenMs >= EXPIRATION_MS) model.entries.delete(producerId);
    model.nextExpirationCheckMs += CHECK_INTERVAL_MS;
  }
}

interface Run {
  fs: MemoryFileSystem;
  clock: FakeClock;
  broker: Broker;
  model: Model;
  clients: Client[];
  valueCounter: number;
}

const brokerConfig = { groupInitialRebalanceDelayMs: 0, offsetsTopicNumPartitions: 1, producerIdExpirationMs: EXPIRATION_MS, producerIdExpirationCheckIntervalMs: CHECK_INTERVAL_MS };

async function open(fs: MemoryFileSystem, clock: FakeClock): Promise<Broker> {
  return Broker.open({ dir: DIR, fs, clock, random: seededRandom(7), config: brokerConfig });
}

async function initProducer(run: Run, op: Extract<Operation, { kind: 'init' }>): Promise<void> {
  const known = run.clients.length > 0 ? run.clients[op.pick % run.clients.length] : null;
  let fields: { producerId?: number; producerEpoch?: number } = {};
  let version = 4;
  if (op.mode === 'none') {
    version = op.version;
    if (version >= 3) fields = { producerId: -1, producerEpoch: -1 };
  } else if (op.mode === 'zeros') fields = { producerId: 0, producerEpoch: 0 };
  else if (op.mode === 'known') fields = known === null ? { producerId: op.id, producerEpoch: op.epoch } : { producerId: known.producerId, producerEpoch: known.epoch };
  else if (op.mode === 'random') fields = { producerId: op.id, producerEpoch: op.epoch };
  else fields = op.pick % 2 === 0 ? { producerId: op.id, producerEpoch: -1 } : { producerId: -1, producerEpoch: op.epoch };
  const answer = (await run.broker.handle(ApiKey.InitProducerId, version, { transactionalId: null, transactionTimeoutMs: 60_000, ...fields })) as Body;
  if (op.mode === 'mismatched') {
    expect(answer).toMatchObject({ errorCode: ErrorCode.INVALID_REQUEST, producerId: -1 });
    return;
  }
  expect(answer.errorCode).toBe(ErrorCode.NONE);
  expect(answer.producerEpoch).toBe(0);
  expect(run.model.allocated.has(answer.producerId)).toBe(false);
  run.model.allocated.add(answer.producerId);
  run.clients.push({ producerId: answer.producerId, epoch: 0, nextSequence: 0, sent: [] });
}

function freshValues(run: Run, count: number): string[] {
  return Array.from({ length: count }, () => `v${run.valueCounter++}`);
}

/** The batch a send operation puts on the wire: producer id, epoch, first sequence, values, timestamp. */
function chooseBatch(run: Run, op: Extract<Operation, { kind: 'send' }>): { client: Client | null; producerId: number; epoch: number; firstSequence: number; values: string[]; timestamp: number } {
  const now = run.clock.now();
  if (op.send === 'unknown' || run.clients.length === 0) {
    return { client: null, producerId: UNKNOWN_PRODUCER_BASE + op.pick % 1000, epoch: 0, firstSequence: op.gap - 1, values: freshValues(run, op.count), timestamp: now };
  }
  const client = run.clients[op.pick % run.clients.length];
  const earlier = client.sent.length > 0 ? client.sent[op.pick % client.sent.length] : null;
  const next = { client, producerId: client.producerId, epoch: client.epoch, firstSequence: client.nextSequence, values: freshValues(run, op.count), timestamp: now };
  switch (op.send) {
    case 'retry':
      return earlier === null ? next : { ...next, epoch: earlier.epoch, firstSequence: earlier.firstSequence, values: earlier.values, timestamp: 1_600_000_000_000 };
    case 'restamp':
      return earlier === null ? next : { ...next, epoch: earlier.epoch, firstSequence: earlier.firstSequence, values: earlier.values, timestamp: now + 7 };
    case 'conflict':
      return earlier === null ? next : { ...next, epoch: earlier.epoch, firstSequence: earlier.firstSequence, values: freshValues(run, earlier.values.length) };
    case 'recount':
      return earlier === null ? next : { ...next, epoch: earlier.epoch, firstSequence: earlier.firstSequence, values: freshValues(run, earlier.values.length + op.gap) };
    case 'skip':
      return { ...next, firstSequence: client.nextSequence + op.gap };
    case 'stale':
      return { ...next, firstSequence: Math.max(0, client.nextSequence - op.gap) };
    case 'bump':
      // Kafka's idempotent producer bumps its own epoch and starts its sequences again.
      client.epoch += 1;
      client.nextSequence = 0;
      return { ...next, epoch: client.epoch, firstSequence: 0 };
    case 'old-epoch':
      return { ...next, epoch: Math.max(0, client.epoch - 1) };
    default:
      return next;
  }
}

async function send(run: Run, op: Extract<Operation, { kind: 'send' }>): Promise<void> {
  const chosen = chooseBatch(run, op);
  const expected = expectedAnswer(run.model, chosen.producerId, chosen.epoch, chosen.firstSequence, chosen.values);
  const records = batch(chosen.values, { producerId: chosen.producerId, producerEpoch: chosen.epoch, baseSequence: chosen.firstSequence, timestamp: chosen.timestamp });
  const answer = (await produce(run.broker, 't', 0, records)) as Body;
  chosen.client?.sent.push({ epoch: chosen.epoch, firstSequence: chosen.firstSequence, values: chosen.values });
  const context = `${op.send} of producer ${chosen.producerId} epoch ${chosen.epoch} sequence ${chosen.firstSequence} x${chosen.values.length}: ${answer.errorMessage}`;
  if (expected.kind === 'error') {
    expect(answer.errorCode, context).toBe(expected.errorCode);
    return;
  }
  expect(answer.errorCode, context).toBe(ErrorCode.NONE);
  if (expected.kind === 'duplicate') {
    expect(answer.baseOffset, context).toBe(expected.offset);
    return;
  }
  expect(answer.baseOffset, context).toBe(run.model.log.length);
  const appended = { producerId: chosen.producerId, epoch: chosen.epoch, firstSequence: chosen.firstSequence, firstOffset: run.model.log.length, values: chosen.values };
  run.model.appended.push(appended);
  for (const value of chosen.values) run.model.log.push({ producerId: chosen.producerId, value });
  remember(run.model.entries, appended, run.clock.now());
  if (chosen.client !== null) {
    chosen.client.epoch = chosen.epoch;
    chosen.client.nextSequence = lastSequenceOf(chosen.firstSequence, chosen.values.length) + 1;
  }
}

async function restart(run: Run, how: 'clean' | 'kill' | 'power-loss'): Promise<void> {
  if (how === 'clean') {
    await run.broker.close();
    const entries = new Map<number, ModelEntry>();
    for (const [producerId, entry] of run.model.entries) entries.set(producerId, { ...entry, batches: [entry.batches[entry.batches.length - 1]] });
    run.model.snapshot = { offset: run.model.log.length, entries };
  } else {
    // A killed process leaves its page cache behind; a power loss keeps only what was synced.
    if (how === 'power-loss') run.broker.partition('t', 0)?.log.flush();
    run.broker.kill();
    if (how === 'power-loss') run.fs.crash();
  }
  run.broker = await open(run.fs, run.clock);
  reload(run.model, run.clock.now());
}

function storedLog(broker: Broker): { producerId: number; value: string }[] {
  const partition = broker.partition('t', 0)!;
  const stored: { producerId: number; value: string }[] = [];
  const { records } = partition.log.read(partition.logStartOffset, { maxBytes: 64 * 1024 * 1024, minOneBatch: true });
  forEachBatch(records, (position) => {
    const decoded = decodeBatch(records, position);
    for (const record of decoded.records()) stored.push({ producerId: decoded.producerId, value: record.value!.toString() });
  });
  return stored;
}

describe('idempotent producer state against a model', () => {
  it('answers appends, retries and InitProducerId as the model does, across restarts and expiration', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(initOperation, { minLength: 1, maxLength: 3 }), fc.array(operation, { minLength: 1, maxLength: 40 }), async (inits, rest) => {
        const operations: Operation[] = [...inits, ...rest];
        const fs = new MemoryFileSystem({ seed: 1 });
        const clock = new FakeClock();
        const run: Run = {
          fs, clock, broker: await open(fs, clock), clients: [], valueCounter: 0,
          model: { log: [], appended: [], entries: new Map(), snapshot: null, allocated: new Set(), nextExpirationCheckMs: clock.now() + CHECK_INTERVAL_MS },
        };
        try {
          await createTopic(run.broker, 't');
          for (const op of operations) {
            if (op.kind === 'init') await initProducer(run, op);
            else if (op.kind === 'send') await send(run, op);
            else if (op.kind === 'restart') await restart(run, op.how);
            else {
              advanceModel(run.model, clock.now() + op.ms);
              clock.advance(op.ms);
            }
          }
          expect(storedLog(run.broker)).toEqual(run.model.log);
          expect(run.broker.partition('t', 0)!.logEndOffset).toBe(run.model.log.length);
        } finally {
          await run.broker.close();
        }
      }),
      { numRuns: RUNS },
    );
  });
});
