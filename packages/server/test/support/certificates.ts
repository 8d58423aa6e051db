/**
 * A throwaway certificate authority for TLS tests, made with the `openssl` command line: the CA,
 * a server certificate for localhost / 127.0.0.1 (as a PEM keystore, with an encrypted key, and
 * as PKCS#12), and client certificates with subjects CN=alice,OU=test,O=gregor and (escaped)
 * CN=Smith\, John,O=Acme\, Inc. Files live in a temporary directory the caller removes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestCertificates {
  dir: string;
  caPem: string;
  /** Server key and certificate in one PEM file (Kafka's PEM keystore). */
  serverKeystorePem: string;
  /** Server key encrypted with `keyPassword`, then its certificate. */
  serverEncryptedKeystorePem: string;
  keyPassword: string;
  serverPkcs12: string;
  keystorePassword: string;
  clientKey: string;
  clientCert: string;
  /** A client certificate whose subject needs RFC 2253 escaping: `CN=Smith\, John,O=Acme\, Inc.`. */
  escapedKey: string;
  escapedCert: string;
  /** A client certificate signed by another CA. */
  strangerKey: string;
  strangerCert: string;
}

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function keyAndCsr(dir: string, name: string, subject: string): void {
  openssl(dir, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject]);
}

function sign(dir: string, name: string, ca: string, extensions: string): void {
  writeFileSync(path.join(dir, `${name}.ext`), extensions);
  openssl(dir, ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
}

export function makeTestCertificates(): TestCertificates {
  const dir = mkdtempSync(path.join(tmpdir(), 'gregor-tls-'));
  for (const ca of ['ca', 'other-ca']) {
    openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${ca}.key`, '-out', `${ca}.pem`, '-days', '2', '-subj', `/CN=Gregor ${ca}`]);
  }
  keyAndCsr(dir, 'server', '/CN=localhost');
  sign(dir, 'server', 'ca', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  keyAndCsr(dir, 'client', '/O=gregor/OU=test/CN=alice');
  sign(dir, 'client', 'ca', 'extendedKeyUsage=clientAuth\n');
  keyAndCsr(dir, 'escaped', '/O=Acme\\, Inc./CN=Smith\\, John');
  sign(dir, 'escaped', 'ca', 'extendedKeyUsage=clientAuth\n');
  keyAndCsr(dir, 'stranger', '/CN=mallory');
  sign(dir, 'stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  const keyPassword = 'key-secret';
  const keystorePassword = 'keystore-secret';
  openssl(dir, ['pkey', '-in', 'server.key', '-aes256', '-passout', `pass:${keyPassword}`, '-out', 'server-encrypted.key']);
  openssl(dir, ['pkcs12', '-export', '-inkey', 'server.key', '-in', 'server.pem', '-certfile', 'ca.pem', '-out', 'server.p12', '-passout', `pass:${keystorePassword}`]);
  const file = (name: string) => path.join(dir, name);
  writeFileSync(file('server-keystore.pem'), readFileSync(file('server.key'), 'utf8') + readFileSync(file('server.pem'), 'utf8'));
  writeFileSync(file('server-encrypted-keystore.pem'), readFileSync(file('server-encrypted.key'), 'utf8') + readFileSync(file('server.pem'), 'utf8'));
  return {
    dir,
    caPem: file('ca.pem'),
    serverKeystorePem: file('server-keystore.pem'),
    serverEncryptedKeystorePem: file('server-encrypted-keystore.pem'),
    keyPassword,
    serverPkcs12: file('server.p12'),
    keystorePassword,
    clientKey: file('client.key'),
    clientCert: file('client.pem'),
    escapedKey: file('escaped.key'),
    escapedCert: file('escaped.pem'),
    strangerKey: file('stranger.key'),
    strangerCert: file('stranger.pem'),
  };
}
