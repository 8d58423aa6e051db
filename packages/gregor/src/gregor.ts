/**
 * The facade a Node program imports: `Gregor.open({ dir })` opens a broker on a data directory in
 * this process and hands out producers, consumers and admins that call it directly (no sockets);
 * `listen()` also serves Kafka's wire protocol on a TCP port, so other processes' Kafka clients
 * can connect (once per listener name, each with its security protocol: PLAINTEXT, SSL,
 * SASL_PLAINTEXT, SASL_SSL, configured with Kafka's properties); `Gregor.Client` is the same client API over TCP, for a broker elsewhere.
 *
 * A data directory belongs to one process at a time: `open` takes `<dir>/.lock` with an OS lock
 * (`data-dir-lock.ts`) and refuses a directory another open holds. Not safe to close concurrently
 * with itself; producers and consumers may be used concurrently.
 */
import path from 'node:path';
import { Broker, type BrokerConfig, BrokerError } from '@gregor/broker';
import { ErrorCode } from '@gregor/protocol';
import {
  type Admin,
  Client,
  type ClusterOptions,
  type Consumer,
  type ConsumerOptions,
  createClient,
  InProcessTransport,
  type Producer,
  type ProducerOptions,
} from '@gregor/client';
import { type ConsoleConfig, ConsoleServer, type LocalBroker, type LocalPartitionStats } from '@gregor/console';
import { type Clock, type FileSystem, nodeFileSystem, type WarningSink } from '@gregor/log';
import {
  AclStore, isSecurityProtocol, type ListenerSecurity, listenerProtocol, listenerSecurityFromProperties, parseProtocolMap, ScramCredentialStore, SecurityApis,
  type SecurityProtocol, StandardAuthorizer,
} from '@gregor/security';
import { type BoundAddress, type Logger, Server, type ServerConfig } from '@gregor/server';
import { readFileSync } from 'node:fs';
import { GregorCluster, type GregorClusterOptions } from './cluster.js';
import { lockDataDir } from './data-dir-lock.js';

/**
 * Where an embedded broker departs from Kafka's defaults, as testcontainers' Kafka container does
 * for a one-broker cluster used by one application: a new group's first member is not kept
 * waiting for others (Kafka waits 3 s for more members to join an empty group), and
 * `__consumer_offsets` has one partition on one replica (Kafka: 50 partitions, 3 replicas, sized
 * for a cluster's many groups; one node opens 50 partition logs for nothing). `options.config`
 * overrides each. docs/decisions.md explains the choice.
 */
export const EMBEDDED_BROKER_DEFAULTS: Readonly<Partial<BrokerConfig>> = Object.freeze({
  groupInitialRebalanceDelayMs: 0,
  offsetsTopicNumPartitions: 1,
  offsetsTopicReplicationFactor: 1,
});

export interface GregorOptions {
  /** The data directory; created when missing. Default `./data`. */
  dir?: string;
  /**
   * Broker settings (Kafka's names, camelCased): `autoCreateTopicsEnable`, `numPartitions`, ...
   * Kafka's defaults, except EMBEDDED_BROKER_DEFAULTS.
   */
  config?: Partial<BrokerConfig>;
  /** File system and clock, for tests (the in-memory file system, a fake clock). */
  fs?: FileSystem;
  clock?: Clock;
  /** The client id the in-process clients present to the broker. */
  clientId?: string;
  /**
   * Where damage found in the data directory is reported, one line each: bytes recovery moved
   * aside to `.corrupt` files, corrupt batches met by reads, unreadable checkpoints (default:
   * stderr). The server's `Logger` fits.
   */
  logger?: WarningSink;
  /**
   * Turns on authorization (Kafka's StandardAuthorizer; `authorizer.class.name` in server
   * properties): requests from sockets are checked against the ACLs kept in the data directory
   * (`acls.json`, managed with CreateAcls/DeleteAcls or `gregor acls`). `superUsers` may do
   * anything (`super.users`); `allowEveryoneIfNoAclFound` (default false) opens resources that
   * have no ACL. The in-process clients are this program itself and are not checked.
   */
  authorizer?: { superUsers?: readonly string[]; allowEveryoneIfNoAclFound?: boolean };
}

