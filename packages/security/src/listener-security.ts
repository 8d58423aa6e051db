/**
 * A listener's security from Kafka's broker properties: its protocol (from
 * `listener.security.protocol.map`, or the listener's own name when that is a protocol), its TLS
 * identity and trust (`ssl.*`), and its SASL mechanisms and PLAIN users (`sasl.*`). Every key may
 * be given for one listener with Kafka's prefix `listener.name.<listener, lower case>.`, which wins
 * over the unprefixed key; JAAS lines are per mechanism:
 * `listener.name.<listener>.<mechanism, lower case>.sasl.jaas.config`, and so may
 * `connections.max.reauth.ms` (KIP-368's session lifetime).
 *
 * Keystores: `ssl.keystore.type` PEM (a file with the private key and the certificate chain, or the
 * inline `ssl.keystore.key` and `ssl.keystore.certificate.chain`) or PKCS12 (with
 * `ssl.keystore.password`); without a type, a file starting with `-----BEGIN` is PEM and any other
 * is PKCS12. JKS cannot be read by Node: it is refused with a message saying to convert it. The
 * private key's passphrase is `ssl.key.password`. Truststores are PEM (`ssl.truststore.location`
 * or inline `ssl.truststore.certificates`). `ssl.principal.mapping.rules` maps client certificate
 * subjects to principal names. Pure, apart from reading the files named.
 */
import { SecurityConfigError } from './errors.js';
import { parseJaasConfig, plainUsers } from './jaas.js';
import { parseSslPrincipalMappingRules, type SslPrincipalMappingRule } from './ssl-principal-mapping.js';
import { isSupportedSaslMechanism, type SaslMechanism, type SaslServerSettings, type ScramCredentialSource } from './sasl.js';

export const SECURITY_PROTOCOLS = ['PLAINTEXT', 'SSL', 'SASL_PLAINTEXT', 'SASL_SSL'] as const;
export type SecurityProtocol = (typeof SECURITY_PROTOCOLS)[number];

export function isSecurityProtocol(name: string): name is SecurityProtocol {
  return (SECURITY_PROTOCOLS as readonly string[]).includes(name);
}

export function usesTls(protocol: SecurityProtocol): boolean {
  return protocol === 'SSL' || protocol === 'SASL_SSL';
}

export function usesSasl(protocol: SecurityProtocol): boolean {
  return protocol === 'SASL_PLAINTEXT' || protocol === 'SASL_SSL';
}

export type ClientAuth = 'none' | 'requested' | 'required';

/** What Node's `tls.createServer` needs, in Kafka's terms. */
export interface TlsServerSettings {
  /** PEM private key and certificate chain, or a PKCS#12 bundle with its passphrase. */
  key?: Buffer;
  cert?: Buffer;
  pfx?: Buffer;
  passphrase?: string;
  /** Certificates of the CAs client certificates are checked against (`ssl.truststore.*`). */
  ca?: Buffer;
  clientAuth: ClientAuth;
  /** Lowest TLS version (from `ssl.enabled.protocols`). */
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** How a client certificate's subject becomes a principal name (`ssl.principal.mapping.rules`; default DEFAULT, the subject itself). */
  principalMappingRules?: readonly SslPrincipalMappingRule[];
}

export interface ListenerSecurity {
  protocol: SecurityProtocol;
  tls?: TlsServerSettings;
  sasl?: SaslServerSettings;
}

export interface ListenerSecurityOptions {
  readFile: (filePath: string) => Buffer;
  /** SCRAM credentials for SASL listeners (the broker's store). */
  scramCredentials?: ScramCredentialSource;
}

/** The protocol of listener `name`: `listener.security.protocol.map`, else the name itself when it is a protocol. */
export function listenerProtocol(name: string, protocolMap: Readonly<Record<string, string>>): SecurityProtocol {
  const protocol = protocolMap[name] ?? (isSecurityProtocol(name) ? name : undefined);
  if (protocol === undefined) throw new SecurityConfigError(`listener ${name} has no entry in listener.security.protocol.map`);
  if (!isSecurityProtocol(protocol)) throw new SecurityConfigError(`listener ${name} maps to ${protocol}, not one of ${SECURITY_PROTOCOLS.join(', ')}`);
  return protocol;
}

/** Kafka's `listener.security.protocol.map` value (`CLIENT:SASL_SSL,BROKER:PLAINTEXT`). */
export function parseProtocolMap(value: string): Record<string, string> {
  const map: Record<string, string> = {};
  for (const entry of value.split(',').map((part) => part.trim()).filter((part) => part !== '')) {
    const [name, protocol, ...rest] = entry.split(':');
    if (!name || !protocol || rest.length > 0) throw new SecurityConfigError(`listener.security.protocol.map entry '${entry}' is not NAME:PROTOCOL`);
    map[name.trim()] = protocol.trim().toUpperCase();
  }
  return map;
}

export function listenerSecurityFromProperties(
  properties: ReadonlyMap<string, string>, listenerName: string, protocol: SecurityProtocol, options: ListenerSecurityOptions,
): ListenerSecurity {
  const prefix = `listener.name.${listenerName.toLowerCase()}.`;
  const get = (key: string): string | undefined => properties.get(prefix + key) ?? properties.get(key);
  const security: ListenerSecurity = { protocol };
  if (usesTls(protocol)) security.tls = tlsServerSettings(get, listenerName, options.readFile);
  if (usesSasl(protocol)) security.sasl = saslServerSettings(get, listenerName, options.scramCredentials);
  return security;
}

