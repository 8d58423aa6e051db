/**
 * The markdown table of the APIs and versions the server answers: those @gregor/protocol serves
 * and @gregor/broker handles (the broker's ApiVersions answer lists the same).
 */
import { handledApiKeys } from '@gregor/broker';
import { servedApiVersions, specFor } from '@gregor/protocol';

export function servedApisTable(): string {
  const lines = ['| api key | API | versions | flexible from |', '|---:|---|---|---|'];
  const describedOnly: string[] = [];
  for (const { apiKey, minVersion, maxVersion } of servedApiVersions()) {
    const spec = specFor(apiKey);
    if (!handledApiKeys.has(apiKey)) {
      describedOnly.push(`${spec?.name ?? apiKey} (${apiKey})`);
      continue;
    }
    const flexible = spec?.flexibleFrom === null || spec?.flexibleFrom === undefined || spec.flexibleFrom > maxVersion ? '—' : `v${spec.flexibleFrom}`;
    lines.push(`| ${apiKey} | ${spec?.name ?? '?'} | ${minVersion}–${maxVersion} | ${flexible} |`);
  }
  if (describedOnly.length > 0) lines.push('', `Described by the protocol but not handled by the broker (the connection closes): ${describedOnly.join(', ')}.`);
  return lines.join('\n');
}
