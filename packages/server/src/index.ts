/**
 * @gregor/server: the TCP listener that makes a Broker speak Kafka's wire protocol.
 */
export { Server, type ServerOptions, type ListenOptions, type BoundAddress } from './server.js';
export { type ServerConfig, defaultServerConfig, resolveServerConfig } from './config.js';
export type { MemoryUsage } from './memory-budget.js';
export { type Logger, stderrLogger, silentLogger } from './logger.js';
export { type RequestHandler, type RequestContext, isNoResponse } from './handler.js';
export { type WireCodec, type FrameSplitter, type RequestHeader, type ResponseBytes, API_VERSIONS_KEY } from './wire.js';
export { protocolCodec } from './protocol-codec.js';
export { connectionChannel, requestChannel, type ConnectionEvent, type RequestEvent } from './channels.js';
export { ServerError, ServerStateError } from './errors.js';
export { withSaslApiVersions, AUTHENTICATION_FRAMES_QUEUED_MAX } from './sasl-authenticator.js';
