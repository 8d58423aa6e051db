/**
 * Three controller-only nodes over real loopback TCP: the quorum's requests travel through the
 * node network and the controller listeners, the controller channel finds the active controller
 * wherever it is, and follows it when the active controller is killed.
 */
import { nodeFileSystem, systemClock } from '@gregor/log';
import { METADATA_VERSION_FEATURE, METADATA_VERSION_LEVEL } from '@gregor/metadata';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { silentLogger, stderrLogger } from '@gregor/server';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeControllerChannel } from '../../src/node/controller-channel.js';
import { GregorNode } from '../../src/node/node.js';
import { freePorts, TempDirs, waitFor } from './support.js';

const dirs = new TempDirs();
const nodes: GregorNode[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.kill()));
  await dirs.removeAll();
});

// Shorter than Kafka's (1000, 2000, 500) so an election takes a second, with the fetch wait well inside the fetch timeout.
const fastQuorum = { controllerQuorumElectionTimeoutMs: 300, controllerQuorumFetchTimeoutMs: 1000, controllerQuorumFetchMaxWaitMs: 100, controllerQuorumAppendLingerMs: 0 };

async function openControllers(count: number): Promise<{ nodes: GregorNode[]; voters: { nodeId: number; host: string; port: number }[] }> {
  const ports = await freePorts(count);
  const voters = ports.map((port, index) => ({ nodeId: index + 1, host: '127.0.0.1', port }));
  const opened = await Promise.all(
    voters.map(async (voter) =>
      GregorNode.open({
        nodeId: voter.nodeId,
        processRoles: ['controller'],
        voters,
        listeners: [{ name: 'CONTROLLER', host: '127.0.0.1', port: voter.port }],
        dir: await dirs.create(),
        fs: nodeFileSystem,
        clock: systemClock,
        random: Math.random,
        quorum: fastQuorum,
        logger: process.env.GREGOR_TEST_LOG ? stderrLogger : silentLogger,
      }),
    ),
  );
  nodes.push(...opened);
  return { nodes: opened, voters };
}

function activeController(among: GregorNode[]): GregorNode | undefined {
  return among.find((node) => node.controller?.isActive === true);
}

function registration(brokerId: number, clusterId: string) {
  return {
    brokerId,
    clusterId,
    incarnationId: `00000000-0000-0000-0000-00000000000${brokerId}`,
    listeners: [{ name: 'PLAINTEXT', host: '127.0.0.1', port: 9000 + brokerId, securityProtocol: 0 }],
    features: [{ name: METADATA_VERSION_FEATURE, minSupportedVersion: 1, maxSupportedVersion: METADATA_VERSION_LEVEL }],
    rack: null,
    isMigratingZkBroker: false,
    logDirs: [],
    previousBrokerEpoch: -1,
  };
}

describe('a quorum of controller-only nodes over TCP', () => {
  it('agrees on a cluster id from the voters, elects one active controller, and reaches it through the channel from any node', async () => {
    const { nodes: controllers } = await openControllers(3);
    expect(new Set(controllers.map((node) => node.clusterId)).size).toBe(1);
    await waitFor('an active controller', () => activeController(controllers) !== undefined);
    const active = activeController(controllers) as GregorNode;
    expect(controllers.filter((node) => node.controller?.isActive === true)).toHaveLength(1);
    // From a follower: the channel sends to the leader's controller listener over TCP.
    const follower = controllers.find((node) => node !== active) as GregorNode;
    const channel = new NodeControllerChannel({ network: follower.network, leaderId: () => follower.leaderAndEpoch.leaderId, clock: systemClock, random: Math.random, retryBackoffMs: 20, retryBackoffMaxMs: 200, timeoutMs: 10_000 });
    const response = await channel.send(ApiKey.BrokerRegistration, 2, registration(7, follower.clusterId));
    expect(response.errorCode).toBe(ErrorCode.NONE);
    // Every node's loader publishes the committed registration.
    await waitFor('the registration on every node', () => controllers.every((node) => node.controller?.committedImage.brokers.has(7) === true));
  });

  it('elects a new active controller when the active one is killed, keeps what was committed, and the channel follows it', async () => {
    const { nodes: controllers } = await openControllers(3);
    await waitFor('an active controller', () => activeController(controllers) !== undefined);
    const first = activeController(controllers) as GregorNode;
    const survivor = controllers.find((node) => node !== first) as GregorNode;
    const channel = new NodeControllerChannel({ network: survivor.network, leaderId: () => survivor.leaderAndEpoch.leaderId, clock: systemClock, random: Math.random, retryBackoffMs: 20, retryBackoffMaxMs: 200, timeoutMs: 15_000 });
    expect((await channel.send(ApiKey.BrokerRegistration, 2, registration(1, survivor.clusterId))).errorCode).toBe(ErrorCode.NONE);
    const firstEpoch = first.leaderAndEpoch.epoch;
    await first.kill();
    const others = controllers.filter((node) => node !== first);
    // Sent while no controller is active: the channel retries until the new one answers.
    const second = await channel.send(ApiKey.BrokerRegistration, 2, registration(2, survivor.clusterId));
    expect(second.errorCode).toBe(ErrorCode.NONE);
    const newActive = activeController(others) as GregorNode;
    expect(newActive).toBeDefined();
    expect(newActive.leaderAndEpoch.epoch).toBeGreaterThan(firstEpoch);
    await waitFor('both registrations on the survivors', () => others.every((node) => node.controller?.committedImage.brokers.has(1) === true && node.controller?.committedImage.brokers.has(2) === true));
  });

  it('gives up with a retriable CONTROLLER_UNREACHABLE when no controller answers in time', async () => {
    const { nodes: controllers } = await openControllers(3);
    await waitFor('an active controller', () => activeController(controllers) !== undefined);
    const [a, b, c] = controllers as [GregorNode, GregorNode, GregorNode];
    await b.kill();
    await c.kill();
    const channel = new NodeControllerChannel({ network: a.network, leaderId: () => a.leaderAndEpoch.leaderId, clock: systemClock, random: Math.random, retryBackoffMs: 20, retryBackoffMaxMs: 100, timeoutMs: 1500 });
    await expect(channel.send(ApiKey.BrokerRegistration, 2, registration(3, a.clusterId))).rejects.toMatchObject({ code: 'CONTROLLER_UNREACHABLE', retriable: true });
  });
});
