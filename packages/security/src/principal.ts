/**
 * Kafka principals as strings `<type>:<name>` (`User:alice`): what the authenticator gives a
 * connection and what ACLs name. A connection nobody authenticated (PLAINTEXT, SSL without a client
 * certificate) is `User:ANONYMOUS`, as with Kafka's default principal builder; an SSL client
 * certificate gives `User:` and its subject's distinguished name in RFC 2253 order (most specific
 * first: `User:CN=alice,OU=eng,O=acme,C=US`).
 */
import type { X509Certificate } from 'node:crypto';

export const USER_TYPE = 'User';
export const ANONYMOUS_PRINCIPAL = 'User:ANONYMOUS';

export function userPrincipal(name: string): string {
  return `${USER_TYPE}:${name}`;
}

/**
 * The subject of a certificate as RFC 2253 writes a distinguished name. Node gives the subject
 * one attribute per line in the certificate's order (least specific first); RFC 2253 reverses it.
 */
export function distinguishedName(certificate: X509Certificate): string {
  return certificate.subject.split('\n').filter((line) => line !== '').reverse().join(',');
}

export function certificatePrincipal(certificate: X509Certificate): string {
  return userPrincipal(distinguishedName(certificate));
}

/** Splits `User:alice` into its type and name; null when there is no ':' or either part is empty. */
export function parsePrincipal(principal: string): { type: string; name: string } | null {
  const colon = principal.indexOf(':');
  if (colon <= 0 || colon === principal.length - 1) return null;
  return { type: principal.slice(0, colon), name: principal.slice(colon + 1) };
}
