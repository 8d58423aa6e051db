/**
 * `gregor serve`: Kafka's kafka-server-start. Settings come from --config (a server.properties in
 * Kafka's format and names), --override key=value, and the flags below, each layer over the one
 * before (see serve-settings.ts). Runs until SIGINT or SIGTERM, then closes cleanly; `main`
 * resolves once the broker has closed.
 */
import fs from 'node:fs';
import { parseProperties } from '@gregor/broker';
import { ConsoleServer } from '@gregor/console';
import { TcpTransport } from '@gregor/client';
import { Gregor, localBroker } from '../../gregor.js';
import { CliError, CommandFailedError, integerOption, keyValueOption, parseCommand } from '../args.js';
import { dataDirLocked } from '../connect.js';
import { type ServeSettings, serveSettings } from '../serve-settings.js';
import { openNode, type OpenedNode } from '../../node/open-node.js';
import type { ClusterNodeSettings } from '../../node/node-properties.js';
import { stderrLogger } from '@gregor/server';

const help = `usage: gregor serve [--config server.properties] [--override key=value]...
                    [--dir ./data] [--port 9092] [--host 127.0.0.1] [--advertised-host H]
                    [--no-auto-create-topics] [--num-partitions N] [--http-port 8080]

Runs a broker on the data directory and serves Kafka's wire protocol. Stop with Ctrl-C: in-flight
requests are answered, the logs flushed, and a clean-shutdown marker written.

--http-port N serves the web console, the REST API (/api/...), /metrics (Prometheus) and /health
on http://<host>:N (default 8080; 0 turns it off; a port in use is reported and skipped).

--config reads Kafka's server.properties (Kafka's setting names: log.dirs, listeners,
num.partitions, log.retention.hours, group.initial.rebalance.delay.ms, ...); --override sets one
setting, as kafka-server-start.sh --override does; the flags override both. Kafka settings that do
not apply to Gregor (thread counts, socket buffers, ...) are accepted and listed once as ignored;
a name Kafka does not know is an error.

A properties file that describes a node of a cluster (process.roles, node.id,
controller.quorum.voters with several voters, listeners with a CONTROLLER listener) runs that
node: it joins the controller quorum and, with the broker role, serves clients on its client
listener once the quorum has registered it. 'gregor cluster start' writes such files and starts
the nodes; docs/cluster.md explains each setting.

Examples:
  gregor serve --dir ./data --port 9092
  gregor serve --config config/kraft/server.properties --override group.initial.rebalance.delay.ms=0
  gregor serve --dir /tmp/gregor --port 0 --override log.retention.hours=1 --override num.partitions=3
  gregor serve --config ./cluster/node-1/server.properties      # one node of a cluster`;

