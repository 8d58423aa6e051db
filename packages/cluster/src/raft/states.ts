/**
 * The role a node plays in one epoch, as Kafka's `EpochState` classes (KIP-595, with KIP-996's
 * Prospective): what it knows about the epoch, the timers that move it on, and whether it may grant
 * a vote. Plain data with the vote rule; the transitions are the RaftClient's.
 *
 * - Unattached: an epoch with no known leader (or a leader whose epoch began while we were away);
 *   may hold the vote it cast. A voter stays until its election timer fires.
 * - Prospective: the election timer fired; asks for pre-votes (Vote with preVote) without bumping
 *   the epoch, so a node that merely lost touch cannot disturb a healthy leader.
 * - Candidate: won the pre-vote; bumped the epoch, voted for itself (durably), asks for votes.
 * - Leader: won the vote; appends, replicates, commits (LeaderState).
 * - Follower: knows the epoch's leader and fetches from it.
 * - Resigned: was the leader of this epoch and gave it up (shutdown, check quorum, restart); tells
 *   the voters with EndQuorumEpoch and never leads this epoch again.
 */
import type { LeaderState } from './leader-state.js';
import type { FetchedSnapshotWriter, SnapshotId } from './snapshots.js';

export interface VoteTally {
  granted: Set<number>;
  rejected: Set<number>;
  /** Rounds lost so far in this run of elections (for the exponential backoff). */
  retries: number;
  /** When set, the round was lost and the next starts at this time. */
  backoffUntilMs: number | undefined;
  electionDeadlineMs: number;
}

export class UnattachedState {
  readonly role = 'unattached';
  constructor(
    readonly epoch: number,
    /** The candidate voted for in this epoch, or -1. */
    readonly votedId: number,
    readonly electionDeadlineMs: number,
  ) {}

  canGrantVote(candidateId: number, isLogUpToDate: boolean, _preVote: boolean): boolean {
    if (this.votedId >= 0) return this.votedId === candidateId;
    return isLogUpToDate;
  }
}

export class ProspectiveState {
  readonly role = 'prospective';
  constructor(
    readonly epoch: number,
    /** The vote this node cast in this epoch (kept from before), or -1. */
    readonly votedId: number,
    /** The leader of this epoch we lost touch with, or -1: a response naming it again brings us back to following it. */
    readonly leaderId: number,
    readonly tally: VoteTally,
  ) {}

  canGrantVote(candidateId: number, isLogUpToDate: boolean, preVote: boolean): boolean {
    // The vote cast in this epoch binds real votes in it. A pre-vote is about the next epoch, and a
    // prospective has given up on this one (its leader went silent, or no candidate won in time):
    // refusing would only stall elections (two voters left after a split vote, or after their
    // leader died, would refuse each other forever).
    if (preVote) return isLogUpToDate;
    if (this.votedId >= 0) return this.votedId === candidateId;
    return isLogUpToDate;
  }
}

export class CandidateState {
  readonly role = 'candidate';
  constructor(
    readonly epoch: number,
    readonly localId: number,
    readonly tally: VoteTally,
  ) {}

  /** A candidate voted for itself in its epoch. */
  canGrantVote(candidateId: number, _isLogUpToDate: boolean, _preVote: boolean): boolean {
    return candidateId === this.localId;
  }
}

export class LeaderRoleState {
  readonly role = 'leader';
  constructor(
    readonly epoch: number,
    readonly leader: LeaderState,
  ) {}

  canGrantVote(): boolean {
    return false;
  }
}

/** A snapshot being downloaded from the leader with FetchSnapshot. */
export interface SnapshotFetch {
  snapshotId: SnapshotId;
  writer: FetchedSnapshotWriter;
}

export class FollowerState {
  readonly role = 'follower';
  /** Whether a fetch from this epoch's leader has succeeded: then the leader is alive and no (pre-)vote is granted. */
  hasFetchedFromLeader = false;
  fetchDeadlineMs: number;
  snapshotFetch: SnapshotFetch | undefined;
  constructor(
    readonly epoch: number,
    readonly leaderId: number,
    /** The vote cast in this epoch before the leader was known, or -1: kept so this node never votes twice in an epoch. */
    readonly votedId: number,
    fetchDeadlineMs: number,
  ) {
    this.fetchDeadlineMs = fetchDeadlineMs;
  }

  canGrantVote(_candidateId: number, isLogUpToDate: boolean, preVote: boolean): boolean {
    if (this.hasFetchedFromLeader) return false;
    // Until the leader answers once, a pre-vote may go to a voter that is better placed; a real
    // vote in this epoch cannot: the epoch has its leader.
    return preVote && isLogUpToDate;
  }
}

export class ResignedState {
  readonly role = 'resigned';
  constructor(
    readonly epoch: number,
    readonly localId: number,
    /** Voters not yet acknowledging the EndQuorumEpoch. */
    readonly unacknowledged: Set<number>,
    /** The other voters, most caught up first: they should run for leader first. */
    readonly preferredSuccessors: number[],
    readonly electionDeadlineMs: number,
  ) {}

  canGrantVote(): boolean {
    return false;
  }
}

export type EpochState = UnattachedState | ProspectiveState | CandidateState | LeaderRoleState | FollowerState | ResignedState;

/** The leader this state knows for its epoch, or -1. */
export function knownLeaderId(state: EpochState): number {
  switch (state.role) {
    case 'leader':
    case 'resigned':
      return state.role === 'leader' ? state.leader.localId : state.localId;
    case 'follower':
      return state.leaderId;
    default:
      return -1;
  }
}
