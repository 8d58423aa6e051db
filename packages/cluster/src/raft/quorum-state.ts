/**
 * The `quorum-state` file: a voter's election state, which must survive a crash so that it never
 * votes twice in one epoch and never forgets an epoch it has seen. Kafka's format
 * (`FileQuorumStateStore`, QuorumStateData v0), one JSON line:
 *
 *   {"clusterId":"","leaderId":1,"leaderEpoch":5,"votedId":-1,"appliedOffset":0,"currentVoters":[{"voterId":1},...],"data_version":0}
 *
 * Data version 1 (KIP-853) is read too: it drops clusterId, appliedOffset and currentVoters and
 * adds votedDirectoryId. Every write goes through `FileSystem.writeFileAtomic` (temporary file,
 * fsync, rename, directory fsync), so after a crash the file holds the old or the new state, and a
 * write has returned only once it is durable: callers write before they answer a vote or start a
 * candidacy. Owned by one RaftClient.
 */
import type { FileSystem } from '@gregor/log';
import { QuorumStateError } from './errors.js';

export const QUORUM_STATE_FILE = 'quorum-state';

export interface ElectionState {
  epoch: number;
  /** The leader of `epoch`, or -1 when not known. */
  leaderId: number;
  /** The candidate this node voted for in `epoch`, or -1. */
  votedId: number;
  /** The voter ids, ascending (written for Kafka's v0 format; checked against the configuration on read). */
  voters: number[];
}

function isInt32(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= -(2 ** 31) && value < 2 ** 31;
}

export class QuorumStateStore {
  constructor(
    private readonly fs: FileSystem,
    readonly path: string,
  ) {}

  /** The stored state, or undefined when the file does not exist (a new node). */
  read(): ElectionState | undefined {
    if (!this.fs.exists(this.path)) return undefined;
    const text = this.fs.readFile(this.path).toString('utf8');
    const line = text.split('\n')[0] ?? '';
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(line);
    } catch (error) {
      throw new QuorumStateError(this.path, `not JSON: ${(error as Error).message}`);
    }
    if (data === null || typeof data !== 'object' || Array.isArray(data)) throw new QuorumStateError(this.path, 'not a JSON object');
    const version = data.data_version;
    if (version !== 0 && version !== 1) throw new QuorumStateError(this.path, `data_version ${String(version)} is not 0 or 1`);
    const { leaderId = -1, leaderEpoch = -1, votedId = -1 } = data;
    if (!isInt32(leaderId) || !isInt32(leaderEpoch) || !isInt32(votedId)) throw new QuorumStateError(this.path, 'leaderId, leaderEpoch and votedId must be int32');
    let voters: number[] = [];
    if (version === 0 && data.currentVoters !== null && data.currentVoters !== undefined) {
      if (!Array.isArray(data.currentVoters)) throw new QuorumStateError(this.path, 'currentVoters must be an array');
      voters = data.currentVoters.map((voter: unknown) => {
        const voterId = (voter as { voterId?: unknown } | null)?.voterId;
        if (!isInt32(voterId)) throw new QuorumStateError(this.path, 'currentVoters entries must have an int32 voterId');
        return voterId;
      });
      voters.sort((a, b) => a - b);
    }
    return { epoch: Math.max(leaderEpoch, 0), leaderId, votedId, voters };
  }

  /** Replaces the file with `state`, durably (returns after the rename is fsynced). */
  write(state: ElectionState): void {
    const data = {
      clusterId: '',
      leaderId: state.leaderId,
      leaderEpoch: state.epoch,
      votedId: state.votedId,
      appliedOffset: 0,
      currentVoters: [...state.voters].sort((a, b) => a - b).map((voterId) => ({ voterId })),
      data_version: 0,
    };
    this.fs.writeFileAtomic(this.path, Buffer.from(JSON.stringify(data), 'utf8'));
  }
}
