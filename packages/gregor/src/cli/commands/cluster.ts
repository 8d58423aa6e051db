/**
 * `gregor cluster start|status`: a local cluster of `gregor serve` processes for a learner or a
 * test (cluster/start.ts, cluster/layout.ts), and what a running cluster says about its quorum,
 * brokers and partitions (cluster/status.ts).
 */
import { CliError, integerOption, keyValueOption, parseCommand } from '../args.js';
import { startCluster } from '../cluster/start.js';
import { formatStatus, statusFromBroker, statusFromControllers, statusSource } from '../cluster/status.js';

const help = `usage: gregor cluster start [--nodes 3] [--dir ./cluster] [--base-port P] [--host 127.0.0.1] [--http-port 8080] [--override key=value]...
       gregor cluster status (--bootstrap-server host:port | --bootstrap-controller host:port) [--json]

start   runs a local cluster: one 'gregor serve --config <dir>/node-<id>/server.properties' process
        per node, every node a broker and a controller (a voter of the metadata quorum). A new
        --dir gets a properties file per node (replication factor 3, min.insync.replicas 2 with
        three nodes or more; --override adds a setting to every file); an existing one is started
        again as it is. Ports come from the OS, or from --base-port P (node i: clients on
        P+2(i-1), controller on P+2(i-1)+1). Prints each node's pid and addresses once all are
        ready; Ctrl-C stops them all. Each node's output goes to <dir>/node-<id>/server.log.
        The first node serves the web console of the whole cluster on --http-port (default
        8080; 0 turns it off).

status  the controller quorum (leader, epoch, each voter's log end offset), the live brokers, and
        every partition's leader, leader epoch, replicas and ISR, under-replicated ones marked.
        Through a broker (--bootstrap-server), or the quorum alone from the controllers
        (--bootstrap-controller, their CONTROLLER listeners).

Examples:
  gregor cluster start --nodes 3 --dir ./cluster
  gregor cluster status --bootstrap-server 127.0.0.1:9092
  gregor cluster status --bootstrap-controller 127.0.0.1:9093,127.0.0.1:9095 --json`;

const options = {
  nodes: { type: 'string' },
  dir: { type: 'string' },
  'base-port': { type: 'string' },
  host: { type: 'string' },
  'http-port': { type: 'string' },
  override: { type: 'string', multiple: true },
  'bootstrap-server': { type: 'string' },
  'bootstrap-controller': { type: 'string' },
  json: { type: 'boolean' },
} as const;

const ACTIONS = ['start', 'status'] as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  const action = positionals[0];
  if (action === undefined) throw new CliError(`choose an action: ${ACTIONS.join(', ')}`);
  if (positionals.length > 1) throw new CliError(`unexpected argument '${positionals[1]}'`);
  if (action === 'start') {
    await startCluster({
      nodes: integerOption(values.nodes, 'nodes', 3, { min: 1, max: 9 }),
      dir: values.dir ?? './cluster',
      host: values.host ?? '127.0.0.1',
      basePort: values['base-port'] === undefined ? undefined : integerOption(values['base-port'], 'base-port', 9092, { min: 1, max: 65000 }),
      overrides: keyValueOption(values.override, 'override'),
      httpPort: integerOption(values['http-port'], 'http-port', 8080, { min: 0, max: 65535 }),
    });
    return;
  }
  if (action === 'status') {
    const source = statusSource(values);
    const status = source.kind === 'broker' ? await statusFromBroker(source.addresses, 'gregor-cluster-status') : await statusFromControllers(source.addresses, 'gregor-cluster-status');
    console.log(values.json ? JSON.stringify(status) : formatStatus(status, source.addresses));
    return;
  }
  throw new CliError(`unknown action '${action}'; choose one of ${ACTIONS.join(', ')}`);
}
