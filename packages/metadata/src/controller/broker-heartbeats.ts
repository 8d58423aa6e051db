/**
 * The active controller's soft state about broker sessions (Kafka's BrokerHeartbeatManager): when
 * each broker last heartbeated, the metadata offset it reported, and the offset at which its
 * controlled shutdown moved its leaderships away. Nothing here is in the metadata log: a newly
 * active controller starts every session afresh at its own clock's now, so a change of controller
 * never fences brokers that were heartbeating to the old one.
 *
 * Whether a broker is fenced or shutting down is read from the image, not kept here. Owned by one
 * QuorumController; not safe for concurrent use.
 */
import type { MetadataImage } from '../image.js';

interface Session {
  lastContactMs: number;
  /** The highest metadata offset the broker reported (-1: none yet). */
  metadataOffset: number;
  /** The offset at which its controlled shutdown completes (-1: not shutting down). */
  controlledShutdownOffset: number;
}

export type BrokerState = 'FENCED' | 'UNFENCED' | 'CONTROLLED_SHUTDOWN' | 'SHUTDOWN_NOW';

export class BrokerHeartbeats {
  private readonly sessions = new Map<number, Session>();

  constructor(private readonly sessionTimeoutMs: number) {}

  /** Starts (or restarts) a broker's session at `nowMs`, forgetting what its previous incarnation reported. */
  register(brokerId: number, nowMs: number): void {
    this.sessions.set(brokerId, { lastContactMs: nowMs, metadataOffset: -1, controlledShutdownOffset: -1 });
  }

  remove(brokerId: number): void {
    this.sessions.delete(brokerId);
  }

  /** A heartbeat arrived: the session is refreshed. */
  touch(brokerId: number, nowMs: number, metadataOffset: number): void {
    const session = this.sessions.get(brokerId);
    if (session === undefined) this.sessions.set(brokerId, { lastContactMs: nowMs, metadataOffset, controlledShutdownOffset: -1 });
    else {
      session.lastContactMs = nowMs;
      session.metadataOffset = metadataOffset;
    }
  }

  /** A broker that is fenced leaves controlled shutdown (on its next heartbeat it shuts down at once). */
  fenced(brokerId: number): void {
    const session = this.sessions.get(brokerId);
    if (session !== undefined) session.controlledShutdownOffset = -1;
  }

  /** True while an unfenced broker's last heartbeat is less than the session timeout old. */
  hasValidSession(image: MetadataImage, brokerId: number, nowMs: number): boolean {
    const session = this.sessions.get(brokerId);
    if (session === undefined || !image.isUnfenced(brokerId)) return false;
    return nowMs < session.lastContactMs + this.sessionTimeoutMs;
  }

  /** Records the offset of the batch that moved the broker's leaderships away, unless one is recorded. */
  maybeSetControlledShutdownOffset(brokerId: number, offset: number): void {
    const session = this.sessions.get(brokerId);
    if (session !== undefined && session.controlledShutdownOffset < 0) session.controlledShutdownOffset = offset;
  }

  controlledShutdownOffset(brokerId: number): number {
    return this.sessions.get(brokerId)?.controlledShutdownOffset ?? -1;
  }

  /**
   * The lowest metadata offset reported by the active brokers (unfenced, not shutting down), or
   * Infinity when there are none: a broker in controlled shutdown may stop once every active broker
   * has seen the records that moved its leaderships.
   */
  lowestActiveOffset(image: MetadataImage): number {
    let lowest = Number.POSITIVE_INFINITY;
    for (const broker of image.brokers.values()) {
      if (broker.fenced || broker.inControlledShutdown) continue;
      lowest = Math.min(lowest, this.sessions.get(broker.id)?.metadataOffset ?? -1);
    }
    return lowest;
  }

  /** The unfenced broker whose session expired longest ago, if any. */
  findStaleBroker(image: MetadataImage, nowMs: number): number | undefined {
    let stale: number | undefined;
    let oldest = Number.POSITIVE_INFINITY;
    for (const broker of image.brokers.values()) {
      if (broker.fenced) continue;
      const lastContactMs = this.sessions.get(broker.id)?.lastContactMs ?? Number.NEGATIVE_INFINITY;
      if (nowMs >= lastContactMs + this.sessionTimeoutMs && lastContactMs < oldest) {
        oldest = lastContactMs;
        stale = broker.id;
      }
    }
    return stale;
  }

  /** When the next unfenced broker's session expires (Infinity when none is unfenced). */
  nextExpiryMs(image: MetadataImage): number {
    let next = Number.POSITIVE_INFINITY;
    for (const broker of image.brokers.values()) {
      if (broker.fenced) continue;
      const lastContactMs = this.sessions.get(broker.id)?.lastContactMs ?? Number.NEGATIVE_INFINITY;
      next = Math.min(next, lastContactMs + this.sessionTimeoutMs);
    }
    return next;
  }

  /**
   * The state a heartbeat moves a broker to (Kafka's calculateNextBrokerState). `current` comes
   * from the image; `hasLeaderships` tells whether it still leads a partition.
   */
  nextState(
    brokerId: number,
    current: Exclude<BrokerState, 'SHUTDOWN_NOW'>,
    request: { wantFence: boolean; wantShutDown: boolean; currentMetadataOffset: number },
    registrationOffset: number,
    hasLeaderships: boolean,
    lowestActiveOffset: number,
  ): BrokerState {
    switch (current) {
      case 'FENCED':
        if (request.wantShutDown) return 'SHUTDOWN_NOW';
        if (!request.wantFence && request.currentMetadataOffset >= registrationOffset) return 'UNFENCED';
        return 'FENCED';
      case 'UNFENCED':
        if (request.wantFence) return request.wantShutDown ? 'SHUTDOWN_NOW' : 'FENCED';
        if (request.wantShutDown) return hasLeaderships ? 'CONTROLLED_SHUTDOWN' : 'SHUTDOWN_NOW';
        return 'UNFENCED';
      case 'CONTROLLED_SHUTDOWN': {
        if (hasLeaderships) return 'CONTROLLED_SHUTDOWN';
        const shutdownOffset = this.controlledShutdownOffset(brokerId);
        return shutdownOffset >= 0 && shutdownOffset <= lowestActiveOffset ? 'SHUTDOWN_NOW' : 'CONTROLLED_SHUTDOWN';
      }
    }
  }
}
