/**
 * diagnostics_channel events of the TCP server. Names are stable: metrics and the dashboard
 * subscribe to them.
 */
import diagnosticsChannel from 'node:diagnostics_channel';

/** Published when a connection opens or closes. */
export interface ConnectionEvent {
  event: 'open' | 'close' | 'refused';
  connectionId: number;
  remoteAddress: string | undefined;
  remotePort: number | undefined;
  /** Why the connection closed, when the server closed it. */
  reason?: string;
}

/** Published when a request's answer is ready (it may still wait behind earlier answers), or when no answer is due (acks=0). */
export interface RequestEvent {
  connectionId: number;
  apiKey: number;
  apiVersion: number;
  correlationId: number;
  clientId: string | null;
  /** From the frame's dispatch to the answer being ready, in milliseconds. */
  durationMs: number;
  /** Set when the broker failed the request as a whole (the connection gets an error answer or closes). */
  failed?: string;
}

export const connectionChannel = diagnosticsChannel.channel('gregor:server:connection');
export const requestChannel = diagnosticsChannel.channel('gregor:server:request');
