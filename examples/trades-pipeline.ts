/**
 * The trades pipeline (seed 000): a market-data producer writes trades to `trades_raw` (10
 * partitions, 7 days' retention, cleanup=delete), keyed by symbol so each symbol's trades stay in
 * one partition in order; a consumer group of three (`spark-streaming`) splits the partitions and
 * checks, per symbol, that the sequence numbers arrive strictly increasing. The producer is the
 * seed's: idempotent, acks=all, snappy, linger 5 ms, 16 KiB batches, 10 retries 100 ms apart.
 * The seed's replication factor 2 needs a second broker; an embedded Gregor is one broker, so 1.
 *
 *   pnpm example examples/trades-pipeline.ts [--duration-ms 10000] [--rate 5000] [--format msgpack|json]
 *                                           [--dir ./data/examples/trades-pipeline] [--keep] [--seed 1] [--listen 9092] [--http-port 8080]
 *
 * While it runs, the web console is on http://127.0.0.1:8080/ (`--http-port N` to move it, 0 to
 * turn it off): trades_raw's ten partitions, the group's lag rising and falling, and the seed's
 * alerts (lag > 1000, under-replicated partitions, request p99, disk) on the overview.
 */
import { type Consumer, Gregor, msgpackSerializer } from 'gregor';
import {
  createStatusLine,
  DURATION_MS_DEFAULT,
  type ExampleOptions,
  ExampleError,
  isRunDirectly,
  type Clients,
  exampleClients,
  prepareDataDir,
  startConsole,
  runFromCommandLine,
  seededRandom,
  type StatusLine,
  sleep,
  waitFor,
  withKeepAlive,
} from './lib/common.js';

export const TOPIC = 'trades_raw';
export const GROUP = 'spark-streaming';
export const PARTITIONS = 10;
const MEMBERS = 3;
const RETENTION_MS = 7 * 24 * 3600 * 1000;
export const SYMBOLS = [
  'AAPL', 'MSFT', 'GOOGL', 'AMZN', 'NVDA', 'META', 'TSLA', 'BRK.B', 'JPM', 'V',
  'JNJ', 'WMT', 'PG', 'MA', 'UNH', 'HD', 'DIS', 'BAC', 'NFLX', 'ADBE',
] as const;

/** Trades per second the producer aims at (0: as fast as the producer takes them). */
export const RATE_DEFAULT = 5000;
/** The producer sends this often, `rate * tickMs / 1000` trades at a time. */
const TICK_MS = 50;
/** The seed's monitoring rule: consumer lag above this many records is worth an alert. */
const LAG_ALERT_RECORDS = 1000;
/** How long the consumers may take to catch up after the producer stopped. */
const DRAIN_TIMEOUT_MS = 15_000;

/**
 * `group.initial.rebalance.delay.ms`: the first rebalance of an empty group waits this long for
 * more members (restarting while they keep coming), so the three members, started together, get
 * their shares in one rebalance. Kafka's 3 s suits a cluster of machines; 500 ms suits one process.
 */
const BROKER_CONFIG = { groupInitialRebalanceDelayMs: 500 };

export interface Trade {
  symbol: string;
  /** Per-symbol sequence number, from 0; the consumers check it only increases. */
  sequence: number;
  price: number;
  volume: number;
  timestamp: number;
}

export interface TradesOptions extends ExampleOptions {
  /** Trades per second (default 5000; 0: unpaced). */
  rate?: number;
  /** Value encoding: msgpack (compact, like the seed's Avro) or JSON. */
  format?: 'msgpack' | 'json';
}

export interface MemberSummary {
  memberId: string;
  partitions: number[];
  consumed: number;
}

export interface TradesSummary {
  dir: string;
  /** Where Kafka's protocol was served (`listenPort`), else null. */
  address: { host: string; port: number } | null;
  /** Where the web console was served (`httpPort`), else null. */
  console: { host: string; port: number } | null;
  produced: number;
  consumed: number;
  /** Trades consumed more than once (must be 0: idempotent producer, committed offsets). */
  duplicates: number;
  /** Produced trades never consumed (must be 0 once drained). */
  missing: number;
  /** Trades whose sequence number was not above the previous one of the same symbol (must be 0). */
  orderViolations: number;
  /** Symbols seen on more than one partition (must be 0: the key decides the partition). */
  symbolsOnSeveralPartitions: number;
  /** The partition each symbol's trades were consumed from (Kafka's murmur2 of the key). */
  partitionOfSymbol: Record<string, number>;
  members: MemberSummary[];
  assignmentDisjoint: boolean;
  assignmentCoversAll: boolean;
  rebalances: number;
}

