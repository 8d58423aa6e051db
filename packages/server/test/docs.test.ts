// The snippets of docs/protocol.md run as written in packages/gregor/test/docs.test.ts.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servedApisTable } from './support/served-table.js';

const docs = () => readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/protocol.md', () => {
  it('lists exactly the APIs and versions @gregor/protocol serves', () => {
    const table = docs().split('<!-- served-apis:start -->\n')[1]?.split('\n<!-- served-apis:end -->')[0];
    expect(table).toBe(servedApisTable());
  });
});