function tlsServerSettings(get: (key: string) => string | undefined, listenerName: string, readFile: (filePath: string) => Buffer): TlsServerSettings {
  const clientAuth = (get('ssl.client.auth') ?? 'none').trim().toLowerCase();
  if (clientAuth !== 'none' && clientAuth !== 'requested' && clientAuth !== 'required') throw new SecurityConfigError(`ssl.client.auth must be none, requested or required, got ${clientAuth}`);
  const settings: TlsServerSettings = { clientAuth, ...keystore(get, listenerName, readFile) };
  const trust = get('ssl.truststore.certificates');
  const trustLocation = get('ssl.truststore.location');
  if (trust !== undefined) settings.ca = Buffer.from(trust, 'utf8');
  else if (trustLocation !== undefined) {
    const type = (get('ssl.truststore.type') ?? 'PEM').toUpperCase();
    if (type !== 'PEM') throw new SecurityConfigError(`ssl.truststore.type ${type} is not supported: give the CA certificates as a PEM file`);
    settings.ca = readSetting(readFile, trustLocation, 'ssl.truststore.location');
  }
  if (clientAuth !== 'none' && settings.ca === undefined) throw new SecurityConfigError(`listener ${listenerName}: ssl.client.auth=${clientAuth} needs ssl.truststore.location (the CA that signs client certificates)`);
  const rules = get('ssl.principal.mapping.rules');
  if (rules !== undefined) settings.principalMappingRules = parseSslPrincipalMappingRules(rules);
  const protocols = get('ssl.enabled.protocols');
  if (protocols !== undefined && !protocols.split(',').map((p) => p.trim()).includes('TLSv1.2')) settings.minVersion = 'TLSv1.3';
  return settings;
}

function keystore(get: (key: string) => string | undefined, listenerName: string, readFile: (filePath: string) => Buffer): Pick<TlsServerSettings, 'key' | 'cert' | 'pfx' | 'passphrase'> {
  const keyPassword = get('ssl.key.password');
  const inlineKey = get('ssl.keystore.key');
  const inlineChain = get('ssl.keystore.certificate.chain');
  if (inlineKey !== undefined || inlineChain !== undefined) {
    if (inlineKey === undefined || inlineChain === undefined) throw new SecurityConfigError('ssl.keystore.key and ssl.keystore.certificate.chain go together');
    return { key: Buffer.from(inlineKey, 'utf8'), cert: Buffer.from(inlineChain, 'utf8'), passphrase: keyPassword };
  }
  const location = get('ssl.keystore.location');
  if (location === undefined) throw new SecurityConfigError(`listener ${listenerName} uses TLS and needs ssl.keystore.location (a PEM or PKCS#12 keystore)`);
  const bytes = readSetting(readFile, location, 'ssl.keystore.location');
  const declared = get('ssl.keystore.type')?.trim().toUpperCase();
  const type = declared ?? (bytes.subarray(0, 64).toString('latin1').includes('-----BEGIN') ? 'PEM' : 'PKCS12');
  if (type === 'PEM') return { key: bytes, cert: bytes, passphrase: keyPassword };
  if (type === 'PKCS12') return { pfx: bytes, passphrase: get('ssl.keystore.password') ?? keyPassword };
  throw new SecurityConfigError(`ssl.keystore.type ${type} cannot be read by Gregor: convert it to PKCS12 (keytool -importkeystore -deststoretype PKCS12) or PEM`);
}

function saslServerSettings(get: (key: string) => string | undefined, listenerName: string, scramCredentials: ScramCredentialSource | undefined): SaslServerSettings {
  const plainJaas = get('plain.sasl.jaas.config') ?? get('sasl.jaas.config');
  const users = plainJaas === undefined ? undefined : plainUsers(parseJaasConfig(plainJaas));
  const listed = get('sasl.enabled.mechanisms');
  let mechanisms: SaslMechanism[];
  if (listed === undefined) {
    mechanisms = [...(users !== undefined && users.size > 0 ? (['PLAIN'] as const) : []), 'SCRAM-SHA-256', 'SCRAM-SHA-512'];
  } else {
    mechanisms = [];
    for (const name of listed.split(',').map((m) => m.trim().toUpperCase()).filter((m) => m !== '')) {
      if (!isSupportedSaslMechanism(name)) throw new SecurityConfigError(`sasl.enabled.mechanisms: ${name} is not supported (Gregor serves PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
      mechanisms.push(name);
    }
  }
  if (mechanisms.includes('PLAIN') && users === undefined) {
    throw new SecurityConfigError(`listener ${listenerName} offers PLAIN but has no listener.name.${listenerName.toLowerCase()}.plain.sasl.jaas.config with user_<name>="<password>" entries`);
  }
  const settings: SaslServerSettings = { enabledMechanisms: mechanisms, plainUsers: users, scramCredentials };
  // connections.max.reauth.ms, or listener.name.<listener>.<mechanism, lower case>.connections.max.reauth.ms for one mechanism.
  const reauth: Partial<Record<SaslMechanism, number>> = {};
  for (const mechanism of mechanisms) {
    const value = get(`${mechanism.toLowerCase()}.connections.max.reauth.ms`) ?? get('connections.max.reauth.ms');
    if (value === undefined) continue;
    const ms = Number(value.trim());
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(ms)) throw new SecurityConfigError(`connections.max.reauth.ms must be an integer, got ${value}`);
    if (ms > 0) reauth[mechanism] = ms;
  }
  if (Object.keys(reauth).length > 0) settings.connectionsMaxReauthMs = reauth;
  return settings;
}

function readSetting(readFile: (filePath: string) => Buffer, filePath: string, key: string): Buffer {
  try {
    return readFile(filePath);
  } catch (error) {
    throw new SecurityConfigError(`${key} ${filePath} cannot be read: ${(error as Error).message}`, { cause: error });
  }
}
