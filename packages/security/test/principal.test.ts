/**
 * Client certificate subjects become principals as Kafka's default principal builder makes them
 * (`X500Principal.getName()`, RFC 2253): certificates made with openssl whose subjects need
 * escaping, multi-valued RDNs and attributes without an RFC 2253 keyword. The expected names were
 * read from these same subjects with Java 17's `X509Certificate.getSubjectX500Principal().getName()`.
 * Then `ssl.principal.mapping.rules` (KIP-371) as Kafka's SslPrincipalMapper applies them.
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { certificatePrincipal, distinguishedName, mapSslPrincipal, parseSslPrincipalMappingRules } from '../src/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'gregor-principal-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function certificate(subject: string): X509Certificate {
  const name = `c${Math.abs(hash(subject))}`;
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '2', '-utf8', '-subj', subject], { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  return new X509Certificate(readFileSync(path.join(dir, `${name}.pem`)));
}

function hash(text: string): number {
  let value = 0;
  for (const char of text) value = (value * 31 + char.charCodeAt(0)) | 0;
  return value;
}

// openssl's -subj: least specific first, `\` escapes the next character, `+` joins a multi-valued RDN.
const SUBJECTS: [subject: string, javaName: string][] = [
  ['/O=gregor/OU=test/CN=alice', 'CN=alice,OU=test,O=gregor'],
  ['/C=US/O=Acme\\, Inc./CN=Smith\\, John', 'CN=Smith\\, John,O=Acme\\, Inc.,C=US'],
  ['/CN=a\\+b\\=c<d>e;f"g\\\\h#i', 'CN=a\\+b\\=c\\<d\\>e\\;f\\"g\\\\h\\#i'],
  ['/CN= leading and trailing /O=#hash', 'O=\\#hash,CN=\\ leading and trailing\\ '],
  ['/O=acme/OU=eng+CN=alice+UID=a1', 'OU=eng+CN=alice+UID=a1,O=acme'],
  ['/DC=com/DC=example/CN=bob/emailAddress=bob@example.com', '1.2.840.113549.1.9.1=#160f626f62406578616d706c652e636f6d,CN=bob,DC=example,DC=com'],
  ['/CN=Jürgen Müller/serialNumber=1234/title=Dr', '2.5.4.12=#0c024472,2.5.4.5=#130431323334,CN=Jürgen Müller'],
];

describe('certificate subjects as Java writes them (RFC 2253)', () => {
  for (const [subject, javaName] of SUBJECTS) {
    it(`${subject} is ${javaName}`, () => {
      const cert = certificate(subject);
      expect(distinguishedName(cert)).toBe(javaName);
      expect(certificatePrincipal(cert)).toBe(`User:${javaName}`);
    });
  }
});

describe('ssl.principal.mapping.rules', () => {
  const name = 'CN=kafka-client,OU=ServiceUsers,O=Acme\\, Inc.,C=US';

  it('DEFAULT (the default) keeps the subject', () => {
    expect(mapSslPrincipal(name, parseSslPrincipalMappingRules(undefined))).toBe(name);
    expect(mapSslPrincipal(name, parseSslPrincipalMappingRules('DEFAULT'))).toBe(name);
  });

  it('the first rule whose pattern matches the whole name gives it, with $n and L / U', () => {
    const rules = parseSslPrincipalMappingRules('RULE:^CN=(.*?),OU=Admins.*$/admin-$1/, RULE:^CN=(.*?),OU=(.*?),.*$/$1@$2/U,\nRULE:^CN=(.*?),.*$/$1/L, DEFAULT');
    expect(mapSslPrincipal(name, rules)).toBe('KAFKA-CLIENT@SERVICEUSERS');
    expect(mapSslPrincipal('CN=root,OU=Admins,O=acme', rules)).toBe('admin-root');
    expect(mapSslPrincipal('CN=Bob,O=acme', rules)).toBe('bob');
    // No rule matches a name without a comma: DEFAULT keeps it.
    expect(mapSslPrincipal('CN=Bob', rules)).toBe('CN=Bob');
    // Patterns must match the whole name (Kafka uses Matcher.matches()).
    expect(mapSslPrincipal('xCN=Bob', parseSslPrincipalMappingRules('RULE:CN=(.*)/$1/,DEFAULT'))).toBe('xCN=Bob');
  });

  it('`\\/` in a rule stands for a slash; a name no rule matches is refused', () => {
    const rules = parseSslPrincipalMappingRules('RULE:^CN=(.*?)\\/(.*?),.*$/$1\\/$2/');
    expect(mapSslPrincipal('CN=team/app,O=acme', rules)).toBe('team/app');
    expect(() => mapSslPrincipal('O=acme', rules)).toThrow(expect.objectContaining({ code: 'NO_PRINCIPAL_MAPPING_RULE', retriable: false }));
  });

  it('a rule that does not parse is a configuration error', () => {
    for (const bad of ['RULE:^CN=(.*)$/$1', 'RULE:(/x/', 'SOMETHING']) {
      expect(() => parseSslPrincipalMappingRules(bad)).toThrow(expect.objectContaining({ code: 'SECURITY_CONFIG' }));
    }
  });

  it('applies to a certificate', () => {
    const cert = certificate('/O=gregor/OU=test/CN=alice');
    expect(certificatePrincipal(cert, parseSslPrincipalMappingRules('RULE:^CN=([^,]*),.*$/$1/U'))).toBe('User:ALICE');
  });
});
