/**
 * Outgoing requests per destination (Kafka's `RequestManager`): at most one in flight to each
 * peer, each with a deadline of `controller.quorum.request.timeout.ms`, and a backoff of
 * `controller.quorum.retry.backoff.ms` after a failure. A response is used only if it answers the
 * request still expected from that peer: `reset()` on every change of state forgets every request,
 * so a late answer to an older state's request is ignored. Owned by one RaftClient; single-threaded.
 */

interface InFlight {
  id: number;
  deadlineMs: number;
}

export class RequestTracker {
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly backoffUntil = new Map<number, number>();

  /** Whether a request may be sent to `destinationId` now. */
  canSend(destinationId: number, nowMs: number): boolean {
    return !this.inFlight.has(destinationId) && (this.backoffUntil.get(destinationId) ?? 0) <= nowMs;
  }

  hasInFlight(destinationId: number): boolean {
    return this.inFlight.has(destinationId);
  }

  /** Records a request sent now; returns its id. */
  start(destinationId: number, nowMs: number, timeoutMs: number): number {
    const id = this.nextId++;
    this.inFlight.set(destinationId, { id, deadlineMs: nowMs + timeoutMs });
    this.backoffUntil.delete(destinationId);
    return id;
  }

  /** Whether request `id` is the one expected from `destinationId`; it is no longer in flight either way. */
  complete(destinationId: number, id: number): boolean {
    const current = this.inFlight.get(destinationId);
    if (!current || current.id !== id) return false;
    this.inFlight.delete(destinationId);
    return true;
  }

  /** Request `id` failed: the peer is retried after `backoffMs`. Returns whether it was the expected one. */
  fail(destinationId: number, id: number, nowMs: number, backoffMs: number): boolean {
    if (!this.complete(destinationId, id)) return false;
    this.backoffUntil.set(destinationId, nowMs + backoffMs);
    return true;
  }

  /** Waits `backoffMs` before the next request to `destinationId` (after an error answer). */
  backoff(destinationId: number, nowMs: number, backoffMs: number): void {
    this.backoffUntil.set(destinationId, nowMs + backoffMs);
  }

  /** Fails every request past its deadline; returns their destinations. */
  expire(nowMs: number, backoffMs: number): number[] {
    const expired: number[] = [];
    for (const [destinationId, request] of this.inFlight) {
      if (request.deadlineMs <= nowMs) expired.push(destinationId);
    }
    for (const destinationId of expired) {
      this.inFlight.delete(destinationId);
      this.backoffUntil.set(destinationId, nowMs + backoffMs);
    }
    return expired;
  }

  /** The earliest time something here changes (a deadline passes or a backoff ends) after `nowMs`. */
  nextDeadline(nowMs: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const request of this.inFlight.values()) next = Math.min(next, request.deadlineMs);
    for (const until of this.backoffUntil.values()) if (until > nowMs) next = Math.min(next, until);
    return next;
  }

  reset(): void {
    this.inFlight.clear();
    this.backoffUntil.clear();
  }
}