export interface GregorListenOptions {
  host?: string;
  port?: number;
  /**
   * The listener's name, as in Kafka's `listeners=NAME://host:port` (default PLAINTEXT). `listen()`
   * may be called once per name; the server's `config` and `logger` are the first call's.
   */
  name?: string;
  /** The listener's security protocol; default its entry in `listener.security.protocol.map`, else its name when that is a protocol, else PLAINTEXT. */
  securityProtocol?: SecurityProtocol;
  /**
   * Kafka's broker properties for the listener's TLS and SASL (`ssl.keystore.location`,
   * `ssl.client.auth`, `sasl.enabled.mechanisms`, `listener.name.<name>.plain.sasl.jaas.config`,
   * `listener.security.protocol.map`, ...): docs/security.md.
   */
  properties?: Readonly<Record<string, string>> | ReadonlyMap<string, string>;
  /** Host and port clients are told for this listener (default: the server config's, else the bound address). */
  advertisedHost?: string;
  advertisedPort?: number;
  config?: Partial<ServerConfig>;
  logger?: Logger;
  /**
   * Also serve the web console, the REST API, /metrics and /health on this HTTP port (0: any free
   * port); omitted: no HTTP listener. The CLI's `--http-port` (default 8080, 0 = off) sets it.
   */
  http?: GregorConsoleOptions;
}

export interface GregorConsoleOptions {
  host?: string;
  port?: number;
  /** The console's bounds and alert thresholds (`@gregor/console`'s ConsoleConfig). */
  config?: Partial<ConsoleConfig>;
}

export class Gregor {
  /** Kafka's client over TCP: `new Gregor.Client({ brokers: ['localhost:9092'] })`, as kafkajs's `new Kafka(...)`. */
  static readonly Client = Client;

  /**
   * Several brokers in this process over loopback TCP, a cluster as `gregor cluster start` runs
   * one (cluster.ts): resolves once the quorum has a leader and every broker is unfenced.
   */
  static openCluster(options: GregorClusterOptions = {}): Promise<GregorCluster> {
    return GregorCluster.open(options);
  }

  private readonly client: Client;
  /** What serves requests: the broker behind the security APIs (SCRAM credentials). */
  private readonly handler: SecurityApis;
  /** SCRAM credentials of this data directory (`scram-credentials.json`). */
  readonly scramCredentials: ScramCredentialStore;
  private readonly transport: InProcessTransport;
  private readonly producers = new Set<Producer>();
  private readonly consumers = new Set<Consumer>();
  private readonly admins = new Set<Admin>();
  private server: Server | undefined;
  private console: ConsoleServer | undefined;
  private closing = false;

  private constructor(
    readonly broker: Broker,
    readonly dir: string,
    private readonly releaseLock: () => void,
    clientId: string,
    fs: FileSystem,
    acls: { store: AclStore; authorizer: StandardAuthorizer } | undefined,
  ) {
    this.scramCredentials = ScramCredentialStore.open({ fs, dir });
    this.handler = new SecurityApis(broker, { scramCredentials: this.scramCredentials, acls });
    this.transport = new InProcessTransport(this.handler, { clientId });
    this.client = createClient({ transport: this.transport, clientId });
  }

  static async open(options: GregorOptions = {}): Promise<Gregor> {
    const dir = path.resolve(options.dir ?? './data');
    const releaseLock = options.fs === undefined ? lockDataDir(dir) : () => {};
    try {
      const config = { ...EMBEDDED_BROKER_DEFAULTS, ...definedSettings(options.config) };
      const fs = options.fs ?? nodeFileSystem;
      const acls = options.authorizer === undefined ? undefined : openAcls(fs, dir, options.authorizer);
      const broker = await Broker.open({ dir, fs: options.fs, clock: options.clock, config, logger: options.logger, authorizer: acls?.authorizer });
      try {
        return new Gregor(broker, dir, releaseLock, options.clientId ?? 'gregor', fs, acls);
      } catch (error) {
        await broker.close();
        throw error;
      }
    } catch (error) {
      releaseLock();
      throw error;
    }
  }

  /** A producer (kafkajs's options); sending to a missing topic creates it when the broker allows. */
  producer(options: ProducerOptions & ClusterOptions = {}): Producer {
    this.assertOpen('producer()');
    return track(this.producers, this.client.producer(options));
  }

  /** A consumer of the group `groupId` (required). */
  consumer(options: ConsumerOptions & ClusterOptions): Consumer {
    this.assertOpen('consumer()');
    return track(this.consumers, this.client.consumer(options));
  }

  admin(): Admin {
    this.assertOpen('admin()');
    return track(this.admins, this.client.admin());
  }

  /**
   * Serves Kafka's wire protocol on one listener; resolves to the bound address (port 0 picks a
   * free port). Call again with another `name` for another listener (for example PLAINTEXT for
   * tools on the machine and SASL_SSL for applications).
   */
  async listen(options: GregorListenOptions = {}): Promise<BoundAddress> {
    this.assertOpen('listen()');
    const name = options.name ?? 'PLAINTEXT';
    if (this.server?.listenerAddress(name) !== undefined) {
      const bound = this.server.listenerAddress(name);
      throw new BrokerError('ALREADY_LISTENING', `this Gregor's listener ${name} already listens on ${bound?.host}:${bound?.port}`);
    }
    const security = this.listenerSecurity(name, options);
    this.server ??= new Server({ broker: this.handler, config: options.config, logger: options.logger });
    const address = await this.server.listen({ host: options.host, port: options.port, name, security, advertisedHost: options.advertisedHost, advertisedPort: options.advertisedPort });
    if (options.http !== undefined) await this.serveConsole(options.http);
    return address;
  }

