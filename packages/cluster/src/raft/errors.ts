/**
 * Typed errors of the quorum. Each has a stable string `code`, `retriable`, and Kafka's numeric
 * `errorCode` where Kafka has one, so a controller can turn them into wire answers unchanged.
 */
import { ErrorCode } from '@gregor/protocol';

export interface LeaderAndEpoch {
  /** The leader's node id, or -1 when no leader is known. */
  leaderId: number;
  epoch: number;
}

/** Base class of every operating error the quorum throws or rejects with. */
export class RaftError extends Error {
  readonly code: string;
  readonly retriable: boolean;
  readonly errorCode: number;
  constructor(code: string, message: string, options: { retriable: boolean; errorCode: number; cause?: unknown }) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable;
    this.errorCode = options.errorCode;
  }
}

/**
 * An append on a node that is not the leader, or whose leadership ended before the append was
 * committed. Retriable: append again on the current leader (`leaderAndEpoch`). When it comes after
 * the append was written, the records may still be committed by the next leader, as with Kafka's
 * NotLeaderException: the outcome is unknown, not "lost". Kafka's NOT_LEADER_OR_FOLLOWER.
 */
export class NotLeaderError extends RaftError {
  readonly leaderAndEpoch: LeaderAndEpoch;
  constructor(leaderAndEpoch: LeaderAndEpoch, message = `not the leader (leader ${leaderAndEpoch.leaderId}, epoch ${leaderAndEpoch.epoch})`) {
    super('NOT_LEADER', message, { retriable: true, errorCode: ErrorCode.NOT_LEADER_OR_FOLLOWER });
    this.leaderAndEpoch = { ...leaderAndEpoch };
  }
}

/**
 * A peer could not be reached or did not answer in time: thrown (as a rejection) by a
 * `QuorumNetwork`'s `send`. Retriable; the quorum retries after `controller.quorum.retry.backoff.ms`.
 */
export class PeerUnreachableError extends RaftError {
  readonly destinationId: number;
  constructor(destinationId: number, reason: string) {
    super('PEER_UNREACHABLE', `node ${destinationId} unreachable: ${reason}`, { retriable: true, errorCode: ErrorCode.NETWORK_EXCEPTION });
    this.destinationId = destinationId;
  }
}

/** The client was closed or killed; pending appends and requests end with this. */
export class RaftClosedError extends RaftError {
  constructor(message = 'the raft client is closed') {
    super('RAFT_CLOSED', message, { retriable: false, errorCode: ErrorCode.BROKER_NOT_AVAILABLE });
  }
}

/** An append that cannot be written: no values, or a batch larger than the batch limit. Kafka's RECORD_TOO_LARGE / INVALID_REQUEST. */
export class InvalidAppendError extends RaftError {
  constructor(message: string, errorCode: number = ErrorCode.INVALID_REQUEST) {
    super('INVALID_APPEND', message, { retriable: false, errorCode });
  }
}

/** A snapshot id that is not committed, or does not match the log, or a snapshot file that is not well formed. */
export class InvalidSnapshotError extends RaftError {
  constructor(message: string) {
    super('INVALID_SNAPSHOT', message, { retriable: false, errorCode: ErrorCode.INVALID_REQUEST });
  }
}

/** The `quorum-state` file cannot be read (bad JSON, unknown data_version, wrong cluster or voters). */
export class QuorumStateError extends RaftError {
  constructor(path: string, reason: string) {
    super('QUORUM_STATE_CORRUPT', `quorum state ${path}: ${reason}`, { retriable: false, errorCode: ErrorCode.UNKNOWN_SERVER_ERROR });
  }
}

/** The metadata log could not be written or flushed: the client stops (Kafka treats it as fatal), pending work ends with this. */
export class RaftStorageError extends RaftError {
  constructor(message: string, cause: unknown) {
    super('RAFT_STORAGE_FAILED', message, { retriable: false, errorCode: ErrorCode.KAFKA_STORAGE_ERROR, cause });
  }
}
