/** The markdown table of served APIs and versions, generated from @gregor/protocol. */
import { servedApiVersions, specFor } from '@gregor/protocol';

export function servedApisTable(): string {
  const lines = ['| api key | API | versions | flexible from |', '|---:|---|---|---|'];
  for (const { apiKey, minVersion, maxVersion } of servedApiVersions()) {
    const spec = specFor(apiKey);
    const flexible = spec?.flexibleFrom === null || spec?.flexibleFrom === undefined || spec.flexibleFrom > maxVersion ? '—' : `v${spec.flexibleFrom}`;
    lines.push(`| ${apiKey} | ${spec?.name ?? '?'} | ${minVersion}–${maxVersion} | ${flexible} |`);
  }
  return lines.join('\n');
}
