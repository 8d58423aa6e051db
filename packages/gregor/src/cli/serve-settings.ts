/**
 * What `gregor serve` runs with, from three layers in order of precedence: its own flags (--dir,
 * --port, ...), then `--override key=value` (as kafka-server-start.sh --override), then the
 * `--config` properties file (Kafka's server.properties, Kafka's names). Every setting goes
 * through `brokerConfigFromProperties` (which checks it against Kafka's definitions and keeps it
 * for DescribeConfigs); the ones the TCP server and this command act on (`log.dirs`, `listeners`,
 * `advertised.listeners`, `listener.security.protocol.map`, `socket.request.max.bytes`,
 * `queued.max.request.bytes`, `max.connections`, `connections.max.idle.ms`,
 * `connection.failed.authentication.delay.ms`, `sasl.server.max.receive.size`) are taken here too,
 * and are not reported as ignored; neither are the listeners' TLS and SASL settings (`ssl.*`,
 * `sasl.*`, `listener.name.*`), which `Gregor.listen` reads from `properties`. Settings that
 * describe a node of a cluster (several voters, or one role only) give `node` (node-properties.ts:
 * the node's roles, voters, listeners, quorum and controller settings); the others the one
 * combined node `gregor serve` has always run. Pure function; throws CliError for a setting that
 * is wrong.
 */
import { type BrokerConfig, BrokerConfigError, brokerConfigFromProperties, type Listener } from '@gregor/broker';
import { isSecurityProtocol, listenerProtocol, parseSuperUsers, type SecurityProtocol, SecurityConfigError } from '@gregor/security';
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

/** One listener to serve, with its security protocol (its TLS and SASL settings are in `properties`). */
export interface ServeListener {
  name: string;
  host: string;
  port: number;
  securityProtocol: SecurityProtocol;
  advertisedHost?: string;
  advertisedPort?: number;
}

export interface ServeSettings {
  dir: string;
  /** The first client listener's address (the flags --host and --port set it). */
  host: string;
  port: number;
  /** Every client listener, the first one at `host`:`port`. */
  listeners: ServeListener[];
  /** All the properties given (file, then overrides), for the listeners' security settings. */
  properties: Map<string, string>;
  broker: Partial<BrokerConfig>;
  server: Partial<ServerConfig>;
  /** On when `authorizer.class.name` is set (any class: Gregor's StandardAuthorizer decides). */
  authorizer?: { superUsers: string[]; allowEveryoneIfNoAclFound: boolean };
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
  'sasl.server.max.receive.size': 'saslServerMaxReceiveBytes',
};

/** Read by the listeners' security (`listenerSecurityFromProperties`), so not reported as ignored. */
function isSecuritySetting(key: string): boolean {
  return key.startsWith('ssl.') || key.startsWith('sasl.') || key.startsWith('listener.name.') || key === 'listener.security.protocol.map' || key === 'connections.max.reauth.ms';
}

