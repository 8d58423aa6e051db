/**
 * @gregor/console: the HTTP side of a broker process. One listener serves the web console (static
 * files in `static/`, no build step), the REST API of seed 001 (`/api/topics`, `/api/messages/<t>`,
 * `/api/stats`, `/api/latest/<t>`, groups, brokers, alerts), a live tail over server-sent events,
 * a produce form, `/metrics` in Prometheus format (Kafka's JMX-exporter names) and `/health`.
 * It reads through a Kafka client (in-process or TCP), never the data directory.
 */
export { ConsoleServer, type ConsoleServerOptions, type ConsoleAddress } from './console-server.js';
export { consoleConfigDefaults, resolveConsoleConfig, type ConsoleConfig } from './config.js';
export { ConsoleError } from './errors.js';
export { ConsoleMetrics, requestName, type LocalBroker, type LocalPartitionStats, type NetworkServer } from './metrics.js';
export { evaluateAlerts, type AlertCheck, WAITING_REQUESTS } from './alerts.js';
export { viewField, type FieldFormat, type FieldView, type RecordView } from './record-view.js';
export { STATIC_DIR, CONTENT_SECURITY_POLICY } from './static-files.js';
