/**
 * Opens one node of a cluster on this machine's real file system, clock and network, as
 * `gregor serve --config server.properties` runs it: the data dir locked for this process
 * (`<dir>/.lock`, as `Gregor.open` holds it), then `GregorNode.open` with the settings read from
 * the properties (node-properties.ts) and, with the broker role, a `Broker.create` wired to the
 * node (its controller channel, its network to the other brokers, its client listeners). The
 * controller checks config changes with the broker's own rules (`controllerConfigValidator`).
 * `close()` leaves gracefully (controlled shutdown) and releases the lock.
 */
import path from 'node:path';
import { Broker, type BrokerConfig, BrokerConfigView, controllerConfigValidator, resolveBrokerConfig } from '@gregor/broker';
import { nodeFileSystem, systemClock } from '@gregor/log';
import type { Logger, ServerConfig } from '@gregor/server';
import { lockDataDir } from '../data-dir-lock.js';
import { type BrokerFactory, GregorNode, type NodeSecurityConfig } from './node.js';
import type { ClusterNodeSettings } from './node-properties.js';

export interface OpenNodeOptions {
  settings: ClusterNodeSettings;
  /** The data dir (`log.dirs`). */
  dir: string;
  /** The broker's settings (Kafka's names already converted). */
  broker: Partial<BrokerConfig>;
  server: Partial<ServerConfig>;
  logger: Logger;
  /** Default: `Broker.create` on the real file system, clock and randomness. */
  createBroker?: BrokerFactory;
  /** The listeners' TLS and SASL properties and the authorizer (`authorizer.class.name`). */
  security?: NodeSecurityConfig;
}

export interface OpenedNode {
  node: GregorNode;
  /** The broker this node runs (null for a controller-only node, or one made by `createBroker`). */
  broker: Broker | null;
  dir: string;
  /** Leaves gracefully, then releases the data dir. */
  close(): Promise<void>;
}

export async function openNode(options: OpenNodeOptions): Promise<OpenedNode> {
  const dir = path.resolve(options.dir);
  nodeFileSystem.mkdir(dir);
  const releaseLock = lockDataDir(dir);
  try {
    const { settings } = options;
    const brokerSettings: Partial<BrokerConfig> = { ...options.broker, nodeId: settings.nodeId };
    const resolved = resolveBrokerConfig(brokerSettings);
    let created: Broker | null = null;
    const createBroker: BrokerFactory =
      options.createBroker ??
      ((wiring) =>
        (created = Broker.create({
          dir: wiring.dir,
          fs: nodeFileSystem,
          clock: systemClock,
          random: Math.random,
          config: brokerSettings,
          controller: wiring.controller,
          network: wiring.network,
          listeners: wiring.listeners,
          clusterId: wiring.clusterId,
          logger: options.logger,
          authorizer: wiring.authorizer,
        })));
    const node = await GregorNode.open({
      nodeId: settings.nodeId,
      processRoles: settings.processRoles,
      voters: settings.voters,
      listeners: settings.listeners,
      controllerListenerNames: settings.controllerListenerNames,
      interBrokerListenerName: settings.interBrokerListenerName,
      dir,
      fs: nodeFileSystem,
      clock: systemClock,
      random: Math.random,
      quorum: settings.quorum,
      controller: settings.controller,
      configValidator: controllerConfigValidator(new BrokerConfigView(resolved, Object.freeze({ ...resolved }))),
      createBroker,
      security: options.security,
      server: options.server,
      logger: options.logger,
    });
    let closing: Promise<void> | null = null;
    return {
      node,
      broker: created,
      dir,
      close: () => {
        closing ??= node.close().finally(releaseLock);
        return closing;
      },
    };
  } catch (error) {
    releaseLock();
    throw error;
  }
}