/** Generates trades: a random walk of prices per symbol, sequence numbers per symbol. */
export class TradeGenerator {
  private readonly random: () => number;
  private readonly prices = new Map<string, number>();
  readonly producedBySymbol = new Map<string, number>();

  constructor(seed: number) {
    this.random = seededRandom(seed);
    for (const symbol of SYMBOLS) {
      this.prices.set(symbol, 20 + Math.floor(this.random() * 480));
      this.producedBySymbol.set(symbol, 0);
    }
  }

  next(timestamp: number): Trade {
    const symbol = SYMBOLS[Math.floor(this.random() * SYMBOLS.length)];
    const price = Math.max(1, (this.prices.get(symbol) ?? 100) * (1 + (this.random() - 0.5) * 0.002));
    this.prices.set(symbol, price);
    const sequence = this.producedBySymbol.get(symbol) ?? 0;
    this.producedBySymbol.set(symbol, sequence + 1);
    return { symbol, sequence, price: Math.round(price * 100) / 100, volume: 1 + Math.floor(this.random() * 500), timestamp };
  }
}

/** What the group saw: counts per (symbol, sequence), the last sequence per symbol, partitions per symbol. */
class OrderChecker {
  readonly countsBySymbol = new Map<string, number[]>();
  private readonly lastSequence = new Map<string, number>();
  readonly partitionOfSymbol = new Map<string, number>();
  orderViolations = 0;
  symbolsOnSeveralPartitions = 0;
  consumed = 0;

  record(trade: Trade, partition: number): void {
    this.consumed++;
    let counts = this.countsBySymbol.get(trade.symbol);
    if (counts === undefined) {
      counts = [];
      this.countsBySymbol.set(trade.symbol, counts);
    }
    counts[trade.sequence] = (counts[trade.sequence] ?? 0) + 1;
    const last = this.lastSequence.get(trade.symbol) ?? -1;
    if (trade.sequence <= last) this.orderViolations++;
    else this.lastSequence.set(trade.symbol, trade.sequence);
    const knownPartition = this.partitionOfSymbol.get(trade.symbol);
    if (knownPartition === undefined) this.partitionOfSymbol.set(trade.symbol, partition);
    else if (knownPartition !== partition) this.symbolsOnSeveralPartitions++;
  }

  duplicatesAndMissing(producedBySymbol: Map<string, number>): { duplicates: number; missing: number } {
    let duplicates = 0;
    let missing = 0;
    for (const [symbol, produced] of producedBySymbol) {
      const counts = this.countsBySymbol.get(symbol) ?? [];
      for (let sequence = 0; sequence < produced; sequence++) {
        const count = counts[sequence] ?? 0;
        if (count === 0) missing++;
        else duplicates += count - 1;
      }
    }
    return { duplicates, missing };
  }
}

export function main(options: TradesOptions = {}): Promise<TradesSummary> {
  return withKeepAlive(() => run(options));
}

