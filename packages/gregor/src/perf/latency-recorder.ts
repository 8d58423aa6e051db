/**
 * Latencies in milliseconds, each weighted by the records it stands for (every record of a send
 * shares that send's latency: they travel together), and their percentiles by nearest rank over
 * records, as kafka-producer-perf-test reports them. Used by `gregor perf produce` (send to
 * acknowledgement) and by the end-to-end latency run (perf/end-to-end-latency.ts). Single caller.
 */
export class LatencyRecorder {
  /**
   * Each sample's latency and record count, in two growing typed arrays: an object per sample
   * would live until the report, so a run recording 20,000 samples a second filled the old
   * generation and made the measuring process collect it (and stall) several times a second.
   */
  private latencies = new Float64Array(1024);
  private counts = new Float64Array(1024);
  private size = 0;
  /** Sample indexes in latency order, made once after the last record (percentiles are asked together). */
  private order: Uint32Array | null = null;
  private total = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(ms: number, count: number): void {
    if (this.size === this.latencies.length) {
      const latencies = new Float64Array(this.size * 2);
      latencies.set(this.latencies);
      this.latencies = latencies;
      const counts = new Float64Array(this.size * 2);
      counts.set(this.counts);
      this.counts = counts;
    }
    this.latencies[this.size] = ms;
    this.counts[this.size] = count;
    this.size++;
    this.order = null;
    this.total += count;
    this.sumMs += ms * count;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  /** Records counted so far. */
  get count(): number {
    return this.total;
  }

  get mean(): number {
    return this.total === 0 ? 0 : this.sumMs / this.total;
  }

  get max(): number {
    return this.maxMs;
  }

  /** The latency at or below which `fraction` of the records were acknowledged. */
  percentile(fraction: number): number {
    if (this.total === 0) return 0;
    const latencies = this.latencies;
    this.order ??= Uint32Array.from({ length: this.size }, (_, i) => i).sort((a, b) => latencies[a] - latencies[b]);
    const rank = Math.ceil(fraction * this.total);
    let seen = 0;
    for (const index of this.order) {
      seen += this.counts[index];
      if (seen >= rank) return latencies[index];
    }
    return latencies[this.order[this.order.length - 1]];
  }

  summary(): string {
    const ms = (value: number) => value.toFixed(1);
    return `${ms(this.mean)} ms avg latency, ${ms(this.max)} ms max latency, ${ms(this.percentile(0.5))} ms 50th, ${ms(this.percentile(0.95))} ms 95th, ${ms(this.percentile(0.99))} ms 99th, ${ms(this.percentile(0.999))} ms 99.9th.`;
  }
}
