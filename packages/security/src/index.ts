/**
 * @gregor/security: Kafka's authentication (SASL PLAIN and SCRAM, TLS principals) and the pieces
 * listeners are configured from, without sockets: the server applies them to connections.
 */
export { SecurityError, SaslAuthenticationError, SecurityConfigError, saslFailureMessage } from './errors.js';
export {
  type ScramMechanism, type ScramCredential, SCRAM_MECHANISMS, SCRAM_ITERATIONS_MIN, SCRAM_ITERATIONS_MAX, isScramMechanism, scramMechanismOfType,
  saltedPassword, credentialFromSaltedPassword, scramCredential, checkIterations, escapeSaslName, ScramServerExchange, ScramClientExchange,
  type ScramServerOptions,
} from './scram.js';
export { PlainServerExchange, plainClientMessage } from './plain.js';
export { type JaasEntry, parseJaasConfig, plainUsers, jaasClientCredentials } from './jaas.js';
export {
  SUPPORTED_SASL_MECHANISMS, type SaslMechanism, isSupportedSaslMechanism, type SaslServerSettings, type SaslServerExchange, type ScramCredentialSource,
  createSaslServerExchange,
} from './sasl.js';
export { ScramCredentialStore, SCRAM_CREDENTIALS_FILE } from './scram-credential-store.js';
export { ANONYMOUS_PRINCIPAL, USER_TYPE, userPrincipal, distinguishedName, certificatePrincipal, parsePrincipal } from './principal.js';
export { mapSslPrincipal, parseSslPrincipalMappingRules, type SslPrincipalMappingRule } from './ssl-principal-mapping.js';
export {
  SECURITY_PROTOCOLS, type SecurityProtocol, isSecurityProtocol, usesTls, usesSasl, type ClientAuth, type TlsServerSettings, type ListenerSecurity,
  type ListenerSecurityOptions, listenerProtocol, parseProtocolMap, listenerSecurityFromProperties,
} from './listener-security.js';
export {
  describeUserScramCredentials, alterUserScramCredentials, planAlterUserScramCredentials, type ScramCredentialChanges, type ScramCredentialListing,
} from './scram-credential-apis.js';
export { SecurityApis, SECURITY_API_KEYS, type SecuredHandler, type SecurityApisOptions, type AclBackend, type ScramCredentialBackend } from './security-apis.js';
export {
  type AclBinding, type AclBindingFilter, WILDCARD_PRINCIPAL, WILDCARD_HOST, aclBindingProblem, aclFilterProblem, patternMatchesName, filterMatches, sameBinding,
  aclNames, aclCode,
} from './acl.js';
export { StandardAuthorizer, type AuthorizerSettings, type AuthorizationRequest, parseSuperUsers } from './standard-authorizer.js';
export { AclStore, ACLS_FILE } from './acl-store.js';
export { createAcls, describeAcls, deleteAcls, planCreateAcls, planDeleteAcls } from './acl-apis.js';