async function run(options: TradesOptions): Promise<TradesSummary> {
  const status = createStatusLine(options.log);
  const log = status.log;
  const durationMs = options.durationMs ?? DURATION_MS_DEFAULT;
  const dir = prepareDataDir('trades-pipeline', options);
  const encode = valueEncoder(options.format ?? 'msgpack');
  const gregor = await Gregor.open({ dir, config: BROKER_CONFIG });
  try {
    const { clients, address } = await exampleClients(gregor, options, TOPIC, log);
    const web = await startConsole(gregor, options, log);
    await createTradesTopic(clients, log);
    const checker = new OrderChecker();
    const group = await startGroup(clients, checker, encode.decode, durationMs, log);
    const generator = new TradeGenerator(options.seed ?? 1);
    const describe = (produced: number) => {
      const lag = group.lag();
      return `produced ${produced} consumed ${checker.consumed} | consumer lag ${lag}${lag > LAG_ALERT_RECORDS ? ` ALERT (> ${LAG_ALERT_RECORDS})` : ''} | order violations ${checker.orderViolations}`;
    };
    const produced = await produceTrades(clients, generator, encode.encode, durationMs, options.rate ?? RATE_DEFAULT, log, status, describe);
    await waitFor(() => checker.consumed >= produced, `the group to consume ${produced} trades`, DRAIN_TIMEOUT_MS).catch((error: unknown) => {
      if (!(error instanceof ExampleError)) throw error;
      log(`! ${error.message}; consumed ${checker.consumed}`);
    });
    const members = group.members();
    await group.stop();
    const { duplicates, missing } = checker.duplicatesAndMissing(generator.producedBySymbol);
    const all = members.flatMap((m) => m.partitions).sort((a, b) => a - b);
    const summary: TradesSummary = {
      dir,
      address,
      console: web,
      produced,
      consumed: checker.consumed,
      duplicates,
      missing,
      orderViolations: checker.orderViolations,
      symbolsOnSeveralPartitions: checker.symbolsOnSeveralPartitions,
      partitionOfSymbol: Object.fromEntries(checker.partitionOfSymbol),
      members,
      assignmentDisjoint: new Set(all).size === all.length,
      assignmentCoversAll: all.length === PARTITIONS && all.every((p, i) => p === i),
      rebalances: group.rebalances(),
    };
    printSummary(summary, log);
    return summary;
  } finally {
    await gregor.close();
  }
}

function valueEncoder(format: 'msgpack' | 'json'): { encode: (trade: Trade) => Buffer; decode: (value: Buffer | null) => Trade } {
  if (format === 'json') return { encode: (trade) => Buffer.from(JSON.stringify(trade)), decode: (value) => JSON.parse(String(value)) as Trade };
  const serializer = msgpackSerializer<Trade>();
  return { encode: (trade) => serializer.serialize(trade), decode: (value) => serializer.deserialize(value) as Trade };
}

async function createTradesTopic(clients: Clients, log: (line: string) => void): Promise<void> {
  const admin = clients.admin();
  await admin.connect();
  const configEntries = [
    { name: 'retention.ms', value: String(RETENTION_MS) },
    { name: 'cleanup.policy', value: 'delete' },
  ];
  try {
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS, replicationFactor: 1, configEntries }] });
  } finally {
    await admin.disconnect();
  }
  log(`topic ${TOPIC}: ${PARTITIONS} partitions, retention.ms=${RETENTION_MS} (7 days), cleanup.policy=delete`);
}

interface Group {
  members(): MemberSummary[];
  /** Records behind the high watermark over all members' partitions (Kafka's consumer lag). */
  lag(): number;
  rebalances(): number;
  stop(): Promise<void>;
}

/** Starts the three members and waits until they hold disjoint partition sets covering all ten. */
async function startGroup(clients: Clients, checker: OrderChecker, decode: (value: Buffer | null) => Trade, timeoutMs: number, log: (line: string) => void): Promise<Group> {
  const consumers: Consumer[] = [];
  const consumedByMember: number[] = [];
  let joins = 0;
  for (let index = 0; index < MEMBERS; index++) {
    const consumer = clients.consumer({ groupId: GROUP, maxWaitTimeInMs: 250 });
    consumers.push(consumer);
    consumedByMember.push(0);
    consumer.on('group.join', (event: { payload: { memberAssignment: Record<string, number[]>; generationId: number } }) => {
      joins++;
      const partitions = event.payload.memberAssignment[TOPIC] ?? [];
      log(`consumer ${index + 1} joined generation ${event.payload.generationId}: partitions ${partitions.map((p) => `P${p}`).join(',') || '(none)'}`);
    });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        consumedByMember[index]++;
        checker.record(decode(message.value), partition);
      },
    });
  }
  const partitionsOf = () => consumers.map((c) => c.assignment().map((a) => a.partition));
  await waitFor(() => {
    const all = partitionsOf().flat().sort((a, b) => a - b);
    return partitionsOf().every((p) => p.length > 0) && all.length === PARTITIONS && all.every((p, i) => p === i);
  }, 'three members holding all ten partitions', Math.max(timeoutMs, 10_000));
  return {
    members: () => consumers.map((c, i) => ({ memberId: c.memberId, partitions: c.assignment().map((a) => a.partition), consumed: consumedByMember[i] })),
    rebalances: () => joins - MEMBERS,
    lag: () => consumers.reduce((total, c) => total + c.lag().reduce((sum, p) => sum + p.lag, 0), 0),
    async stop() {
      // Stop every member before any leaves, so no leave triggers a rebalance among the others.
      await Promise.all(consumers.map((c) => c.stop()));
      await Promise.all(consumers.map((c) => c.disconnect()));
    },
  };
}

