/**
 * The server's memory accounts: how many bytes of requests and of responses the connections hold,
 * each and in total, against the `queued*` limits of `ServerConfig`.
 *
 * Requests. A connection's claim is what it holds (frames waiting, frames being handled, the bytes
 * of the frame it is reading) plus what that frame still lacks: a frame's whole declared size is
 * claimed as soon as its size prefix is read (as Kafka's MemoryPool allocates it), so a frame that
 * was allowed to start can always finish, and connections cannot deadlock each holding half a
 * frame. The first `queuedRequestBytesReservedPerConnection` bytes of each claim are the
 * connection's own; only the rest is charged to the shared `queuedMaxRequestBytes`. So small
 * requests are always read, while large frames wait for the shared budget. A claim that does not
 * fit is refused; the connection stops reading and is woken when others release.
 *
 * Responses. A connection reports the bytes of responses it has produced and its client has not
 * taken yet (queued, or in the socket's buffer). The server starts new requests on a connection
 * only while that stays under `queuedMaxResponseBytesPerConnection`, and, unless the connection has
 * nothing waiting at all, while the total stays under `queuedMaxResponseBytes`.
 *
 * Everything a connection holds is released by `close()`. Single-threaded, like the event loop;
 * wake-ups run in a microtask, never inside the call that released the bytes.
 */
import assert from 'node:assert';

export interface MemoryLimits {
  queuedMaxRequestBytes: number;
  queuedRequestBytesReservedPerConnection: number;
  queuedMaxResponseBytes: number;
  queuedMaxResponseBytesPerConnection: number;
}

export interface MemoryUsage {
  /** Request bytes charged to the shared budget (beyond each connection's reserve). */
  requestBytesCharged: number;
  /** Request bytes held or claimed by all connections, reserve included. */
  requestBytesClaimed: number;
  /** Response bytes produced and not yet taken by the clients. */
  responseBytes: number;
  /** Connections waiting for room in the shared budgets. */
  waitingConnections: number;
}

export class MemoryBudget {
  private requestCharged = 0;
  private requestClaimed = 0;
  private responseQueued = 0;
  private readonly waiters = new Set<MemoryAccount>();
  private wakeScheduled = false;

  constructor(readonly limits: MemoryLimits) {}

  /** An account for one connection; `wake` is called when room it waited for may be free. */
  open(wake: () => void): MemoryAccount {
    return new MemoryAccount(this, wake);
  }

  get usage(): MemoryUsage {
    return {
      requestBytesCharged: this.requestCharged,
      requestBytesClaimed: this.requestClaimed,
      responseBytes: this.responseQueued,
      waitingConnections: this.waiters.size,
    };
  }

  /** @internal Moves an account's request charge; false (nothing changed) when it does not fit. */
  changeRequest(account: MemoryAccount, claim: number): boolean {
    const charge = Math.max(0, claim - this.limits.queuedRequestBytesReservedPerConnection);
    const grows = charge > account.requestCharge;
    if (grows && this.requestCharged - account.requestCharge + charge > this.limits.queuedMaxRequestBytes) {
      this.waiters.add(account);
      return false;
    }
    this.requestCharged += charge - account.requestCharge;
    this.requestClaimed += claim - account.requestClaim;
    const shrinks = charge < account.requestCharge;
    account.requestCharge = charge;
    account.requestClaim = claim;
    assert(this.requestCharged >= 0 && this.requestCharged <= this.limits.queuedMaxRequestBytes, 'request charges stay within the budget');
    if (shrinks) this.scheduleWake();
    return true;
  }

  /** @internal Records an account's queued response bytes. */
  changeResponse(account: MemoryAccount, bytes: number): void {
    assert(bytes >= 0, 'response bytes are never negative');
    const shrinks = bytes < account.responseBytes;
    this.responseQueued += bytes - account.responseBytes;
    account.responseBytes = bytes;
    assert(this.responseQueued >= 0, 'response bytes sum to a non-negative total');
    if (shrinks) this.scheduleWake();
  }

  /** @internal Whether an account may start another request, given the responses it has queued. */
  hasResponseRoom(account: MemoryAccount): boolean {
    if (account.responseBytes >= this.limits.queuedMaxResponseBytesPerConnection) return false;
    if (account.responseBytes === 0 || this.responseQueued < this.limits.queuedMaxResponseBytes) return true;
    this.waiters.add(account);
    return false;
  }

  /** @internal */
  forget(account: MemoryAccount): void {
    this.waiters.delete(account);
  }

  private scheduleWake(): void {
    if (this.wakeScheduled || this.waiters.size === 0) return;
    this.wakeScheduled = true;
    queueMicrotask(() => {
      this.wakeScheduled = false;
      const waiting = [...this.waiters];
      this.waiters.clear();
      // Oldest first; an account still without room registers again.
      for (const account of waiting) if (!account.isClosed) account.wake();
    });
  }
}

/** One connection's share of the budget. */
export class MemoryAccount {
  requestCharge = 0;
  requestClaim = 0;
  responseBytes = 0;
  isClosed = false;

  constructor(
    private readonly budget: MemoryBudget,
    readonly wake: () => void,
  ) {}

  /** Asks to hold `claim` request bytes; true when granted (always when it shrinks). */
  claimRequest(claim: number): boolean {
    assert(!this.isClosed, 'a closed account claims nothing');
    return this.budget.changeRequest(this, claim);
  }

  setResponseBytes(bytes: number): void {
    if (!this.isClosed) this.budget.changeResponse(this, bytes);
  }

  get hasResponseRoom(): boolean {
    return !this.isClosed && this.budget.hasResponseRoom(this);
  }

  /** Releases everything this connection held. */
  close(): void {
    if (this.isClosed) return;
    this.budget.changeRequest(this, 0);
    this.budget.changeResponse(this, 0);
    this.budget.forget(this);
    this.isClosed = true;
  }
}
