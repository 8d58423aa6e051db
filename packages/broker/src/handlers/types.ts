/** The shape every handler in this directory has; the registry in index.ts maps API keys to them. */
import type { DescribedApiKey, RequestBody, ResponseInput } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Body, RequestContext } from '../context.js';

/**
 * The handler of API key K: it takes `@gregor/protocol`'s decoded request for K and answers the
 * response K's encoder accepts, or null for no response (Produce with acks=0).
 */
export type Handler<K extends DescribedApiKey> = (
  broker: Broker,
  apiVersion: number,
  request: RequestBody<K>,
  context: RequestContext,
) => ResponseInput<K> | null | Promise<ResponseInput<K> | null>;

/** A handler as Broker.handle dispatches to it, by a number API key read off the wire. */
export type AnyHandler = (broker: Broker, apiVersion: number, body: Body, context: RequestContext) => Body | null | Promise<Body | null>;

/** The element type of a list field of a message type: `Entry<FetchResponseInput['responses']>`. */
export type Entry<L> = NonNullable<L> extends readonly (infer E)[] ? E : never;
