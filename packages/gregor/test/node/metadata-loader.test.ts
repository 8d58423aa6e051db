/**
 * The metadata loader in a quorum of one (in process, on the memory file system): committed
 * batches reach the controller and the published image in order, snapshots are written by raft's
 * policy from the image, and a restart rebuilds the same image from the newest snapshot and the
 * log after it.
 */
import { MemoryFileSystem, systemClock } from '@gregor/log';
import { METADATA_VERSION_FEATURE, METADATA_VERSION_LEVEL } from '@gregor/metadata';
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { silentLogger } from '@gregor/server';
import { afterEach, describe, expect, it } from 'vitest';
import { NodeControllerChannel } from '../../src/node/controller-channel.js';
import { GregorNode } from '../../src/node/node.js';

const nodes: GregorNode[] = [];

afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.kill()));
});

async function openSole(fs: MemoryFileSystem, quorum = {}): Promise<GregorNode> {
  const node = await GregorNode.open({
    nodeId: 1,
    processRoles: ['controller'],
    voters: [{ nodeId: 1 }],
    dir: '/data',
    fs,
    clock: systemClock,
    random: Math.random,
    quorum: { controllerQuorumAppendLingerMs: 0, ...quorum },
    logger: silentLogger,
  });
  nodes.push(node);
  return node;
}

function channelOf(node: GregorNode): NodeControllerChannel {
  return new NodeControllerChannel({ network: node.network, leaderId: () => node.leaderAndEpoch.leaderId, clock: systemClock, random: Math.random, retryBackoffMs: 10, retryBackoffMaxMs: 100, timeoutMs: 10_000 });
}

function registration(brokerId: number, clusterId: string, incarnation: number) {
  return {
    brokerId,
    clusterId,
    incarnationId: `00000000-0000-0000-0000-${String(incarnation).padStart(12, '0')}`,
    listeners: [{ name: 'PLAINTEXT', host: 'localhost', port: 9000 + brokerId, securityProtocol: 0 }],
    features: [{ name: METADATA_VERSION_FEATURE, minSupportedVersion: 1, maxSupportedVersion: METADATA_VERSION_LEVEL }],
    rack: null,
    isMigratingZkBroker: false,
    logDirs: [],
    previousBrokerEpoch: -1,
  };
}

describe('the metadata loader of a quorum of one', () => {
  it('is caught up when open resolves, and publishes every committed batch to the image the controller also holds', async () => {
    const node = await openSole(new MemoryFileSystem());
    expect(node.loader.isCaughtUp).toBe(true);
    expect(node.controller?.isActive).toBe(true);
    const channel = channelOf(node);
    for (let id = 1; id <= 3; id++) expect((await channel.send(ApiKey.BrokerRegistration, 2, registration(id, node.clusterId, id))).errorCode).toBe(ErrorCode.NONE);
    expect([...node.image.brokers.keys()].sort()).toEqual([1, 2, 3]);
    expect(node.image.features.get(METADATA_VERSION_FEATURE)).toBe(METADATA_VERSION_LEVEL);
    expect(node.image.toRecords()).toEqual(node.controller?.committedImage.toRecords());
  });

  it('writes snapshots by the policy and rebuilds the same image from the newest one after a restart', async () => {
    const fs = new MemoryFileSystem();
    const quorum = { metadataLogMaxRecordBytesBetweenSnapshots: 300 };
    const node = await openSole(fs, quorum);
    const channel = channelOf(node);
    for (let incarnation = 1; incarnation <= 12; incarnation++) {
      expect((await channel.send(ApiKey.BrokerRegistration, 2, registration(1 + (incarnation % 4), node.clusterId, incarnation))).errorCode).toBe(ErrorCode.NONE);
    }
    const snapshot = node.raft.latestSnapshotId;
    expect(snapshot).toBeDefined();
    expect(fs.readdir('/data/__cluster_metadata-0').some((name) => name.endsWith('.checkpoint'))).toBe(true);
    const before = node.image;
    await node.close();
    nodes.splice(nodes.indexOf(node), 1);
    const restarted = await openSole(fs, quorum);
    expect(restarted.clusterId).toBe(node.clusterId);
    expect(restarted.image.toRecords()).toEqual(before.toRecords());
    expect(restarted.image.offset).toBe(before.offset);
    // The restarted controller leads a new epoch on the same state, and the log goes on after the snapshot.
    expect(restarted.leaderAndEpoch.epoch).toBeGreaterThan(node.leaderAndEpoch.epoch);
    expect((await channelOf(restarted).send(ApiKey.BrokerRegistration, 2, registration(9, restarted.clusterId, 13))).errorCode).toBe(ErrorCode.NONE);
    expect(restarted.image.brokers.get(9)?.incarnationId).toBe('00000000-0000-0000-0000-000000000013');
  });
});
