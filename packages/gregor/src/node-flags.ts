/**
 * The V8 flags a Gregor process starts with: the `gregor` command's shebang carries them, and
 * everything that spawns a gregor process (`gregor cluster`, `pnpm start`, the benchmarks, the
 * multi-process tests) passes them to `node`.
 *
 * `--single-threaded-gc`: V8 collects on the event loop's own thread instead of also on helper
 * threads. A broker's heap is small (tens of MB) and its garbage short-lived; the helper threads
 * only pay off with idle cores, and Gregor's usual machine runs several nodes and clients on a few
 * cores. There, each node's GC threads took cores from the other nodes' event loops: on two cores
 * with three nodes and a client, single-threaded collection raised replication factor 1 from
 * 320-331 to 407-440 MB/s and lowered the produce-to-consume p99 at 10,000 records/s with acks=all
 * from 8.3-8.9 to 4.6-5.9 ms (docs/benchmarks.md, docs/decisions.md). Kafka's start script
 * likewise picks its JVM's collector and pause target (KAFKA_JVM_PERFORMANCE_OPTS). The flag must
 * be given at start: V8 cannot switch it on a running heap.
 */
export const GREGOR_NODE_FLAGS: readonly string[] = ['--single-threaded-gc'];