  private listenerSecurity(name: string, options: GregorListenOptions): ListenerSecurity {
    const properties = new Map(options.properties instanceof Map ? options.properties : Object.entries(options.properties ?? {}));
    const protocolMap = parseProtocolMap(properties.get('listener.security.protocol.map') ?? '');
    const protocol = options.securityProtocol ?? (protocolMap[name] !== undefined || isSecurityProtocol(name) ? listenerProtocol(name, protocolMap) : 'PLAINTEXT');
    return listenerSecurityFromProperties(properties, name, protocol, { readFile: (file) => readFileSync(file), scramCredentials: this.scramCredentials });
  }

  /**
   * Serves the web console, the REST API, /metrics and /health over HTTP (one listener per
   * process); resolves to its address. The console reads the broker through its request handlers
   * (an in-process client), so it works with or without `listen()`.
   */
  async serveConsole(options: GregorConsoleOptions = {}): Promise<BoundAddress> {
    this.assertOpen('serveConsole()');
    if (this.console !== undefined) throw new BrokerError('ALREADY_LISTENING', 'this Gregor already serves its console');
    const console = new ConsoleServer({
      transport: new InProcessTransport(this.handler, { clientId: 'gregor-console' }),
      local: localBroker(this.broker),
      // Looked up on each use, so a console started before listen() still finds the listener.
      server: () => this.server,
      config: options.config,
    });
    this.console = console;
    try {
      return await console.listen({ host: options.host, port: options.port });
    } catch (error) {
      this.console = undefined;
      await console.close();
      throw error;
    }
  }

  /** The console's HTTP address, if it is served. */
  get httpAddress(): BoundAddress | undefined {
    return this.console?.address;
  }

  /** True once `close()` was called: the broker and its clients are (being) closed. */
  get closed(): boolean {
    return this.closing;
  }

  private assertOpen(call: string): void {
    if (this.closing) throw new BrokerError('BROKER_CLOSED', `${call} after close(): this Gregor is closed; open the data directory again with Gregor.open()`, ErrorCode.BROKER_NOT_AVAILABLE);
  }

  /** The bound address of listener `name`, if it listens. */
  listenerAddress(name: string): BoundAddress | undefined {
    return this.server?.listenerAddress(name);
  }

  /** The listening address, if `listen` was called. */
  get address(): BoundAddress | undefined {
    return this.server?.address;
  }

  /**
   * Stops serving (in-flight requests are answered), disconnects the clients it handed out
   * (producers flush), then closes the broker, which flushes the logs and marks a clean shutdown.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    try {
      await this.console?.close();
      await this.server?.close();
      await Promise.allSettled([...this.consumers].map((consumer) => consumer.disconnect()));
      await Promise.allSettled([...this.producers].map((producer) => producer.disconnect()));
      await Promise.allSettled([...this.admins].map((admin) => admin.disconnect()));
      await this.transport.close();
      await this.broker.close();
    } finally {
      // Whatever failed, this process is done with the directory.
      this.releaseLock();
    }
  }
}

/** The broker's local replicas as the console's per-broker log metrics read them. */
/** What the console shows of the broker in its own process (log gauges, what it leads). */
export function localBroker(broker: Broker): LocalBroker {
  return {
    nodeId: broker.nodeId,
    *partitions(): Iterable<LocalPartitionStats> {
      for (const partition of broker.replicaManager?.all() ?? []) {
        const log = partition.log;
        if (log.isClosed) continue;
        yield { topic: partition.topic, partition: partition.partitionIndex, logStartOffset: log.logStartOffset, logEndOffset: log.logEndOffset, sizeBytes: log.sizeBytes, segmentCount: log.segmentCount };
      }
    },
  };
}

/** The ACLs of the data directory and the authorizer deciding with them. */
function openAcls(fs: FileSystem, dir: string, settings: NonNullable<GregorOptions['authorizer']>): { store: AclStore; authorizer: StandardAuthorizer } {
  const store = AclStore.open({ fs, dir });
  const authorizer = new StandardAuthorizer({ superUsers: settings.superUsers ?? [], allowEveryoneIfNoAclFound: settings.allowEveryoneIfNoAclFound ?? false }, store.acls);
  return { store, authorizer };
}

/** The settings given a value: `{ groupInitialRebalanceDelayMs: undefined }` keeps our default. */
function definedSettings(config: Partial<BrokerConfig> | undefined): Partial<BrokerConfig> {
  return Object.fromEntries(Object.entries(config ?? {}).filter(([, value]) => value !== undefined));
}

function track<T>(set: Set<T>, item: T): T {
  set.add(item);
  return item;
}
