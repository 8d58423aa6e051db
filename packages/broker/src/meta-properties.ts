/**
 * `meta.properties` in the data dir, Kafka's Java-properties format as KRaft writes it:
 *   #<comment line>
 *   version=1
 *   node.id=<nodeId>
 *   cluster.id=<22-char base64url uuid>
 * Created on the first open and kept: a later open with another node id is refused, as Kafka does.
 * Only the Broker's constructor calls it.
 */
import path from 'node:path';
import type { FileSystem } from '@gregor/log';
import { BrokerError } from './errors.js';
import { randomClusterId, type Random } from './ids.js';
import { parseProperties } from './properties.js';

export const META_PROPERTIES_FILE = 'meta.properties';

export interface MetaProperties {
  version: number;
  nodeId: number;
  clusterId: string;
}

export function formatMetaProperties(meta: MetaProperties): string {
  return `#\n#Written by Gregor\nversion=${meta.version}\nnode.id=${meta.nodeId}\ncluster.id=${meta.clusterId}\n`;
}

/**
 * Reads `meta.properties`, or creates it with `clusterId` (a new random one when not given). A
 * file of another cluster than `clusterId` is refused (INCONSISTENT_CLUSTER_ID), as Kafka does.
 */
export function loadOrCreateMetaProperties(fs: FileSystem, dir: string, nodeId: number, random: Random, expectedClusterId?: string): MetaProperties {
  const filePath = path.join(dir, META_PROPERTIES_FILE);
  if (!fs.exists(filePath)) {
    const meta = { version: 1, nodeId, clusterId: expectedClusterId ?? randomClusterId(random) };
    fs.writeFileAtomic(filePath, Buffer.from(formatMetaProperties(meta)));
    return meta;
  }
  const properties = parseProperties(fs.readFile(filePath).toString('utf8'));
  const version = Number(properties.get('version'));
  const storedNodeId = Number(properties.get('node.id') ?? properties.get('broker.id'));
  const clusterId = properties.get('cluster.id');
  if (version !== 1 && version !== 0) throw new BrokerError('INVALID_META_PROPERTIES', `${filePath}: unsupported version ${properties.get('version')}`);
  if (clusterId === undefined || clusterId === '') throw new BrokerError('INVALID_META_PROPERTIES', `${filePath}: no cluster.id`);
  if (expectedClusterId !== undefined && clusterId !== expectedClusterId) {
    throw new BrokerError('INCONSISTENT_CLUSTER_ID', `${filePath} belongs to cluster ${clusterId}, but this node is in cluster ${expectedClusterId}`);
  }
  if (storedNodeId !== nodeId) {
    throw new BrokerError('INCONSISTENT_NODE_ID', `${filePath} belongs to node.id ${properties.get('node.id')}, but this broker is node.id ${nodeId}`);
  }
  return { version, nodeId, clusterId };
}
