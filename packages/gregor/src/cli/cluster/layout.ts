/**
 * The files of a local cluster that `gregor cluster start` runs, one directory per node:
 *
 *   <dir>/node-<id>/server.properties   the node's settings, Kafka's format and names
 *   <dir>/node-<id>/data/               its data dir (log.dirs): meta.properties, the metadata log, partitions
 *   <dir>/node-<id>/server.log          what its `gregor serve` printed (appended on each start)
 *
 * A new layout gets every node combined (process.roles=broker,controller), all of them voters,
 * on loopback ports; an existing one is read back from its properties files, so a second
 * `cluster start --dir D` runs the same cluster on the same ports with the same data. Pure
 * functions except `readLayout`, which reads the files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { clusterSettings, parseProperties } from '@gregor/broker';
import { CliError } from '../args.js';

export interface NodeLayout {
  nodeId: number;
  host: string;
  clientPort: number;
  controllerPort: number;
  /** `<dir>/node-<id>`. */
  nodeDir: string;
  propertiesFile: string;
  dataDir: string;
  logFile: string;
}

export interface ClusterLayout {
  dir: string;
  nodes: NodeLayout[];
}

export const NODE_DIR_PREFIX = 'node-';

/** A new layout: node ids 1..count, ports as given (clientPorts[i], controllerPorts[i]). */
export function newLayout(dir: string, host: string, clientPorts: readonly number[], controllerPorts: readonly number[]): ClusterLayout {
  const nodes = clientPorts.map((clientPort, index): NodeLayout => {
    const nodeId = index + 1;
    const nodeDir = path.join(dir, `${NODE_DIR_PREFIX}${nodeId}`);
    return {
      nodeId,
      host,
      clientPort,
      controllerPort: controllerPorts[index] as number,
      nodeDir,
      propertiesFile: path.join(nodeDir, 'server.properties'),
      dataDir: path.join(nodeDir, 'data'),
      logFile: path.join(nodeDir, 'server.log'),
    };
  });
  return { dir, nodes };
}

/**
 * One node's server.properties: the cluster's shape (roles, id, voters, listeners), then the
 * replication defaults of a highly available cluster sized to the node count (Kafka's production
 * advice: replication factor 3, min.insync.replicas 2), then `extra` (the command's --override).
 */
export function nodeProperties(layout: ClusterLayout, node: NodeLayout, extra: readonly { name: string; value: string }[] = []): string {
  const count = layout.nodes.length;
  const voters = layout.nodes.map((n) => `${n.nodeId}@${n.host}:${n.controllerPort}`).join(',');
  const replication = Math.min(3, count);
  const lines = [
    `# Node ${node.nodeId} of a ${count}-node Gregor cluster, written by 'gregor cluster start'.`,
    `# Start this node alone with: gregor serve --config ${node.propertiesFile}`,
    '',
    '# Who this node is and which quorum it belongs to.',
    'process.roles=broker,controller',
    `node.id=${node.nodeId}`,
    `controller.quorum.voters=${voters}`,
    '',
    '# Where it listens: clients and other brokers on PLAINTEXT, the quorum on CONTROLLER.',
    `listeners=PLAINTEXT://${node.host}:${node.clientPort},CONTROLLER://${node.host}:${node.controllerPort}`,
    `advertised.listeners=PLAINTEXT://${node.host}:${node.clientPort}`,
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${node.dataDir}`,
    '',
    '# Replication: every record on three nodes; acks=all waits for every in-sync replica and is',
    '# refused while fewer than two are in sync.',
    `default.replication.factor=${replication}`,
    `min.insync.replicas=${Math.min(2, replication)}`,
    `offsets.topic.replication.factor=${replication}`,
    'unclean.leader.election.enable=false',
    '',
    '# A learning cluster: a new consumer group starts at once, and a node that comes back leads',
    '# its partitions again within 10 s (Kafka checks every 300 s).',
    'group.initial.rebalance.delay.ms=0',
    'leader.imbalance.check.interval.seconds=10',
  ];
  if (extra.length > 0) {
    lines.push('', '# From --override.');
    for (const { name, value } of extra) lines.push(`${name}=${value}`);
  }
  return `${lines.join('\n')}\n`;
}

/** The layout a previous `cluster start` wrote in `dir`, or null when it holds no node directory. */
export function readLayout(dir: string): ClusterLayout | null {
  if (!fs.existsSync(dir)) return null;
  const nodeDirs = fs.readdirSync(dir).filter((name) => name.startsWith(NODE_DIR_PREFIX) && fs.existsSync(path.join(dir, name, 'server.properties')));
  if (nodeDirs.length === 0) return null;
  const nodes = nodeDirs.map((name): NodeLayout => {
    const nodeDir = path.join(dir, name);
    const propertiesFile = path.join(nodeDir, 'server.properties');
    const properties = parseProperties(fs.readFileSync(propertiesFile, 'utf8'));
    const cluster = clusterSettings(properties);
    const client = cluster.listeners.find((listener) => !(cluster.controllerListenerNames.length > 0 ? cluster.controllerListenerNames : ['CONTROLLER']).includes(listener.name));
    const voter = cluster.controllerQuorumVoters.find((candidate) => candidate.nodeId === cluster.nodeId);
    if (cluster.nodeId === undefined || client === undefined || voter === undefined) {
      throw new CliError(`${propertiesFile} does not describe a combined node (node.id, a client listener and its own voter entry): not a layout 'gregor cluster start' wrote`);
    }
    return {
      nodeId: cluster.nodeId,
      host: client.host === '' ? '127.0.0.1' : client.host,
      clientPort: client.port,
      controllerPort: voter.port,
      nodeDir,
      propertiesFile,
      dataDir: properties.get('log.dirs') ?? path.join(nodeDir, 'data'),
      logFile: path.join(nodeDir, 'server.log'),
    };
  });
  return { dir, nodes: nodes.sort((a, b) => a.nodeId - b.nodeId) };
}

/** Writes every node's directory and properties file. */
export function writeLayout(layout: ClusterLayout, extra: readonly { name: string; value: string }[]): void {
  for (const node of layout.nodes) {
    fs.mkdirSync(node.nodeDir, { recursive: true });
    fs.writeFileSync(node.propertiesFile, nodeProperties(layout, node, extra));
  }
}