/** Produces for `durationMs` at `rate` trades per second; returns how many were acknowledged. */
async function produceTrades(
  clients: Clients,
  generator: TradeGenerator,
  encode: (trade: Trade) => Buffer,
  durationMs: number,
  rate: number,
  log: (line: string) => void,
  status: StatusLine,
  describe: (produced: number) => string,
): Promise<number> {
  const producer = clients.producer({
    idempotent: true,
    acks: -1,
    compression: 'snappy',
    lingerMs: 5,
    batchBytes: 16_384,
    retry: { retries: 10, initialRetryTimeMs: 100 },
  });
  await producer.connect();
  log(`producer: idempotent (producer id ${producer.producerIdentity.producerId}), acks=all, snappy, linger 5 ms, 16 KiB batches`);
  const startMs = Date.now();
  let produced = 0;
  let nextStatusMs = startMs + 1000;
  const perTick = rate > 0 ? Math.max(1, Math.round((rate * TICK_MS) / 1000)) : 500;
  try {
    while (Date.now() - startMs < durationMs) {
      const tickStartMs = Date.now();
      const messages = Array.from({ length: perTick }, () => {
        const trade = generator.next(tickStartMs);
        return { key: trade.symbol, value: encode(trade), timestamp: trade.timestamp };
      });
      await producer.send({ topic: TOPIC, messages });
      produced += messages.length;
      if (Date.now() >= nextStatusMs) {
        nextStatusMs += 1000;
        status.update(`${((Date.now() - startMs) / 1000).toFixed(0).padStart(3)}s | ${describe(produced)}`);
      }
      if (rate > 0) await sleep(Math.max(0, TICK_MS - (Date.now() - tickStartMs)));
    }
  } finally {
    await producer.disconnect();
    status.end();
  }
  log(`produced ${produced} trades in ${durationMs} ms`);
  return produced;
}

function printSummary(summary: TradesSummary, log: (line: string) => void): void {
  const symbolsByPartition = Array.from({ length: PARTITIONS }, (_, p) => Object.keys(summary.partitionOfSymbol).filter((symbol) => summary.partitionOfSymbol[symbol] === p).sort());
  log(`symbols by partition: ${symbolsByPartition.map((symbols, p) => `P${p}=${symbols.join(',') || '-'}`).join(' ')}`);
  log(`consumed ${summary.consumed} of ${summary.produced}; duplicates ${summary.duplicates}, missing ${summary.missing}, order violations ${summary.orderViolations}`);
  for (const [i, member] of summary.members.entries()) log(`consumer ${i + 1} holds ${member.partitions.map((p) => `P${p}`).join(',')} and consumed ${member.consumed}`);
  log(`assignment disjoint: ${summary.assignmentDisjoint}, covers P0..P${PARTITIONS - 1}: ${summary.assignmentCoversAll}, rebalances after the first: ${summary.rebalances}`);
}

if (isRunDirectly(import.meta.url)) {
  runFromCommandLine(import.meta.url, {
    description: 'Market data keyed by symbol into 10 partitions, an idempotent snappy producer with acks=all, a group of three checking order per symbol.',
    extra: { rate: { type: 'string' }, format: { type: 'string' } },
    extraHelp: '  --rate N          trades a second (0: as fast as it goes); default 5000\n  --format F        msgpack (default) or json values',
    run: async ({ common, number, values }) => {
      const format = values.format as string | undefined;
      if (format !== undefined && format !== 'json' && format !== 'msgpack') throw new ExampleError('BAD_ARGUMENT', `--format is msgpack or json, got '${format}'`);
      return main({ ...common, rate: number('rate'), format });
    },
  });
}
