/**
 * Kafka principals as strings `<type>:<name>` (`User:alice`): what the authenticator gives a
 * connection and what ACLs name. A connection nobody authenticated (PLAINTEXT, SSL without a client
 * certificate) is `User:ANONYMOUS`, as with Kafka's default principal builder; an SSL client
 * certificate gives `User:` and its subject's distinguished name as Java's
 * `X500Principal.getName()` writes it (RFC 2253), passed through `ssl.principal.mapping.rules`
 * (`ssl-principal-mapping.ts`).
 *
 * The subject is read from the certificate's DER (Node's `subject` text loses the escaping and the
 * grouping of multi-valued RDNs): RDNs most specific first (the reverse of the certificate's
 * order), the attributes of a multi-valued RDN joined by `+` in their encoded order; CN, C, L, ST,
 * O, OU, STREET, DC and UID by keyword, any other attribute (emailAddress, serialNumber...) as its
 * OID with the value's DER in hex (`1.2.840.113549.1.9.1=#1611...`); in string values `, = + < > #
 * ; " \` are escaped with a backslash, NUL as `\00`, and leading and trailing spaces with a
 * backslash each. Pure functions.
 */
import type { X509Certificate } from 'node:crypto';
import { SecurityError } from './errors.js';
import { mapSslPrincipal, type SslPrincipalMappingRule } from './ssl-principal-mapping.js';

export const USER_TYPE = 'User';
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

export function userPrincipal(name: string): string {
  return `${USER_TYPE}:${name}`;
}

/** The certificate's subject as `X500Principal.getName()` gives it (RFC 2253). */
export function distinguishedName(certificate: X509Certificate): string {
  return formatName(subjectOf(certificate.raw));
}

/** `User:` and the subject, mapped by `ssl.principal.mapping.rules` when given (Kafka's DEFAULT keeps it). */
export function certificatePrincipal(certificate: X509Certificate, rules?: readonly SslPrincipalMappingRule[]): string {
  const name = distinguishedName(certificate);
  return userPrincipal(rules === undefined ? name : mapSslPrincipal(name, rules));
}

/** Splits `User:alice` into its type and name; null when there is no ':' or either part is empty. */
export function parsePrincipal(principal: string): { type: string; name: string } | null {
  const colon = principal.indexOf(':');
  if (colon <= 0 || colon === principal.length - 1) return null;
  return { type: principal.slice(0, colon), name: principal.slice(colon + 1) };
}

/** The RFC 2253 attribute keywords Java writes by name; anything else is written as its OID. */
const KEYWORDS: ReadonlyMap<string, string> = new Map([
  ['2.5.4.3', 'CN'], ['2.5.4.6', 'C'], ['2.5.4.7', 'L'], ['2.5.4.8', 'ST'], ['2.5.4.10', 'O'], ['2.5.4.11', 'OU'],
  ['2.5.4.9', 'STREET'], ['0.9.2342.19200300.100.1.25', 'DC'], ['0.9.2342.19200300.100.1.1', 'UID'],
]);

const TAG_SEQUENCE = 0x30;
const TAG_SET = 0x31;
const TAG_OID = 0x06;
const TAG_UTF8 = 0x0c;
const TAG_PRINTABLE = 0x13;
const TAG_T61 = 0x14;
const TAG_IA5 = 0x16;
const TAG_GENERAL = 0x1b;
const TAG_BMP = 0x1e;
const STRING_TAGS: ReadonlySet<number> = new Set([TAG_UTF8, TAG_PRINTABLE, TAG_T61, TAG_IA5, TAG_GENERAL, TAG_BMP]);
const ESCAPED = new Set([',', '=', '+', '<', '>', '#', ';', '"', '\\']);

interface Element {
  tag: number;
  /** Offsets in the whole buffer: the element's first byte, its content, and the end. */
  start: number;
  contentStart: number;
  end: number;
}

interface Attribute {
  oid: string;
  tag: number;
  /** The whole DER encoding of the value (for the `#hex` form) and its content. */
  encoded: Buffer;
  content: Buffer;
}

function invalid(reason: string): SecurityError {
  return new SecurityError('INVALID_CERTIFICATE', `the certificate's subject cannot be read: ${reason}`);
}

