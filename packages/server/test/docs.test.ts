import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { servedApisTable } from './support/served-table.js';

const docs = () => readFileSync(new URL('../../../docs/protocol.md', import.meta.url), 'utf8');

describe('docs/protocol.md', () => {
  it('shows only snippet lines that examples.test.ts runs', () => {
    const section = (title: string) => docs().split(`## ${title}`)[1].split('\n## ')[0];
    const snippets = section('Starting a server') + section('Pointing clients at Gregor');
    const blocks = [...snippets.matchAll(/```(?:ts|sh)\n([\s\S]*?)```/g)].map((match) => match[1]);
    expect(blocks.length).toBe(4);
    const examples = new Set(readFileSync(new URL('./examples.test.ts', import.meta.url), 'utf8').split('\n').map((line) => line.trim()));
    const examplesText = readFileSync(new URL('./examples.test.ts', import.meta.url), 'utf8');
    const missing = blocks
      .flatMap((block) => block.split('\n').map((line) => line.trim()))
      .filter((line) => line !== '' && !examples.has(line) && !examplesText.includes(line.replaceAll('\\', '\\\\')));
    expect(missing).toEqual([]);
  });

  it('lists exactly the APIs and versions @gregor/protocol serves', () => {
    const table = docs().split('<!-- served-apis:start -->\n')[1]?.split('\n<!-- served-apis:end -->')[0];
    expect(table).toBe(servedApisTable());
  });
});
