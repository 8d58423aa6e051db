/** The shape every handler in this directory has; the registry in index.ts maps API keys to them. */
import type { Broker } from '../broker.js';
import type { Body, RequestContext } from '../context.js';

export type Handler = (broker: Broker, apiVersion: number, body: Body, context: RequestContext) => Body | null | Promise<Body | null>;
