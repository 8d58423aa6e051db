/**
 * Random request bodies built from @gregor/protocol's message descriptions (our own small
 * generator: protocol's arbitraries are test code of that package). Fields of every version are
 * filled (the encoder ignores those absent in a version). Waits the broker would honour (long-poll
 * Fetch, rebalance and session timeouts) are kept short so a fuzz run does not stall on them.
 */
import type { FieldSpec } from '@gregor/protocol';
import fc from 'fast-check';

const SHORT_WAIT_FIELDS = new Set(['maxWaitMs', 'timeoutMs', 'rebalanceTimeoutMs', 'sessionTimeoutMs']);
const NAMES = fc.constantFrom('fuzz', 'fuzz-2', '__consumer_offsets', '', 'group-a', 'x'.repeat(250));

function primitive(field: FieldSpec, batch: Buffer): fc.Arbitrary<unknown> {
  if (SHORT_WAIT_FIELDS.has(field.name)) return fc.integer({ min: 0, max: 50 });
  const type = field.type.startsWith('[]') ? field.type.slice(2) : field.type;
  switch (type) {
    case 'bool':
      return fc.boolean();
    case 'int8':
      return fc.integer({ min: -128, max: 127 });
    case 'int16':
      return fc.integer({ min: -2, max: 20 });
    case 'uint16':
      return fc.integer({ min: 0, max: 65535 });
    case 'int32':
      return fc.oneof(fc.integer({ min: -2, max: 100 }), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
    case 'int64':
      return fc.oneof(fc.integer({ min: -3, max: 100 }), fc.maxSafeInteger());
    case 'float64':
      return fc.double({ noNaN: true });
    case 'string':
      return NAMES;
    case 'uuid':
      return fc.uuid();
    case 'records':
      return fc.constantFrom(batch, Buffer.alloc(0));
    default:
      return fc.uint8Array({ maxLength: 24 }).map((bytes) => Buffer.from(bytes));
  }
}

export function bodyArbitrary(fields: readonly FieldSpec[], batch: Buffer): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of fields) {
    if (field.type === 'struct') record[field.name] = bodyArbitrary(field.fields ?? [], batch);
    else if (field.type === '[]struct') record[field.name] = fc.array(bodyArbitrary(field.fields ?? [], batch), { maxLength: 2 });
    else if (field.type.startsWith('[]')) record[field.name] = fc.array(primitive(field, batch), { maxLength: 3 });
    else record[field.name] = primitive(field, batch);
  }
  return fc.record(record);
}
