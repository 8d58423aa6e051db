import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types.
import { VENDORED, vendorDir, vendoredContent } from '../scripts/vendor.mjs';

describe('vendored front-end libraries', () => {
  it('static/vendor/ holds exactly the pinned devDependencies (run scripts/vendor.mjs after a version change)', () => {
    const entries = VENDORED as { from: string; to: string }[];
    expect(new Set(fs.readdirSync(vendorDir))).toEqual(new Set(entries.map((e) => e.to)));
    for (const entry of entries) {
      expect({ file: entry.to, same: Buffer.compare(fs.readFileSync(path.join(vendorDir, entry.to)), vendoredContent(entry)) === 0 }).toEqual({ file: entry.to, same: true });
    }
  });

  it('the page loads nothing from elsewhere: every script and stylesheet is a local path', () => {
    const html = fs.readFileSync(path.join(vendorDir, '..', 'index.html'), 'utf8');
    const app = fs.readFileSync(path.join(vendorDir, '..', 'app.js'), 'utf8');
    for (const ref of [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1])) expect(ref).toMatch(/^(\/|data:)/);
    for (const ref of [...app.matchAll(/from '([^']+)'/g)].map((m) => m[1])) expect(ref).toMatch(/^\.\/vendor\//);
  });
});
