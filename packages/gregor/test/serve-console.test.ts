/**
 * `gregor serve --http-port N` as a user runs it: the banner names the console's address, the
 * console answers there while the broker runs, and `--http-port 0` turns it off.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');
const cliArgs = ['--tsconfig', path.join(root, 'tsconfig.check.json'), path.join(root, 'packages/gregor/src/cli.ts')];

const started: { process: ChildProcess; dir: string }[] = [];
afterEach(() => {
  for (const { process: child, dir } of started.splice(0)) {
    if (child.pid !== undefined && child.exitCode === null) process.kill(child.pid, 'SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function serve(httpPort: number): Promise<{ banner: string; child: ChildProcess }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gregor-serve-console-'));
  const child = spawn(tsx, [...cliArgs, 'serve', '--dir', dir, '--port', '0', '--http-port', String(httpPort)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
  started.push({ process: child, dir });
  let banner = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no banner: ${banner}`)), 30_000);
    child.stdout?.on('data', (chunk) => {
      banner += String(chunk);
      if (banner.includes('Press Ctrl-C to stop.')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  return { banner, child };
}

describe('gregor serve --http-port', () => {
  it('prints the console address in the banner and serves the console, the API and /metrics there', async () => {
    const port = await freePort();
    const { banner } = await serve(port);
    expect(banner).toContain(`Web console: http://127.0.0.1:${port}/`);
    const health = await fetch(`http://127.0.0.1:${port}/health`);
    expect(health.status).toBe(200);
    expect(await (await fetch(`http://127.0.0.1:${port}/`)).text()).toContain('<title>Gregor console</title>');
    expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toContain('kafka_brokers 1');
  });

  it('--http-port 0 turns the console off', async () => {
    const { banner } = await serve(0);
    expect(banner).toContain('Web console, REST API and /metrics: off (--http-port 0)');
  });
});
