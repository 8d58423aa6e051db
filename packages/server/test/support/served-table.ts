/**
 * The markdown table of the APIs and versions the server answers: those @gregor/protocol serves
 * and @gregor/broker handles, or @gregor/security's SecurityApis in front of it (ACLs, SCRAM
 * credentials), as Gregor serves them (the ApiVersions answer lists the same).
 */
import { handledApiKeys } from '@gregor/broker';
import { SECURITY_API_KEYS } from '@gregor/security';
import { servedApiVersions, specFor } from '@gregor/protocol';

export function servedApisTable(): string {
  const lines = ['| api key | API | versions | flexible from |', '|---:|---|---|---|'];
  const describedOnly: string[] = [];
  for (const { apiKey, minVersion, maxVersion } of servedApiVersions()) {
    const spec = specFor(apiKey);
    if (!handledApiKeys.has(apiKey) && !SECURITY_API_KEYS.includes(apiKey)) {
      describedOnly.push(`${spec?.name ?? apiKey} (${apiKey})`);
      continue;
    }
    const flexible = spec?.flexibleFrom === null || spec?.flexibleFrom === undefined || spec.flexibleFrom > maxVersion ? '—' : `v${spec.flexibleFrom}`;
    lines.push(`| ${apiKey} | ${spec?.name ?? '?'} | ${minVersion}–${maxVersion} | ${flexible} |`);
  }
  lines.push('', 'On SASL listeners the authentication stage also answers SaslHandshake (17) 0–1 and SaslAuthenticate (36) 0–2.');
  if (describedOnly.length > 0) lines.push('', `Described by the protocol but not handled by the broker (the connection closes): ${describedOnly.join(', ')}.`);
  return lines.join('\n');
}
