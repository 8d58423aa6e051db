/**
 * The console's front end: plain files under the package's `static/` (HTML, one ES module per
 * page, CSS, and the vendored libraries in `static/vendor/`), served as they are: no build step,
 * nothing fetched from elsewhere. A Content-Security-Policy of 'self' makes the browser refuse
 * anything that is not served here. Paths are resolved inside `static/` only.
 */
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `static/` beside `src/` (tests, tsx) and beside `dist/` (the built package). */
export const STATIC_DIR = path.join(path.dirname(path.dirname(fileURLToPath(import.meta.url))), 'static');

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
};

export const CONTENT_SECURITY_POLICY = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/** Serves `urlPath` from `dir`; false when there is no such file (the caller answers 404). */
export function serveStatic(dir: string, urlPath: string, response: http.ServerResponse, headOnly: boolean): boolean {
  let relative: string;
  try {
    relative = decodeURIComponent(urlPath === '/' ? '/index.html' : urlPath);
  } catch {
    return false;
  }
  const file = path.resolve(dir, `.${path.posix.normalize(relative)}`);
  if (!file.startsWith(`${path.resolve(dir)}${path.sep}`)) return false;
  const type = CONTENT_TYPES[path.extname(file)];
  if (type === undefined) return false;
  let body: Buffer;
  try {
    body = fs.readFileSync(file);
  } catch {
    return false;
  }
  response.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache', 'content-security-policy': CONTENT_SECURITY_POLICY, 'x-content-type-options': 'nosniff' });
  response.end(headOnly ? undefined : body);
  return true;
}
