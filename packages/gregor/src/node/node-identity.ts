/**
 * Who a node is on disk: `meta.properties` in its data dir (Kafka's format, as KRaft writes it):
 *   #Written by Gregor
 *   version=1
 *   node.id=<id>
 *   cluster.id=<22-char base64url uuid>
 *
 * Kafka requires `kafka-storage format` before a first start. Gregor formats on first start
 * instead, and must then agree on a cluster id without a format step: an unformatted node takes
 * `cluster.id` from its configuration when given, else derives it from `controller.quorum.voters`
 * (sorted, so every node started from the same voter list gets the same id), else (a quorum of
 * one in-process, no addresses) draws a random one. A formatted dir keeps its id; one of another
 * node id, or of another cluster than the configured `cluster.id`, is refused.
 *
 * Only the node's open calls these, before anything else touches the dir.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { META_PROPERTIES_FILE, parseProperties, randomClusterId } from '@gregor/broker';
import type { FileSystem } from '@gregor/log';
import { NodeError } from './errors.js';

export interface QuorumVoterAddress {
  nodeId: number;
  host: string;
  port: number;
}

/** The cluster id a new cluster of these voters gets: the first 16 bytes of SHA-256 of `1@host:9093,2@host:9093,...` (sorted by id), base64url. */
export function clusterIdFromVoters(voters: readonly QuorumVoterAddress[]): string {
  const text = [...voters]
    .sort((a, b) => a.nodeId - b.nodeId)
    .map((voter) => `${voter.nodeId}@${voter.host}:${voter.port}`)
    .join(',');
  const bytes = createHash('sha256').update(text).digest().subarray(0, 16);
  // Kafka's Uuid.toString is base64url without padding; ids starting with '-' are avoided as Kafka does.
  if (bytes[0] !== undefined && (bytes[0] & 0xfc) === 0xf8) bytes[0] &= 0x7f;
  return bytes.toString('base64url');
}

export interface NodeIdentity {
  nodeId: number;
  clusterId: string;
  /** True when this open wrote meta.properties (the dir was not formatted). */
  formatted: boolean;
}

/**
 * Reads `meta.properties`, or writes it: with `configuredClusterId`, else the voters' derived id
 * (when they have addresses), else a random id.
 */
export function loadOrFormatNode(options: {
  fs: FileSystem;
  dir: string;
  nodeId: number;
  configuredClusterId?: string;
  voters: readonly QuorumVoterAddress[];
  random: () => number;
}): NodeIdentity {
  const { fs, dir, nodeId } = options;
  const file = path.join(dir, META_PROPERTIES_FILE);
  if (!fs.exists(file)) {
    const clusterId = options.configuredClusterId ?? (options.voters.length > 0 ? clusterIdFromVoters(options.voters) : randomClusterId(options.random));
    fs.mkdir(dir);
    fs.writeFileAtomic(file, Buffer.from(`#\n#Written by Gregor\nversion=1\nnode.id=${nodeId}\ncluster.id=${clusterId}\n`));
    return { nodeId, clusterId, formatted: true };
  }
  const properties = parseProperties(fs.readFile(file).toString('utf8'));
  const clusterId = properties.get('cluster.id') ?? '';
  const storedNodeId = Number(properties.get('node.id') ?? properties.get('broker.id'));
  if (clusterId === '') throw new NodeError('INVALID_META_PROPERTIES', `${file} has no cluster.id`, { retriable: false });
  if (storedNodeId !== nodeId) {
    throw new NodeError('INCONSISTENT_NODE_ID', `${file} belongs to node.id ${properties.get('node.id') ?? properties.get('broker.id')}, but this node is node.id ${nodeId}`, { retriable: false });
  }
  if (options.configuredClusterId !== undefined && options.configuredClusterId !== clusterId) {
    throw new NodeError('INCONSISTENT_CLUSTER_ID', `${file} belongs to cluster ${clusterId}, but cluster.id is ${options.configuredClusterId}`, { retriable: false, errorCode: 104 });
  }
  return { nodeId, clusterId, formatted: false };
}
