/** Runs `gregor perf ...` in the test's process and returns what it wrote to stderr (progress and report). */
import { vi } from 'vitest';
import { main as perf } from '../../src/cli/commands/perf.js';

export async function perfOutput(args: string[]): Promise<string> {
  let output = '';
  const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    output += String(chunk);
    return true;
  });
  try {
    await perf(args);
  } finally {
    spy.mockRestore();
  }
  return output;
}