export function serveSettings(fileProperties: ReadonlyMap<string, string>, overrides: readonly { name: string; value: string }[], flags: ServeFlags): ServeSettings {
  const properties = new Map(fileProperties);
  for (const { name, value } of overrides) properties.set(name, value);
  if (flags.autoCreateTopics !== undefined) properties.set('auto.create.topics.enable', String(flags.autoCreateTopics));
  if (flags.numPartitions !== undefined) properties.set('num.partitions', String(flags.numPartitions));

  // The authorizer's own settings are not broker configs in Kafka either (Authorizer.configure reads them).
  const authorizer = authorizerSettings(properties);
  const brokerProperties = new Map([...properties].filter(([key]) => key !== 'super.users' && key !== 'allow.everyone.if.no.acl.found'));
  let parsed: ReturnType<typeof brokerConfigFromProperties>;
  try {
    parsed = brokerConfigFromProperties(brokerProperties);
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
  const delay = properties.get('connection.failed.authentication.delay.ms');
  if (delay !== undefined) {
    if (!/^\d+$/.test(delay.trim())) throw new CliError(`invalid value '${delay}' for connection.failed.authentication.delay.ms: must be a non-negative integer`);
    server.connectionFailedAuthenticationDelayMs = Number(delay.trim());
  }
  const served = new Set([...Object.keys(SERVER_SETTINGS), 'log.dirs', 'log.dir', 'connection.failed.authentication.delay.ms', 'authorizer.class.name']);
  const ignored = parsed.ignored.filter((key) => !served.has(key) && !isSecuritySetting(key));
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
      listeners: [],
      properties,
      broker,
      server,
      ignored: ignored.filter((key) => !CLUSTER_NODE_KEYS.has(key) && key !== 'security.inter.broker.protocol'),
      node,
      ...(authorizer === undefined ? {} : { authorizer }),
    };
  }

  const listeners = clientListeners(cluster.listeners, cluster.controllerListenerNames, cluster.listenerSecurityProtocolMap);
  const listener = listeners[0];
  const advertised = cluster.advertisedListeners.find((l) => l.name === listener?.name);
  if (flags.advertisedHost !== undefined) server.advertisedHost = flags.advertisedHost;
  else if (advertised !== undefined) {
    server.advertisedHost = advertised.host === '' ? undefined : advertised.host;
    server.advertisedPort = advertised.port;
  }
  const host = flags.host ?? (listener === undefined ? DEFAULT_HOST : listener.host === '' ? '0.0.0.0' : listener.host);
  const port = flags.port ?? listener?.port ?? DEFAULT_PORT;
  if (flags.port !== undefined && advertised !== undefined && flags.advertisedHost === undefined) server.advertisedPort = undefined;
  const toServe: ServeListener[] = listener === undefined
    ? [{ name: 'PLAINTEXT', host, port, securityProtocol: 'PLAINTEXT' }]
    : listeners.map((entry, index) => {
        if (index === 0) return { ...entry, host, port };
        const other = cluster.advertisedListeners.find((l) => l.name === entry.name);
        return { ...entry, host: entry.host === '' ? '0.0.0.0' : entry.host, advertisedHost: other?.host || undefined, advertisedPort: other?.port };
      });
  return { dir: flags.dir ?? dirs[0] ?? DEFAULT_DIR, host, port, listeners: toServe, properties, broker, server, ignored, ...(authorizer === undefined ? {} : { authorizer }) };
}

/** `authorizer.class.name` (any non-empty class turns Gregor's authorizer on), `super.users`, `allow.everyone.if.no.acl.found`. */
function authorizerSettings(properties: ReadonlyMap<string, string>): ServeSettings['authorizer'] {
  const className = properties.get('authorizer.class.name')?.trim() ?? '';
  const allowEveryone = properties.get('allow.everyone.if.no.acl.found')?.trim().toLowerCase() ?? 'false';
  if (allowEveryone !== 'true' && allowEveryone !== 'false') throw new CliError(`invalid value '${allowEveryone}' for allow.everyone.if.no.acl.found: must be true or false`);
  if (className === '') return undefined;
  return { superUsers: parseSuperUsers(properties.get('super.users')), allowEveryoneIfNoAclFound: allowEveryone === 'true' };
}

/**
 * The listeners clients use: those not named in controller.listener.names (the controller's is
 * kept for the cluster work and not served), each with its security protocol from
 * listener.security.protocol.map (or its name, when that is a protocol).
 */
function clientListeners(listeners: Listener[], controllerNames: string[], protocols: Record<string, string>): ServeListener[] {
  return listeners.filter((l) => !controllerNames.includes(l.name)).map((l) => {
    let securityProtocol: SecurityProtocol;
    try {
      securityProtocol = protocols[l.name] === undefined && !isSecurityProtocol(l.name) ? 'PLAINTEXT' : listenerProtocol(l.name, protocols);
    } catch (error) {
      if (error instanceof SecurityConfigError) throw new CliError(error.message);
      throw error;
    }
    return { name: l.name, host: l.host, port: l.port, securityProtocol };
  });
}
