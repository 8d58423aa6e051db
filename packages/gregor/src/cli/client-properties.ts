/**
 * Kafka's client settings from a `--command-config client.properties` file (as Kafka's tools take
 * them), turned into the client's `ssl` and `sasl` options. Both the Java client's and librdkafka's
 * names are read:
 *   security.protocol               PLAINTEXT | SSL | SASL_PLAINTEXT | SASL_SSL
 *   sasl.mechanism (sasl.mechanisms) PLAIN | SCRAM-SHA-256 | SCRAM-SHA-512
 *   sasl.username, sasl.password    librdkafka's credentials, or
 *   sasl.jaas.config                Java's `...LoginModule required username="..." password="...";`
 *   ssl.ca.location                 CA certificates (PEM) to trust; Java: ssl.truststore.location (PEM)
 *   ssl.certificate.location + ssl.key.location, or ssl.keystore.location (PEM or PKCS#12, with
 *   ssl.keystore.password): a client certificate; ssl.key.password for an encrypted key
 *   ssl.endpoint.identification.algorithm  empty: the broker's host name is not checked
 * Reads the files it names; throws CliError for a setting it cannot use.
 */
import fs from 'node:fs';
import type tls from 'node:tls';
import { parseProperties } from '@gregor/broker';
import type { SaslCredentials } from '@gregor/client';
import { isSecurityProtocol, jaasClientCredentials, parseJaasConfig, usesSasl, usesTls } from '@gregor/security';
import { CliError } from './args.js';

export interface ClientSecurity {
  ssl?: tls.ConnectionOptions;
  sasl?: SaslCredentials;
}

export function readClientProperties(file: string): Map<string, string> {
  try {
    return parseProperties(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') throw new CliError(`--command-config ${file}: no such file`);
    throw error;
  }
}

export function clientSecurity(properties: ReadonlyMap<string, string>, readFile: (file: string) => Buffer = (file) => fs.readFileSync(file)): ClientSecurity {
  const protocol = (properties.get('security.protocol') ?? 'PLAINTEXT').trim().toUpperCase();
  if (!isSecurityProtocol(protocol)) throw new CliError(`security.protocol must be PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, got ${protocol}`);
  const read = (key: string): Buffer | undefined => {
    const file = properties.get(key);
    if (file === undefined || file.trim() === '') return undefined;
    try {
      return readFile(file.trim());
    } catch (error) {
      throw new CliError(`${key} ${file}: ${(error as Error).message}`);
    }
  };
  const security: ClientSecurity = {};
  if (usesTls(protocol)) {
    const ssl: tls.ConnectionOptions = {};
    const ca = read('ssl.ca.location') ?? read('ssl.truststore.location');
    if (ca !== undefined) ssl.ca = ca;
    const cert = read('ssl.certificate.location');
    const key = read('ssl.key.location');
    if (cert !== undefined || key !== undefined) Object.assign(ssl, { cert, key });
    const keystore = read('ssl.keystore.location');
    if (keystore !== undefined) {
      if (keystore.subarray(0, 64).toString('latin1').includes('-----BEGIN')) Object.assign(ssl, { cert: keystore, key: keystore });
      else Object.assign(ssl, { pfx: keystore, passphrase: properties.get('ssl.keystore.password') });
    }
    const keyPassword = properties.get('ssl.key.password');
    if (keyPassword !== undefined) ssl.passphrase = keyPassword;
    if (properties.get('ssl.endpoint.identification.algorithm')?.trim() === '') ssl.checkServerIdentity = () => undefined;
    security.ssl = ssl;
  }
  if (usesSasl(protocol)) {
    const mechanism = (properties.get('sasl.mechanism') ?? properties.get('sasl.mechanisms') ?? 'GSSAPI').trim().toUpperCase();
    if (!['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'].includes(mechanism)) throw new CliError(`sasl.mechanism ${mechanism} is not supported (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512)`);
    let username = properties.get('sasl.username');
    let password = properties.get('sasl.password');
    const jaas = properties.get('sasl.jaas.config');
    if ((username === undefined || password === undefined) && jaas !== undefined) {
      try {
        ({ username, password } = jaasClientCredentials(parseJaasConfig(jaas)));
      } catch (error) {
        throw new CliError(`sasl.jaas.config: ${(error as Error).message}`);
      }
    }
    if (username === undefined || password === undefined) throw new CliError(`security.protocol=${protocol} needs sasl.username and sasl.password, or sasl.jaas.config`);
    security.sasl = { mechanism, username, password };
  }
  return security;
}
