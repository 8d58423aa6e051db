/**
 * The whole-cluster simulation's fault schedule: every 0.3-3 s of simulated time it draws one
 * fault from its own seeded stream and undoes it later.
 * - crash a node: a power loss (unsynced writes lost, a random prefix of them kept, the write in
 *   progress torn) when the cluster is healthy, else a process crash (SIGKILL: what the process
 *   wrote survives in the page cache); restart it 0.1-6 s later;
 * - close a node gracefully (controlled shutdown) and restart it;
 * - partition the nodes in two; isolate the active controller, or the leader of a partition, from
 *   the other nodes (clients still reach it); cut one link one way;
 * - pause a node, often a partition leader, for 0.5-8 s (its timers and its traffic stop, as
 *   SIGSTOP or a long GC pause: its broker session expires meanwhile);
 * - change the drop probability or the delays (slow messages reorder across connections).
 *
 * Why power loss only when healthy, and nothing else until healthy again: Kafka keeps an
 * acknowledged record on every ISR member, in their page caches (no fsync per write, as Kafka's
 * defaults); it survives one machine losing power, not two. A machine that lost its tail and
 * restarted stays in the ISR until the controller fences its old incarnation (its session
 * expires); a leader election in that window may pick it and lose what it lost (the case of
 * Kafka's KIP-966). So a power loss is drawn only while every node is up, unpaused and in every
 * ISR, no link is cut and none came back or unpaused in the last `SETTLE_MS` (a node cut off is a
 * failure the image does not show until the controller fences it: seed 175 lost a power-lost
 * node's tail when the leader it had been cut from was fenced and the ISR elected it), and after
 * one only drops and delays happen until the cluster is that healthy again. Any other crash is a
 * process crash (SIGKILL: the page cache survives).
 */
import type { SeededRandom, SimNetwork } from '@gregor/cluster';
import type { FakeClock } from '@gregor/log';

/** What the fault schedule acts on: the runner's nodes. */
export interface FaultTarget {
  readonly nodeIds: readonly number[];
  isUp(nodeId: number): boolean;
  /** Every node up and unpaused, every broker unfenced, every partition's ISR all its replicas. */
  isHealthy(): boolean;
  crash(nodeId: number, powerLoss: boolean): void;
  closeGracefully(nodeId: number, thenRestartAfterMs: number): void;
  restart(nodeId: number): void;
  pause(nodeId: number): void;
  resume(nodeId: number): void;
  isPaused(nodeId: number): boolean;
  activeControllerId(): number | undefined;
  /** The leader of a random partition of the data topic, as the active controller knows it. */
  somePartitionLeader(random: SeededRandom): number | undefined;
}

export interface FaultStats {
  powerLosses: number;
  processCrashes: number;
  gracefulCloses: number;
  partitions: number;
  isolations: number;
  pauses: number;
}

/**
 * How long after a cut link heals, or a pause ends, before a power loss may be drawn: the node
 * heartbeats again within the brokers' heartbeat interval (500 ms), so a second later either the
 * controller has fenced it (the cluster is not healthy) or it will not for what happened before.
 */
const SETTLE_MS = 1000;

export class FaultSchedule {
  private active = false;
  /** Links this schedule cut and has not healed yet. */
  private linksCut = false;
  /** No power loss before this time (see SETTLE_MS). */
  private settledFromMs = 0;
  /** Set by a power loss: no other fault until the cluster is healthy again. */
  private recovering = false;
  readonly stats: FaultStats = { powerLosses: 0, processCrashes: 0, gracefulCloses: 0, partitions: 0, isolations: 0, pauses: 0 };

  constructor(
    private readonly target: FaultTarget,
    private readonly network: SimNetwork,
    private readonly clock: FakeClock,
    private readonly random: SeededRandom,
    private readonly trace: (line: string) => void,
  ) {}

  start(): void {
    this.active = true;
    this.clock.setTimeout(() => this.inject(), this.random.int(500, 2000));
  }

  stop(): void {
    this.active = false;
  }

  /** Every link back. */
  private heal(): void {
    this.network.heal();
    this.linksCut = false;
    this.settledFromMs = Math.max(this.settledFromMs, this.clock.now() + SETTLE_MS);
  }

  private later(ms: number, action: () => void): void {
    this.clock.setTimeout(() => {
      if (this.active) action();
    }, ms);
  }

  private inject(): void {
    if (!this.active) return;
    this.clock.setTimeout(() => this.inject(), this.random.int(300, 3000));
    const { target, network, random, clock } = this;
    if (this.recovering && target.isHealthy()) this.recovering = false;
    // While a node recovers from a power loss only the network's drops and delays change.
    const roll = this.recovering ? 0.78 + random.next() * 0.22 : random.next();
    const nodeId = random.pick(target.nodeIds);
    if (roll < 0.22) {
      if (!target.isUp(nodeId)) return;
      // The draw comes first, as before the settling rule: seeds keep their streams.
      const powerLoss = target.isHealthy() && random.chance(0.7) && !this.linksCut && clock.now() >= this.settledFromMs;
      if (powerLoss) this.stats.powerLosses++;
      else this.stats.processCrashes++;
      this.recovering = powerLoss;
      target.crash(nodeId, powerLoss);
      this.later(random.int(100, 6000), () => target.restart(nodeId));
    } else if (roll < 0.3) {
      if (!target.isUp(nodeId)) return;
      this.stats.gracefulCloses++;
      target.closeGracefully(nodeId, random.int(100, 3000));
    } else if (roll < 0.45) {
      const shuffled = random.sample(target.nodeIds, target.nodeIds.length);
      const cutAt = random.int(1, target.nodeIds.length - 1);
      this.stats.partitions++;
      network.partition([shuffled.slice(0, cutAt), shuffled.slice(cutAt)]);
      this.linksCut = true;
      this.later(random.int(300, 6000), () => this.heal());
    } else if (roll < 0.6) {
      const isolated = random.chance(0.5) ? target.activeControllerId() : target.somePartitionLeader(random);
      if (isolated === undefined) return;
      this.stats.isolations++;
      this.trace(`fault: isolate node ${isolated}`);
      network.isolate(isolated, target.nodeIds);
      this.linksCut = true;
      this.later(random.int(500, 8000), () => this.heal());
    } else if (roll < 0.68) {
      const [from, to] = random.sample(target.nodeIds, 2);
      network.cut(from, to);
      this.linksCut = true;
      this.later(random.int(300, 5000), () => this.heal());
    } else if (roll < 0.78) {
      const paused = random.chance(0.6) ? (target.somePartitionLeader(random) ?? nodeId) : nodeId;
      if (!target.isUp(paused) || target.isPaused(paused)) return;
      this.stats.pauses++;
      target.pause(paused);
      // A pause ends even when the chaos is over: `later` would leave it paused until healing.
      this.clock.setTimeout(() => {
        target.resume(paused);
        this.settledFromMs = Math.max(this.settledFromMs, this.clock.now() + SETTLE_MS);
      }, random.int(500, 8000));
    } else if (roll < 0.86) {
      network.setDropProbability(random.pick([0, 0, 0.01, 0.05, 0.2]));
    } else if (roll < 0.94) {
      network.setDelay(1, random.pick([5, 10, 30, 100]), random.pick([0, 0.01, 0.05]));
    }
  }
}
