// Copies the console's front-end libraries from the pinned devDependencies into static/vendor/, so
// users get them with the package (no build step, no CDN). Run after changing a version:
//   node packages/console/scripts/vendor.mjs
// test/vendored.test.ts fails when static/vendor/ and the installed packages differ.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const VENDORED = [
  { from: 'preact/dist/preact.mjs', to: 'preact.mjs' },
  // Its bare `import ... from "preact"` is pointed at the file beside it (no import map needed).
  { from: 'preact/hooks/dist/hooks.mjs', to: 'preact-hooks.mjs', rewrite: (text) => text.replaceAll('from"preact"', 'from"./preact.mjs"') },
  { from: 'preact/LICENSE', to: 'preact.LICENSE' },
  { from: 'htm/dist/htm.mjs', to: 'htm.mjs' },
  { from: 'htm/LICENSE', to: 'htm.LICENSE' },
  { from: 'uplot/dist/uPlot.iife.min.js', to: 'uPlot.iife.min.js' },
  { from: 'uplot/dist/uPlot.min.css', to: 'uPlot.min.css' },
  { from: 'uplot/LICENSE', to: 'uPlot.LICENSE' },
];

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));

export function vendoredSource(from) {
  // The pinned devDependencies, as pnpm links them into this package's node_modules.
  return path.join(packageDir, 'node_modules', from);
}

/** The bytes a vendored file must hold: the installed file, rewritten where the entry says so. */
export function vendoredContent({ from, rewrite }) {
  const bytes = fs.readFileSync(vendoredSource(from));
  return rewrite === undefined ? bytes : Buffer.from(rewrite(bytes.toString('utf8')), 'utf8');
}

export const vendorDir = path.join(packageDir, 'static', 'vendor');

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  fs.mkdirSync(vendorDir, { recursive: true });
  for (const entry of VENDORED) fs.writeFileSync(path.join(vendorDir, entry.to), vendoredContent(entry));
  console.log(`copied ${VENDORED.length} files to ${vendorDir}`);
}
