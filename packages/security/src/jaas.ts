/**
 * Kafka's JAAS configuration lines, as `sasl.jaas.config` and
 * `listener.name.<listener>.<mechanism>.sasl.jaas.config` hold them:
 *
 *   org.apache.kafka.common.security.plain.PlainLoginModule required user_alice="alice-secret";
 *
 * One login module, its control flag, then `key=value` options (values quoted with "..." and \"
 * escapes, or bare words), ended by ';'. Pure functions.
 */
import { SecurityConfigError } from './errors.js';

export interface JaasEntry {
  loginModule: string;
  controlFlag: 'required' | 'requisite' | 'sufficient' | 'optional';
  options: Map<string, string>;
}

const TOKEN = /\s*(?:"((?:[^"\\]|\\.)*)"|([^\s=;"]+)|(=)|(;))/y;

export function parseJaasConfig(text: string): JaasEntry {
  const tokens: { kind: 'word' | 'quoted' | '=' | ';'; value: string }[] = [];
  TOKEN.lastIndex = 0;
  let position = 0;
  while (position < text.length && /\S/.test(text.slice(position))) {
    TOKEN.lastIndex = position;
    const match = TOKEN.exec(text);
    if (match === null) throw new SecurityConfigError(`JAAS configuration cannot be read at character ${position}: ${text.slice(position, position + 20)}`);
    if (match[1] !== undefined) tokens.push({ kind: 'quoted', value: match[1].replace(/\\(.)/g, '$1') });
    else if (match[2] !== undefined) tokens.push({ kind: 'word', value: match[2] });
    else if (match[3] !== undefined) tokens.push({ kind: '=', value: '=' });
    else tokens.push({ kind: ';', value: ';' });
    position = TOKEN.lastIndex;
  }
  const [module, flag, ...rest] = tokens;
  if (module?.kind !== 'word' || flag?.kind !== 'word') throw new SecurityConfigError('JAAS configuration must start with a login module and a control flag');
  if (!['required', 'requisite', 'sufficient', 'optional'].includes(flag.value)) throw new SecurityConfigError(`JAAS control flag must be required, requisite, sufficient or optional, got ${flag.value}`);
  if (rest.at(-1)?.kind !== ';') throw new SecurityConfigError('JAAS configuration must end with ;');
  const options = new Map<string, string>();
  for (let index = 0; index < rest.length - 1; index += 3) {
    const [key, equals, value] = rest.slice(index, index + 3);
    if (key?.kind !== 'word' || equals?.kind !== '=' || (value?.kind !== 'quoted' && value?.kind !== 'word')) {
      throw new SecurityConfigError('JAAS options must be key="value" pairs');
    }
    options.set(key.value, value.value);
  }
  return { loginModule: module.value, controlFlag: flag.value as JaasEntry['controlFlag'], options };
}

/** The users of a PlainLoginModule entry: its `user_<name>="<password>"` options. */
export function plainUsers(entry: JaasEntry): Map<string, string> {
  if (!entry.loginModule.endsWith('PlainLoginModule')) throw new SecurityConfigError(`PLAIN users come from PlainLoginModule, not ${entry.loginModule}`);
  const users = new Map<string, string>();
  for (const [key, value] of entry.options) if (key.startsWith('user_') && key.length > 5) users.set(key.slice(5), value);
  return users;
}

/** A client's own credentials from a JAAS line (`username="..." password="..."`), as a client's sasl.jaas.config holds them. */
export function jaasClientCredentials(entry: JaasEntry): { username: string; password: string } {
  const username = entry.options.get('username');
  const password = entry.options.get('password');
  if (username === undefined || password === undefined) throw new SecurityConfigError('the JAAS configuration has no username and password options');
  return { username, password };
}
