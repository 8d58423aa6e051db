#!/usr/bin/env -S node --single-threaded-gc
// The `gregor` command. Inside the repository (a workspace checkout, where the sources sit beside
// the build), the packages are rebuilt first when a source file is newer than its package's last
// build, so `pnpm gregor ...` never runs stale code and pays for `tsc -b` only after an edit.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const workspaceDir = path.resolve(packageDir, '..', '..');

function newestMtimeMs(dir) {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestMtimeMs(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function isBuildStale() {
  const packagesDir = path.join(workspaceDir, 'packages');
  for (const name of fs.readdirSync(packagesDir)) {
    const src = path.join(packagesDir, name, 'src');
    if (!fs.existsSync(src)) continue;
    const buildInfo = path.join(packagesDir, name, 'dist', '.tsbuildinfo');
    if (!fs.existsSync(buildInfo) || newestMtimeMs(src) > fs.statSync(buildInfo).mtimeMs) return true;
  }
  return false;
}

const tsc = path.join(workspaceDir, 'node_modules', '.bin', 'tsc');
if (fs.existsSync(path.join(workspaceDir, 'tsconfig.json')) && fs.existsSync(path.join(packageDir, 'src')) && fs.existsSync(tsc) && isBuildStale()) {
  process.stderr.write('gregor: sources changed since the last build; building (tsc -b)...\n');
  const build = spawnSync(tsc, ['-b'], { cwd: workspaceDir, stdio: ['ignore', 2, 2] });
  if (build.status !== 0) {
    process.stderr.write('gregor: the build failed (see above); fix it or run pnpm build\n');
    process.exit(1);
  }
}

await import('../dist/cli.js');
