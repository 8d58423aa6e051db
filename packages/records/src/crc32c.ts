/**
 * CRC-32C (Castagnoli), the checksum of RecordBatch v2, through fast-crc32c. fast-crc32c picks the
 * SSE4.2 native implementation when it loads and falls back to JavaScript otherwise; the fallback
 * is about 20 times slower, so `crc32cImplementation()` reports which one is in use and the
 * benchmark prints it. Pure functions, safe to call from anywhere.
 */
import { createRequire } from 'node:module';

interface Crc32cModule {
  calculate(data: Buffer | string, initial?: number): number;
}

const require = createRequire(import.meta.url);
const loaded = require('fast-crc32c') as Crc32cModule;
const calculate = loaded.calculate;

function loadedImplementation(): 'sse4.2' | 'javascript' {
  try {
    const sse4 = require('fast-crc32c/impls/sse4_crc32c') as Crc32cModule;
    return sse4.calculate === calculate ? 'sse4.2' : 'javascript';
  } catch {
    // The native module did not load on this machine: fast-crc32c is using its JavaScript fallback.
    return 'javascript';
  }
}

const implementation = loadedImplementation();

/** Which implementation fast-crc32c loaded: the hardware path or the JavaScript fallback. */
export function crc32cImplementation(): 'sse4.2' | 'javascript' {
  return implementation;
}

/** CRC-32C of `data` as an unsigned 32-bit number (the value RecordBatch v2 stores). */
export function crc32c(data: Buffer): number {
  return calculate(data) >>> 0;
}
