import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { actedBrokerSettingsTable, topicConfigsTable } from './support/config-tables.js';

const docs = () => readFileSync(new URL('../../../docs/configs.md', import.meta.url), 'utf8');
const region = (name: string) => docs().split(`<!-- ${name}:start -->\n`)[1]?.split(`\n<!-- ${name}:end -->`)[0];

describe('docs/configs.md', () => {
  it('lists every topic config with what Gregor does with it', () => {
    expect(region('topic-configs')).toBe(topicConfigsTable());
  });

  it('lists the broker settings Gregor acts on', () => {
    expect(region('broker-settings')).toBe(actedBrokerSettingsTable());
  });
});
