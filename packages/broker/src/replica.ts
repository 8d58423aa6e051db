/**
 * What a partition leader knows about one follower (Kafka's Replica / ReplicaState): the follower's
 * log end offset and log start offset as its last Fetch said, and the times that decide whether it
 * is in sync. Only the leader keeps these; they are reset when it becomes leader.
 *
 * lastCaughtUpTimeMs is the latest time t at which the follower held everything the leader held at
 * t. A Fetch at offset o, received at time now while the leader's LEO is L:
 *   - o >= L: the follower has everything, so it was caught up now;
 *   - o >= the leader's LEO at the follower's previous fetch: it was caught up at that fetch's time;
 *   - otherwise it is further behind than at its previous fetch, and the time does not move.
 * A follower is out of sync once `now - lastCaughtUpTimeMs > replica.lag.time.max.ms` (unless its
 * LEO equals the leader's). Single-threaded; owned by one Partition.
 */

/** Kafka's UnifiedLog.UnknownOffset: the leader has not heard from this follower yet. */
export const UNKNOWN_OFFSET = -1;

export class Replica {
  logEndOffset = UNKNOWN_OFFSET;
  logStartOffset = UNKNOWN_OFFSET;
  /** The leader's LEO when this follower's previous Fetch arrived. */
  lastFetchLeaderLogEndOffset = UNKNOWN_OFFSET;
  lastFetchTimeMs = 0;
  lastCaughtUpTimeMs = 0;
  /**
   * The follower's broker epoch as of its last Fetch (Kafka's ReplicaState.brokerEpoch), -1 when
   * unknown: the leader vouches for it in AlterPartition, so the controller refuses the change if
   * the follower has registered again since (a restart: INELIGIBLE_REPLICA).
   */
  brokerEpoch = -1;

  constructor(readonly brokerId: number) {}

  /** Kafka's updateFetchStateOrThrow: records a Fetch from this follower at `fetchOffset`. */
  updateFetchState(fetchOffset: number, followerLogStartOffset: number, fetchTimeMs: number, leaderEndOffset: number, brokerEpoch = -1): void {
    if (fetchOffset >= leaderEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, fetchTimeMs);
    } else if (fetchOffset >= this.lastFetchLeaderLogEndOffset) {
      this.lastCaughtUpTimeMs = Math.max(this.lastCaughtUpTimeMs, this.lastFetchTimeMs);
    }
    this.logStartOffset = followerLogStartOffset;
    this.logEndOffset = fetchOffset;
    this.lastFetchLeaderLogEndOffset = Math.max(leaderEndOffset, this.lastFetchLeaderLogEndOffset);
    this.lastFetchTimeMs = fetchTimeMs;
    this.brokerEpoch = brokerEpoch;
  }

  /**
   * Kafka's resetReplicaState, when this broker becomes leader (or starts a new leader epoch): a
   * follower in the ISR gets the lag time from now before it can be removed; one outside it must
   * fetch before it counts. A new leader forgets the positions its previous term saw.
   */
  reset(nowMs: number, leaderEndOffset: number, isNewLeader: boolean, isInSync: boolean): void {
    this.lastCaughtUpTimeMs = isInSync ? nowMs : 0;
    this.brokerEpoch = -1;
    if (isNewLeader) {
      this.logEndOffset = UNKNOWN_OFFSET;
      this.logStartOffset = UNKNOWN_OFFSET;
      this.lastFetchLeaderLogEndOffset = UNKNOWN_OFFSET;
      this.lastFetchTimeMs = 0;
    } else {
      this.lastFetchLeaderLogEndOffset = leaderEndOffset;
      this.lastFetchTimeMs = isInSync ? nowMs : 0;
    }
  }

  /** Kafka's ReplicaState.isCaughtUp. */
  isCaughtUp(leaderEndOffset: number, nowMs: number, replicaLagTimeMaxMs: number): boolean {
    return this.logEndOffset === leaderEndOffset || nowMs - this.lastCaughtUpTimeMs <= replicaLagTimeMaxMs;
  }
}