const options = {
  config: { type: 'string' },
  override: { type: 'string', multiple: true },
  dir: { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'advertised-host': { type: 'string' },
  'no-auto-create-topics': { type: 'boolean' },
  'num-partitions': { type: 'string' },
  'http-port': { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}' (a properties file goes in --config)`);
  const settings = serveSettings(readConfigFile(values.config), keyValueOption(values.override, 'override'), {
    dir: values.dir,
    host: values.host,
    port: values.port === undefined ? undefined : integerOption(values.port, 'port', 9092, { min: 0, max: 65535 }),
    advertisedHost: values['advertised-host'],
    autoCreateTopics: values['no-auto-create-topics'] ? false : undefined,
    numPartitions: values['num-partitions'] === undefined ? undefined : integerOption(values['num-partitions'], 'num-partitions', 1, { min: 1 }),
  });
  const httpPort = integerOption(values['http-port'], 'http-port', 8080, { min: 0, max: 65535 });
  if (settings.ignored.length > 0) console.error(`gregor: ignoring settings that have no effect in Gregor: ${settings.ignored.join(', ')}`);
  if (settings.node !== undefined) {
    await serveClusterNode(settings.node, settings, httpPort);
    return;
  }
  const gregor = await openDataDir(settings.dir, () => Gregor.open({ dir: settings.dir, config: settings.broker, authorizer: settings.authorizer }));
  let address: { host: string; port: number };
  try {
    const [first, ...others] = settings.listeners;
    address = await gregor.listen({ name: first.name, securityProtocol: first.securityProtocol, host: settings.host, port: settings.port, config: settings.server, properties: settings.properties });
    for (const listener of others) {
      await gregor.listen({ ...listener, properties: settings.properties });
    }
  } catch (error) {
    await gregor.close();
    throw error;
  }
  const consoleLine = await serveConsole(gregor, settings.host, httpPort);
  // Before the banner: whoever reads "Press Ctrl-C to stop" may signal at once.
  const closed = closedBySignal(gregor);
  printBanner(gregor, address, settings.server.advertisedHost, consoleLine);
  if (settings.listeners.length > 1 || settings.listeners[0].securityProtocol !== 'PLAINTEXT') {
    for (const listener of settings.listeners) {
      const bound = gregor.listenerAddress(listener.name);
      console.log(`Listener ${listener.name} (${listener.securityProtocol}) on ${bound?.host}:${bound?.port}`);
    }
  }
  await closed;
}

/** Opens the data directory with `open`, saying what to do when another process holds it. */
async function openDataDir<T>(dir: string, open: () => Promise<T>): Promise<T> {
  try {
    return await open();
  } catch (error) {
    if ((error as { code?: unknown }).code !== 'DATA_DIR_LOCKED') throw error;
    throw dataDirLocked(dir, error, '(another gregor serve?); stop it, or choose another --dir');
  }
}

function readConfigFile(file: string | undefined): Map<string, string> {
  if (file === undefined) return new Map();
  try {
    return parseProperties(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw new CommandFailedError('CONFIG_NOT_FOUND', `--config ${file}: no such file`, { cause: error });
    throw error;
  }
}

function printBanner(gregor: Gregor, address: { host: string; port: number }, advertisedHost: string | undefined, consoleLine: string): void {
  const target = `${advertisedHost ?? (address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host)}:${address.port}`;
  console.log(`Gregor is serving Kafka's protocol on ${target} (node ${gregor.broker.nodeId}, cluster ${gregor.broker.clusterId}, data in ${gregor.dir})`);
  console.log('');
  console.log('Connect any Kafka client to it, for example:');
  console.log(`  kcat -L -b ${target}                                     # metadata`);
  console.log(`  echo 'hello' | kcat -P -b ${target} -t greetings         # produce (topics are auto-created)`);
  console.log(`  kcat -C -b ${target} -t greetings -o beginning -e        # consume`);
  console.log(`  new Kafka({ brokers: ['${target}'] })                     // kafkajs`);
  console.log(`  pnpm gregor topics list --bootstrap-server ${target}`);
  console.log(consoleLine);
  console.log('');
  console.log('Press Ctrl-C to stop.');
}

/** Resolves when SIGINT or SIGTERM has closed the broker (in-flight requests answered, logs flushed). */
function closedBySignal(gregor: { close(): Promise<void> }): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) return;
      stopping = true;
      console.log(`\n${signal}: closing (answering in-flight requests, flushing the logs)`);
      // The library's timers do not hold the process open (they are unref'd); this does, until the
      // close has finished (a resigning quorum leader waits for its peers or its election timeout).
      const keepAlive = setInterval(() => {}, 1000);
      gregor.close().then(
        () => {
          clearInterval(keepAlive);
          console.log('closed cleanly');
          resolve();
        },
        (error: unknown) => {
          clearInterval(keepAlive);
          reject(error);
        },
      );
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}

/** Starts the console on `port` (0: off); the banner line saying where it is, or why it is not. */
async function serveConsole(gregor: Gregor, host: string, port: number): Promise<string> {
  if (port === 0) return 'Web console, REST API and /metrics: off (--http-port 0)';
  try {
    const address = await gregor.serveConsole({ host, port });
    const shown = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
    return `Web console: http://${shown}:${address.port}/  (REST API under /api/, Prometheus /metrics, /health)`;
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return `Web console: not started, port ${port} is in use (choose one with --http-port N, or 0 to turn it off)`;
  }
}

/** One node of a cluster: runs until SIGINT or SIGTERM, then leaves gracefully (controlled shutdown). */
async function serveClusterNode(node: ClusterNodeSettings, settings: ServeSettings, httpPort: number): Promise<void> {
  const opened = await openDataDir(settings.dir, () => openNode({
    settings: node, dir: settings.dir, broker: settings.broker, server: settings.server, logger: stderrLogger,
    security: { properties: settings.properties, authorizer: settings.authorizer },
  }));
  let nodeConsole: ConsoleServer | undefined;
  let consoleLine: string;
  try {
    ({ console: nodeConsole, line: consoleLine } = await serveNodeConsole(opened, node, settings.host, httpPort));
  } catch (error) {
    await opened.close();
    throw error;
  }
  // The console first: it is a client of this node's listener.
  const closed = closedBySignal({ close: async () => { await nodeConsole?.close(); await opened.close(); } });
  printNodeBanner(opened, node, consoleLine);
  await closed;
}

