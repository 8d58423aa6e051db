/**
 * Every code block of the documentation runs as written: README.md, docs/*.md, each package's
 * README and examples/README.md. A ```ts block is a program run with tsx from a file in the
 * repository (so `import { Gregor } from 'gregor'` resolves as it does for a reader's file); a
 * ```sh block runs in bash, each command in turn, and must exit 0. Blocks in other languages (yaml,
 * json) are samples; ts and sh blocks that are not programs, and blocks without a language, say
 * what they are in their info string: ```text (output, a layout), ```ts signatures (an API listing),
 * ```sh setup (installing, starting the server), ```ts long-running or ```sh long-running (runs
 * until stopped, or for minutes) and ```sh example (a command for a situation the test cannot make,
 * such as a damaged segment, shown with its output).
 *
 * What the test adapts, and only that: the blocks run in a scratch directory inside the repository
 * beside a `gregor serve` started for them, so `127.0.0.1:9092` becomes that server's address,
 * `data/` its data directory (the one `pnpm start` serves), `/tmp/` a scratch directory, an
 * example's `--duration-ms` is cut to one second and its web console kept off.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ensureBuilt, root, type ServeProcess, startServe } from './support/cli.js';

// Each test runs whole processes (a CLI command, a server); on a loaded machine they take long.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 120_000 });

interface Block {
  file: string;
  line: number;
  language: string;
  flags: string[];
  code: string;
}

const DOCUMENTS = [
  'README.md',
  'examples/README.md',
  ...fs.readdirSync(path.join(root, 'docs')).filter((name) => name.endsWith('.md')).map((name) => `docs/${name}`),
  ...fs
    .readdirSync(path.join(root, 'packages'))
    .map((name) => `packages/${name}/README.md`)
    .filter((file) => fs.existsSync(path.join(root, file))),
];

/** Info strings a block may carry when it is not a program to run, and why. */
const NOT_RUN: Record<string, string> = {
  text: 'not code',
  'ts signatures': 'an API listing',
  'sh setup': 'installs or starts the server',
  'ts long-running': 'runs until stopped',
  'sh long-running': 'runs for minutes (a simulation of many seeds)',
  'sh example': 'a command for a situation the reader may be in (a damaged segment), shown with its output',
};

function blocksOf(file: string): Block[] {
  const lines = fs.readFileSync(path.join(root, file), 'utf8').split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(.*)$/.exec(lines[i] as string);
    if (open === null) continue;
    const end = lines.indexOf('```', i + 1);
    if (end < 0) throw new Error(`${file}:${i + 1}: a code block is not closed`);
    const [language = '', ...flags] = (open[1] as string).trim().split(/\s+/).filter(Boolean);
    blocks.push({ file, line: i + 1, language, flags, code: lines.slice(i + 1, end).join('\n') });
    i = end;
  }
  return blocks;
}

const blocks = DOCUMENTS.flatMap(blocksOf);
const kind = (block: Block) => [block.language, ...block.flags].join(' ');
const runnable = blocks.filter((block) => (block.language === 'ts' || block.language === 'sh') && block.flags.length === 0);

let work: string;
let server: ServeProcess;

/** The environment a block runs in: the scratch directory and the test's server. */
function adapt(code: string): string {
  return code
    .replaceAll('127.0.0.1:9092', server.address)
    .replaceAll('localhost:9092', server.address)
    .replaceAll('/tmp/', `${path.join(work, 'tmp')}/`)
    .replace(/(pnpm example \S+.*?)--duration-ms \d+/g, '$1--duration-ms 1000')
    // An example's web console would take its fixed default port; tests take ports from the OS.
    .replace(/pnpm example (examples\/\S+\.ts)/g, 'pnpm example $1 --http-port 0');
}

function run(command: string, args: string[], cwd: string, timeoutMs: number): Promise<{ status: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, GREGOR_VERBOSE: '1', FORCE_COLOR: '0' } });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      output += String(chunk);
    });
    const timer = setTimeout(() => {
      output += `\n(killed after ${timeoutMs} ms)`;
      if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL');
    }, timeoutMs);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, output });
    });
  });
}

beforeAll(async () => {
  ensureBuilt();
  fs.mkdirSync(path.join(root, '.docs-test'), { recursive: true });
  work = fs.mkdtempSync(path.join(root, '.docs-test', 'run-'));
  fs.mkdirSync(path.join(work, 'tmp'));
  server = await startServe(['--dir', path.join(work, 'data'), '--port', '0', '--override', 'group.initial.rebalance.delay.ms=0']);
});
afterAll(async () => {
  await server?.stop();
  if (work !== undefined) fs.rmSync(work, { recursive: true, force: true });
});

describe('the documentation', () => {
  it('marks every code block that is not a program to run', () => {
    // A block in another language (yaml, json...) is a sample, not a program; one without a language must say what it is.
    const isProgramLanguage = (block: Block) => block.language === 'ts' || block.language === 'sh' || block.language === '';
    const unmarked = blocks
      .filter((block) => isProgramLanguage(block) && !runnable.includes(block) && NOT_RUN[kind(block)] === undefined)
      .map((block) => `${block.file}:${block.line} \`\`\`${kind(block)}`);
    expect(unmarked, `say which: ${Object.keys(NOT_RUN).map((k) => `\`\`\`${k}`).join(', ')}: ${unmarked.join(', ')}`).toEqual([]);
    expect(runnable.length).toBeGreaterThan(10);
  });

  it('never points outside the repository', () => {
    for (const file of [...DOCUMENTS, 'docs/README.md'].filter((f) => fs.existsSync(path.join(root, f)))) {
      expect(fs.readFileSync(path.join(root, file), 'utf8'), file).not.toMatch(/\.\.\/shared|\/work\/shared/);
    }
  });

  // The blocks run side by side (they wait on start-up and on the broker more than on the CPU);
  // each uses its own topics, groups and directories, so they do not meet.
  for (const block of runnable) {
    it.concurrent(`runs ${block.file}:${block.line} (${block.language})`, async () => {
      const code = adapt(block.code);
      const result =
        block.language === 'ts'
          ? await (async () => {
              // A program gets a directory of its own: its ./data is not the server's.
              const cwd = fs.mkdtempSync(path.join(work, 'program-'));
              const file = path.join(cwd, `${path.basename(block.file, '.md')}-${block.line}.ts`);
              fs.writeFileSync(file, code);
              return run(process.execPath, [path.join(root, 'node_modules', 'tsx', 'dist', 'cli.mjs'), file], cwd, 240_000);
            })()
          : await run('bash', ['-e', '-o', 'pipefail', '-c', code], work, 240_000);
      expect(result.status, `${block.file}:${block.line}\n${code}\n--- output ---\n${result.output}`).toBe(0);
    }, 300_000);
  }
});