function readElement(der: Buffer, offset: number, limit: number): Element {
  if (offset + 2 > limit) throw invalid('truncated element');
  const tag = der[offset];
  let length = der[offset + 1];
  let contentStart = offset + 2;
  if (length & 0x80) {
    const lengthBytes = length & 0x7f;
    if (lengthBytes === 0 || lengthBytes > 4 || contentStart + lengthBytes > limit) throw invalid('bad length');
    length = 0;
    for (let index = 0; index < lengthBytes; index++) length = length * 256 + der[contentStart + index];
    contentStart += lengthBytes;
  }
  const end = contentStart + length;
  if (end > limit) throw invalid('element longer than its container');
  return { tag, start: offset, contentStart, end };
}

function children(der: Buffer, parent: Element): Element[] {
  const out: Element[] = [];
  for (let offset = parent.contentStart; offset < parent.end;) {
    const child = readElement(der, offset, parent.end);
    out.push(child);
    offset = child.end;
  }
  return out;
}

/** Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version?, serial, signature, issuer, validity, subject, ... }, ... } */
function subjectOf(der: Buffer): Attribute[][] {
  const certificate = readElement(der, 0, der.length);
  if (certificate.tag !== TAG_SEQUENCE) throw invalid('not a SEQUENCE');
  const tbs = children(der, certificate)[0];
  if (tbs?.tag !== TAG_SEQUENCE) throw invalid('no tbsCertificate');
  const fields = children(der, tbs);
  const skip = fields[0]?.tag === 0xa0 ? 1 : 0;
  const subject = fields[skip + 4];
  if (subject?.tag !== TAG_SEQUENCE) throw invalid('no subject');
  return children(der, subject).map((rdn) => {
    if (rdn.tag !== TAG_SET) throw invalid('an RDN is not a SET');
    return children(der, rdn).map((pair) => {
      const [type, value] = children(der, pair);
      if (pair.tag !== TAG_SEQUENCE || type?.tag !== TAG_OID || value === undefined) throw invalid('an attribute is not (OID, value)');
      return { oid: decodeOid(der.subarray(type.contentStart, type.end)), tag: value.tag, encoded: der.subarray(value.start, value.end), content: der.subarray(value.contentStart, value.end) };
    });
  });
}

function decodeOid(bytes: Buffer): string {
  if (bytes.length === 0) throw invalid('empty OID');
  const arcs: number[] = [];
  let value = 0;
  for (const byte of bytes) {
    value = value * 128 + (byte & 0x7f);
    if ((byte & 0x80) === 0) {
      arcs.push(value);
      value = 0;
    }
  }
  const first = arcs[0] < 80 ? Math.floor(arcs[0] / 40) : 2;
  return [first, arcs[0] - first * 40, ...arcs.slice(1)].join('.');
}

/** RDNs most specific first, attributes of one RDN in their encoded order. */
function formatName(rdns: readonly (readonly Attribute[])[]): string {
  return [...rdns].reverse().map((rdn) => rdn.map(formatAttribute).join('+')).join(',');
}

function formatAttribute(attribute: Attribute): string {
  const keyword = KEYWORDS.get(attribute.oid);
  if (keyword === undefined || !STRING_TAGS.has(attribute.tag)) return `${keyword ?? attribute.oid}=#${attribute.encoded.toString('hex')}`;
  return `${keyword}=${escapeValue(decodeString(attribute))}`;
}

function decodeString(attribute: Attribute): string {
  if (attribute.tag === TAG_BMP) {
    if (attribute.content.length % 2 !== 0) throw invalid('a BMPString of odd length');
    return Buffer.from(attribute.content).swap16().toString('utf16le');
  }
  if (attribute.tag === TAG_T61) return attribute.content.toString('latin1');
  return attribute.content.toString('utf8');
}

/** Java's escaping: the special characters anywhere, NUL as `\00`, leading and trailing spaces (and CRs). */
function escapeValue(value: string): string {
  const chars = [...value];
  let lead = 0;
  while (lead < chars.length && (chars[lead] === ' ' || chars[lead] === '\r')) lead++;
  let trail = chars.length - 1;
  while (trail >= 0 && (chars[trail] === ' ' || chars[trail] === '\r')) trail--;
  return chars.map((char, index) => {
    if (char === '\u0000') return '\\00';
    if (ESCAPED.has(char) || index < lead || index > trail) return `\\${char}`;
    return char;
  }).join('');
}
