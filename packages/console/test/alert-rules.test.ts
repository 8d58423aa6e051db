/**
 * The Prometheus alerting rules shipped in docs/prometheus/: valid for Prometheus (promtool check
 * rules), firing as intended on example series (promtool test rules), and written over metric names
 * a running Gregor really exports.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ConsoleFixture, startConsole } from './support.js';

const RULES_DIR = path.resolve(import.meta.dirname, '../../../docs/prometheus');
const RULES = path.join(RULES_DIR, 'gregor-alerts.yml');
const promtool = ['/usr/bin/promtool', '/usr/local/bin/promtool'].find((p) => fs.existsSync(p));

function runPromtool(args: string[]): { status: number | null; output: string } {
  const result = spawnSync(promtool!, args, { cwd: RULES_DIR, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

let fixture: ConsoleFixture;
beforeAll(async () => {
  fixture = await startConsole();
  const admin = fixture.gregor.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic: 'ruled' }] });
  await admin.setOffsets({ groupId: 'ruled-group', topic: 'ruled', partitions: [{ partition: 0, offset: 0 }] });
});
afterAll(async () => {
  await fixture?.close();
});

describe('docs/prometheus/gregor-alerts.yml', () => {
  it('names only series that Gregor exports', async () => {
    const rules = fs.readFileSync(RULES, 'utf8');
    const names = new Set([...rules.matchAll(/expr: .*/g)].flatMap((m) => [...m[0].matchAll(/\b((?:kafka|gregor)_[a-z0-9_]+)/g)].map((n) => n[1])));
    expect(names.size).toBeGreaterThanOrEqual(4);
    const exported = await (await fetch(`${fixture.base}/metrics`)).text();
    // The request-time summary appears once a request was timed: time one through the Kafka listener.
    const { Client } = await import('@gregor/client');
    const remote = new Client({ brokers: [`127.0.0.1:${fixture.gregor.address!.port}`] }).admin();
    await remote.connect();
    await remote.listTopics();
    await remote.disconnect();
    const after = `${exported}${await (await fetch(`${fixture.base}/metrics`)).text()}`;
    for (const name of names) expect({ name, exported: new RegExp(`^${name}[{ ]`, 'm').test(after) }).toEqual({ name, exported: true });
  });

  it('passes promtool check rules and its unit tests (promtool test rules)', () => {
    if (promtool === undefined) {
      expect(process.env.CI, 'promtool is missing in CI: .ci/run installs the prometheus package').toBeUndefined();
      return;
    }
    const checked = runPromtool(['check', 'rules', 'gregor-alerts.yml']);
    expect(checked.output).toContain('SUCCESS: 4 rules found');
    expect(checked.status).toBe(0);
    const tested = runPromtool(['test', 'rules', 'gregor-alerts.test.yml']);
    expect(tested.output).toContain('SUCCESS');
    expect(tested.status).toBe(0);
  });
});
