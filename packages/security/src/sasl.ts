/**
 * A listener's SASL side: which mechanisms it offers (`sasl.enabled.mechanisms`), PLAIN's users
 * (from the listener's JAAS line) and SCRAM's credentials (the credential store), and one
 * server exchange per connection for the mechanism the client chose.
 */
import { PlainServerExchange } from './plain.js';
import { isScramMechanism, type ScramCredential, type ScramMechanism, ScramServerExchange } from './scram.js';

/** The mechanisms Gregor serves (Kafka also has GSSAPI and OAUTHBEARER). */
export const SUPPORTED_SASL_MECHANISMS = ['PLAIN', 'SCRAM-SHA-256', 'SCRAM-SHA-512'] as const;
export type SaslMechanism = (typeof SUPPORTED_SASL_MECHANISMS)[number];

export function isSupportedSaslMechanism(name: string): name is SaslMechanism {
  return (SUPPORTED_SASL_MECHANISMS as readonly string[]).includes(name);
}

/** Where SCRAM credentials are looked up (the ScramCredentialStore has this shape). */
export interface ScramCredentialSource {
  get(username: string, mechanism: ScramMechanism): ScramCredential | undefined;
}

export interface SaslServerSettings {
  /** Mechanisms offered, in the order the handshake lists them. */
  enabledMechanisms: readonly SaslMechanism[];
  /** PLAIN's users and passwords (JAAS `user_<name>="<password>"`). */
  plainUsers?: ReadonlyMap<string, string>;
  scramCredentials?: ScramCredentialSource;
  /**
   * Session lifetime per mechanism (Kafka's `connections.max.reauth.ms`, KIP-368): a client that
   * authenticated with it must re-authenticate within this many ms or its connection is closed at
   * its next request. Absent or 0: sessions do not expire.
   */
  connectionsMaxReauthMs?: Readonly<Partial<Record<SaslMechanism, number>>>;
}

/** One connection's server side of a SASL exchange, whatever the mechanism. */
export interface SaslServerExchange {
  readonly mechanism: string;
  readonly isComplete: boolean;
  /** The authenticated user, once complete. */
  readonly username: string;
  /** The server's answer to a client message; throws SaslAuthenticationError on failure. */
  evaluate(token: Buffer): Buffer;
}

/** A new exchange for `mechanism`, or undefined when this listener does not offer it. */
export function createSaslServerExchange(settings: SaslServerSettings, mechanism: string): SaslServerExchange | undefined {
  if (!(settings.enabledMechanisms as readonly string[]).includes(mechanism)) return undefined;
  if (mechanism === 'PLAIN') return new PlainServerExchange((username) => settings.plainUsers?.get(username));
  if (isScramMechanism(mechanism)) {
    return new ScramServerExchange({ mechanism, credential: (username) => settings.scramCredentials?.get(username, mechanism) });
  }
  return undefined;
}
