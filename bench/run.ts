/**
 * `pnpm bench`: runs every benchmark module and prints one table, each figure beside the baseline
 * measured in the same run. `pnpm bench records log` runs only those modules. Modules that write
 * gigabytes (`restart`, `replication`, `page-cache`) run only when named; options such as
 * `pnpm bench replication --catch-up-mib 1024` go to the module.
 * The machine is shared and noisy: read the ratios, not the absolute numbers.
 */
import os from 'node:os';
import type { Row } from './row.js';

const modules: Record<string, () => Promise<{ run: () => Promise<Row[]> }>> = {
  records: () => import('./records.js'),
  log: () => import('./log.js'),
  protocol: () => import('./protocol.js'),
  client: () => import('./client.js'),
  keyed: () => import('./keyed.js'),
  server: () => import('./server.js'),
  restart: () => import('./restart.js'),
  replication: () => import('./replication.js'),
  'page-cache': () => import('./page-cache.js'),
};
/** Run only when named: they take minutes and write gigabytes. */
const notByDefault = new Set(['restart', 'replication', 'page-cache']);

/** Module names from the command line; `--name value` options are left to the modules (process.argv). */
function moduleNames(args: string[]): string[] {
  const names: string[] = [];
  for (let i = 0; i < args.length; i++) {
    if ((args[i] as string).startsWith('--')) i++;
    else names.push(args[i] as string);
  }
  return names;
}

function format(value: number): string {
  if (value >= 100) return Math.round(value).toLocaleString('en-US');
  return value.toFixed(2);
}

async function main(): Promise<void> {
  const wanted = moduleNames(process.argv.slice(2));
  const names = wanted.length > 0 ? wanted : Object.keys(modules).filter((name) => !notByDefault.has(name));
  const cpu = os.cpus()[0]?.model ?? 'unknown cpu';
  console.log(`# Gregor benchmarks — ${new Date().toISOString()}`);
  console.log(`# ${os.cpus().length} × ${cpu}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${os.platform()} ${os.release()}`);
  console.log('');
  console.log('| benchmark | ours | unit | baseline (same run) | ratio | note |');
  console.log('|---|---:|---|---|---:|---|');
  let failed = 0;
  for (const name of names) {
    const load = modules[name];
    if (!load) {
      console.error(`unknown benchmark module ${name}; known: ${Object.keys(modules).join(', ')}`);
      failed++;
      continue;
    }
    try {
      const rows = await (await load()).run();
      for (const row of rows) {
        const baseline = row.baseline === undefined ? '' : `${format(row.baseline)} (${row.baselineName ?? 'baseline'})`;
        const ratio = row.baseline ? (row.value / row.baseline).toFixed(2) : '';
        console.log(`| ${name}: ${row.name} | ${format(row.value)} | ${row.unit} | ${baseline} | ${ratio} | ${row.note ?? ''} |`);
      }
    } catch (error) {
      failed++;
      console.error(`benchmark ${name} failed:`, error);
    }
  }
  process.exitCode = failed > 0 ? 1 : 0;
}

await main();
