/**
 * Latencies in milliseconds, each weighted by the records it stands for (every record of a send
 * shares that send's latency: they travel together), and their percentiles by nearest rank over
 * records, as kafka-producer-perf-test reports them. Used by `gregor perf produce` (send to
 * acknowledgement) and by the end-to-end latency run (perf/end-to-end-latency.ts). Single caller.
 */
export class LatencyRecorder {
  private readonly samples: { ms: number; count: number }[] = [];
  /** The samples in latency order, made once after the last record (percentiles are asked together). */
  private sorted: { ms: number; count: number }[] | null = null;
  private total = 0;
  private sumMs = 0;
  private maxMs = 0;

  record(ms: number, count: number): void {
    this.samples.push({ ms, count });
    this.sorted = null;
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
    this.sorted ??= [...this.samples].sort((a, b) => a.ms - b.ms);
    const sorted = this.sorted;
    const rank = Math.ceil(fraction * this.total);
    let seen = 0;
    for (const sample of sorted) {
      seen += sample.count;
      if (seen >= rank) return sample.ms;
    }
    return (sorted[sorted.length - 1] as { ms: number }).ms;
  }

  summary(): string {
    const ms = (value: number) => value.toFixed(1);
    return `${ms(this.mean)} ms avg latency, ${ms(this.max)} ms max latency, ${ms(this.percentile(0.5))} ms 50th, ${ms(this.percentile(0.95))} ms 95th, ${ms(this.percentile(0.99))} ms 99th, ${ms(this.percentile(0.999))} ms 99.9th.`;
  }
}
