/**
 * Kafka's `ssl.principal.mapping.rules` (KIP-371): how a client certificate's distinguished name
 * becomes a principal name. A comma- or newline-separated list, tried in order:
 *
 *   RULE:<pattern>/<replacement>/[L|U]   the pattern (a regular expression) must match the whole
 *                                        name; the replacement may use $1...; L / U lower- / upper-
 *                                        cases the result. `\/` stands for `/`.
 *   DEFAULT                              the name unchanged (the setting's default).
 *
 * The first rule that matches gives the name; a name no rule matches is refused (the connection
 * closes), as Kafka does. Patterns are JavaScript regular expressions, which agree with Java's on
 * the constructs such rules use (groups, classes, `.*?`, anchors). Pure.
 */
import { SecurityConfigError, SecurityError } from './errors.js';

export type SslPrincipalMappingRule =
  | { kind: 'default' }
  | { kind: 'rule'; pattern: RegExp; replacement: string; toCase: 'lower' | 'upper' | null; source: string };

/** One rule: `DEFAULT`, or `RULE:` then pattern, replacement and case separated by unescaped slashes. */
const RULE = /^\s*(?:(DEFAULT)|RULE:((?:\\.|[^\\/])*)\/((?:\\.|[^\\/])*)\/([LU]?))\s*(?:[,\n]\s*|$)/;

export function parseSslPrincipalMappingRules(value: string | undefined): SslPrincipalMappingRule[] {
  const text = (value ?? 'DEFAULT').trim();
  if (text === '') return [{ kind: 'default' }];
  const rules: SslPrincipalMappingRule[] = [];
  let rest = text;
  while (rest.trim() !== '') {
    const match = RULE.exec(rest);
    if (match === null || match[0] === '') throw new SecurityConfigError(`ssl.principal.mapping.rules: cannot read the rule at '${rest.slice(0, 60)}'`);
    if (match[1] !== undefined) rules.push({ kind: 'default' });
    else {
      const source = unescapeSlashes(match[2]);
      let pattern: RegExp;
      try {
        pattern = new RegExp(`^(?:${source})$`);
      } catch (error) {
        throw new SecurityConfigError(`ssl.principal.mapping.rules: invalid pattern ${source}: ${(error as Error).message}`, { cause: error });
      }
      rules.push({ kind: 'rule', pattern, replacement: unescapeSlashes(match[3]), toCase: match[4] === 'L' ? 'lower' : match[4] === 'U' ? 'upper' : null, source });
    }
    rest = rest.slice(match[0].length);
  }
  return rules;
}

/** The principal name for a distinguished name; throws SecurityError when no rule applies. */
export function mapSslPrincipal(distinguishedName: string, rules: readonly SslPrincipalMappingRule[]): string {
  for (const rule of rules) {
    if (rule.kind === 'default') return distinguishedName;
    if (!rule.pattern.test(distinguishedName)) continue;
    const mapped = distinguishedName.replace(rule.pattern, rule.replacement);
    return rule.toCase === 'lower' ? mapped.toLowerCase() : rule.toCase === 'upper' ? mapped.toUpperCase() : mapped;
  }
  throw new SecurityError('NO_PRINCIPAL_MAPPING_RULE', `no ssl.principal.mapping.rules rule applies to ${distinguishedName}`);
}

function unescapeSlashes(text: string): string {
  return text.replace(/\\\//g, '/');
}
