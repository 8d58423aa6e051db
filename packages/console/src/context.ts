/** What every endpoint of one console shares: the settings, the reader, the snapshots, the sampler, the metrics. */
import type { ClusterReader } from './cluster-reader.js';
import type { ConsoleConfig } from './config.js';
import type { ConsoleMetrics, LocalBroker } from './metrics.js';
import type { Sampler } from './sampler.js';
import type { ClusterSnapshot } from './snapshot.js';

export interface ConsoleContext {
  readonly config: ConsoleConfig;
  readonly reader: ClusterReader;
  readonly sampler: Sampler;
  readonly metrics: ConsoleMetrics;
  readonly local: LocalBroker | undefined;
  /** A snapshot no older than `maxAgeMs`. */
  snapshot(maxAgeMs: number): Promise<ClusterSnapshot>;
}
