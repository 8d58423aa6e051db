/**
 * What `gregor serve` runs with, from three layers in order of precedence: its own flags (--dir,
 * --port, ...), then `--override key=value` (as kafka-server-start.sh --override), then the
 * `--config` properties file (Kafka's server.properties, Kafka's names). Every setting goes
 * through `brokerConfigFromProperties` (which checks it against Kafka's definitions and keeps it
 * for DescribeConfigs); the ones the TCP server and this command act on (`log.dirs`, `listeners`,
 * `advertised.listeners`, `socket.request.max.bytes`, `queued.max.request.bytes`,
 * `max.connections`, `connections.max.idle.ms`) are taken here too, and are not reported as
 * ignored. Settings that describe a node of a cluster (several voters, or one role only) give
 * `node` (node-properties.ts: the node's roles, voters, listeners, quorum and controller
 * settings); the others the one combined node `gregor serve` has always run. Pure function;
 * throws CliError for a setting that is wrong.
 */
import { type BrokerConfig, BrokerConfigError, brokerConfigFromProperties, type Listener } from '@gregor/broker';
import type { ServerConfig } from '@gregor/server';
import { NodeConfigError } from '../node/errors.js';
import { CLUSTER_NODE_KEYS, type ClusterNodeSettings, clusterNodeSettings, isClusterNode } from '../node/node-properties.js';
import { CliError } from './args.js';

export interface ServeFlags {
  dir?: string;
  host?: string;
  port?: number;
  advertisedHost?: string;
  autoCreateTopics?: boolean;
  numPartitions?: number;
}

export interface ServeSettings {
  dir: string;
  host: string;
  port: number;
  broker: Partial<BrokerConfig>;
  server: Partial<ServerConfig>;
  /** Kafka settings given that have no effect in Gregor, to report once. */
  ignored: string[];
  /** Set when the settings describe a node of a cluster (several voters, or one role only). */
  node?: ClusterNodeSettings;
}

const DEFAULT_DIR = './data';
const DEFAULT_PORT = 9092;
const DEFAULT_HOST = '127.0.0.1';

/** Server settings under Kafka's names: each parsed as a positive integer. */
const SERVER_SETTINGS: Record<string, keyof ServerConfig> = {
  'socket.request.max.bytes': 'socketRequestMaxBytes',
  'queued.max.request.bytes': 'queuedMaxRequestBytes',
  'max.connections': 'maxConnections',
  'connections.max.idle.ms': 'connectionsMaxIdleMs',
};

export function serveSettings(fileProperties: ReadonlyMap<string, string>, overrides: readonly { name: string; value: string }[], flags: ServeFlags): ServeSettings {
  const properties = new Map(fileProperties);
  for (const { name, value } of overrides) properties.set(name, value);
  if (flags.autoCreateTopics !== undefined) properties.set('auto.create.topics.enable', String(flags.autoCreateTopics));
  if (flags.numPartitions !== undefined) properties.set('num.partitions', String(flags.numPartitions));

  let parsed: ReturnType<typeof brokerConfigFromProperties>;
  try {
    parsed = brokerConfigFromProperties(properties);
  } catch (error) {
    if (error instanceof BrokerConfigError) throw new CliError(error.message);
    throw error;
  }
  const { config: broker, cluster } = parsed;
  const server: Partial<ServerConfig> = {};
  for (const [key, field] of Object.entries(SERVER_SETTINGS)) {
    const value = properties.get(key);
    if (value === undefined) continue;
    const number = Number(value.trim());
    // Kafka accepts -1 ("unbounded") for queued.max.request.bytes: the server's default bound stays.
    if (key === 'queued.max.request.bytes' && number < 0) continue;
    if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number <= 0) throw new CliError(`invalid value '${value}' for ${key}: must be a positive integer`);
    (server as Record<string, number>)[field] = number;
  }
  const served = new Set([...Object.keys(SERVER_SETTINGS), 'log.dirs', 'log.dir']);
  const ignored = parsed.ignored.filter((key) => !served.has(key));
  const logDirs = properties.get('log.dirs') ?? properties.get('log.dir');
  const dirs = (logDirs ?? '').split(',').map((d) => d.trim()).filter((d) => d !== '');
  if (dirs.length > 1) throw new CliError(`log.dirs lists ${dirs.length} directories; Gregor keeps one data directory for now`);

  if (isClusterNode(cluster)) {
    let node: ClusterNodeSettings;
    try {
      node = clusterNodeSettings(cluster, broker.staticBrokerConfigs ?? {}, flags);
    } catch (error) {
      if (error instanceof NodeConfigError) throw new CliError(error.message);
      throw error;
    }
    const client = node.listeners.find((listener) => !node.controllerListenerNames.includes(listener.name));
    return {
      dir: flags.dir ?? dirs[0] ?? DEFAULT_DIR,
      host: client?.host === '' || client === undefined ? '0.0.0.0' : client.host,
      port: client?.port ?? 0,
      broker,
      server,
      ignored: ignored.filter((key) => !CLUSTER_NODE_KEYS.has(key)),
      node,
    };
  }

  const listener = clientListener(cluster.listeners, cluster.controllerListenerNames, cluster.listenerSecurityProtocolMap);
  const advertised = cluster.advertisedListeners.find((l) => l.name === listener?.name);
  if (flags.advertisedHost !== undefined) server.advertisedHost = flags.advertisedHost;
  else if (advertised !== undefined) {
    server.advertisedHost = advertised.host === '' ? undefined : advertised.host;
    server.advertisedPort = advertised.port;
  }
  const host = flags.host ?? (listener === undefined ? DEFAULT_HOST : listener.host === '' ? '0.0.0.0' : listener.host);
  const port = flags.port ?? listener?.port ?? DEFAULT_PORT;
  if (flags.port !== undefined && advertised !== undefined && flags.advertisedHost === undefined) server.advertisedPort = undefined;
  return { dir: flags.dir ?? dirs[0] ?? DEFAULT_DIR, host, port, broker, server, ignored };
}

/**
 * The listener clients use: the one not named in controller.listener.names. Gregor serves one
 * plaintext listener; the controller's is kept for the cluster work and not served.
 */
function clientListener(listeners: Listener[], controllerNames: string[], protocols: Record<string, string>): Listener | undefined {
  const candidates = listeners.filter((l) => !controllerNames.includes(l.name));
  if (candidates.length > 1) throw new CliError(`listeners names ${candidates.length} client listeners (${candidates.map((l) => l.name).join(', ')}); Gregor serves one for now`);
  const listener = candidates[0];
  if (listener === undefined) return undefined;
  const protocol = protocols[listener.name] ?? (['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'].includes(listener.name) ? listener.name : 'PLAINTEXT');
  if (protocol !== 'PLAINTEXT') throw new CliError(`listener ${listener.name} uses ${protocol}; Gregor serves PLAINTEXT only for now (no TLS or SASL yet)`);
  return listener;
}
