import { describe, expect, it } from 'vitest';
import { allSpecs, consumerProtocolAssignmentFields, consumerProtocolSubscriptionFields, type FieldSpec, parseVersions } from '../src/index.js';

const VERSIONS = /^(none|\d+|\d+\+|\d+-\d+)$/;

function problems(fields: readonly FieldSpec[], where: string, flexibleFrom: number | null): string[] {
  const found: string[] = [];
  const names = new Set<string>();
  const tags = new Set<number>();
  for (const field of fields) {
    const at = `${where}.${field.name}`;
    if (!/^[a-z][A-Za-z0-9]*$/.test(field.name)) found.push(`${at}: name is not camelCase`);
    if (names.has(field.name)) found.push(`${at}: duplicate name`);
    names.add(field.name);
    if (!VERSIONS.test(field.versions)) found.push(`${at}: bad versions ${field.versions}`);
    const { nullable, tag, taggedVersions } = field.options;
    if (nullable !== undefined && !VERSIONS.test(nullable)) found.push(`${at}: bad nullable versions ${nullable}`);
    if (nullable !== undefined && ['int8', 'int16', 'int32', 'int64', 'uint16', 'bool', 'uuid', 'float64'].includes(field.type)) found.push(`${at}: ${field.type} cannot be nullable`);
    if (tag !== undefined) {
      if (tags.has(tag)) found.push(`${at}: duplicate tag ${tag}`);
      tags.add(tag);
      const [first] = parseVersions(taggedVersions ?? field.versions);
      if (flexibleFrom === null || first < flexibleFrom) found.push(`${at}: tagged before the first flexible version`);
    }
    if ((field.type === 'struct' || field.type === '[]struct') !== (field.fields !== undefined)) found.push(`${at}: fields only on structs`);
    if (field.fields) found.push(...problems(field.fields, at, flexibleFrom));
  }
  return found;
}

describe('descriptions are well formed', () => {
  for (const spec of allSpecs()) {
    it(`${spec.name}: camelCase unique names, valid version strings, tags unique and only where flexible`, () => {
      expect([...problems(spec.request, `${spec.name}Request`, spec.flexibleFrom), ...problems(spec.response, `${spec.name}Response`, spec.flexibleFrom)]).toEqual([]);
    });
  }

  it('consumer protocol formats too', () => {
    expect([...problems(consumerProtocolSubscriptionFields, 'Subscription', null), ...problems(consumerProtocolAssignmentFields, 'Assignment', null)]).toEqual([]);
  });
});