/**
 * A node with the broker role serves the web console as a Kafka client of its own client
 * listener (TCP): requests for other brokers' partitions and groups go to those brokers by node id,
 * so one node's console shows the whole cluster. Its own replicas add log gauges to /metrics.
 */
async function serveNodeConsole(opened: OpenedNode, settings: ClusterNodeSettings, host: string, port: number): Promise<{ console?: ConsoleServer; line: string }> {
  if (port === 0) return { line: 'Web console, REST API and /metrics: off (--http-port 0)' };
  // The console is a client without credentials: it needs a PLAINTEXT client listener.
  const client = settings.listeners.find((listener) => !settings.controllerListenerNames.includes(listener.name) && (listener.securityProtocol ?? 'PLAINTEXT') === 'PLAINTEXT');
  const bound = client === undefined ? undefined : opened.node.listenerAddress(client.name);
  if (opened.broker === null) return { line: 'Web console: not served by a controller-only node (start it on a broker)' };
  if (client === undefined || bound === undefined) return { line: 'Web console: not served (it reads the cluster through a PLAINTEXT client listener, and this node has none)' };
  const target = `${bound.host === '0.0.0.0' || bound.host === '::' ? '127.0.0.1' : bound.host}:${bound.port}`;
  const nodeConsole = new ConsoleServer({
    transport: new TcpTransport({ brokers: [target], clientId: 'gregor-console' }),
    local: localBroker(opened.broker),
    server: () => opened.node.server ?? undefined,
  });
  try {
    const address = await nodeConsole.listen({ host, port });
    const shown = address.host === '0.0.0.0' || address.host === '::' ? '127.0.0.1' : address.host;
    return { console: nodeConsole, line: `Web console: http://${shown}:${address.port}/  (the whole cluster; REST API under /api/, Prometheus /metrics, /health)` };
  } catch (error) {
    await nodeConsole.close();
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    return { line: `Web console: not started, port ${port} is in use (choose one with --http-port N, or 0 to turn it off)` };
  }
}

function printNodeBanner(opened: OpenedNode, settings: ClusterNodeSettings, consoleLine: string): void {
  const { node } = opened;
  const roles = settings.processRoles.join(',');
  const addresses = settings.listeners.map((listener) => {
    const bound = node.listenerAddress(listener.name);
    const host = listener.advertisedHost ?? (bound === undefined || bound.host === '0.0.0.0' || bound.host === '::' ? '127.0.0.1' : bound.host);
    const port = listener.advertisedPort ?? bound?.port ?? listener.port;
    return { name: listener.name, target: `${host}:${port}`, controller: settings.controllerListenerNames.includes(listener.name) };
  });
  const client = addresses.find((address) => !address.controller);
  const quorum = addresses.find((address) => address.controller);
  const where = `node ${settings.nodeId}, process.roles=${roles}, cluster ${node.clusterId}, data in ${opened.dir}`;
  if (client !== undefined) console.log(`Gregor is serving Kafka's protocol on ${client.target} (${where})`);
  else console.log(`Gregor is serving the controller quorum on ${quorum?.target ?? 'no listener'} (${where})`);
  console.log('');
  for (const address of addresses) console.log(`  ${address.name.padEnd(12)} ${address.target}  ${address.controller ? 'quorum and controller APIs' : 'clients and other brokers'}`);
  console.log(`  voters       ${settings.voters.map((voter) => `${voter.nodeId}@${voter.host}:${voter.port}`).join(',')}`);
  const leader = node.leaderAndEpoch;
  console.log(`  active controller: ${leader.leaderId < 0 ? 'none elected yet' : `node ${leader.leaderId} (epoch ${leader.epoch})`}`);
  if (client !== undefined) {
    console.log('');
    console.log(`  gregor cluster status --bootstrap-server ${client.target}`);
    console.log(`  kcat -L -b ${client.target}`);
  }
  console.log(consoleLine);
  console.log('');
  console.log('Press Ctrl-C to stop.');
}
