/**
 * Byte damage for fuzz tests of every package's decoders: a fast-check arbitrary of mutations (a
 * flipped bit, an overwritten byte, truncation, inserted bytes) and `mutate`, which applies a list
 * of them to a copy of the input. Positions wrap around the current length, so any list applies
 * to any input.
 */
import fc from 'fast-check';

export const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
);
export type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

export function mutate(input: Buffer, mutations: Mutation[]): Buffer {
  let output = Buffer.from(input);
  for (const change of mutations) {
    if (output.length === 0) break;
    const at = change.at % output.length;
    if (change.kind === 'flip') output[at] ^= 1 << change.bit;
    else if (change.kind === 'set') output[at] = change.byte;
    else if (change.kind === 'truncate') output = output.subarray(0, at);
    else output = Buffer.concat([output.subarray(0, at), Buffer.from(change.bytes), output.subarray(at)]);
  }
  return output;
}
