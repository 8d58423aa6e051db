/**
 * The broker as the server sees it: one function per request. `@gregor/broker`'s `Broker` has this
 * shape; tests of the connection machinery pass a fake.
 */

/** Who sent a request: passed to the broker with every request. */
export interface RequestContext {
  connectionId: number;
  clientId: string | null;
  clientHost: string;
  correlationId: number;
  /** The name of the listener the request came in on (`PLAINTEXT`, `CONTROLLER`, ...). */
  listenerName: string;
  /**
   * Who sent it, as Kafka's principals: `User:<name>` after SASL, `User:<certificate subject>` on
   * an SSL listener with a client certificate, else `User:ANONYMOUS`.
   */
  principal: string;
  /**
   * Given to every write request (Produce, OffsetCommit, ...): the broker may call it once the
   * request has changed what it will change and only its answer is still waiting (an acks=all
   * Produce whose batches are appended and wait for replication). The connection then starts its
   * next write, so the appends of pipelined Produce requests do not wait for each other's
   * replication. Calling it is optional; answers still go out in arrival order.
   */
  writeDone?: () => void;
  /**
   * Always true here: the request was decoded from a frame read off this connection, and no one
   * else holds its bytes, so the broker may keep views of them (a leader keeps appended record
   * sets for its followers' next Fetch).
   */
  recordBytesOwned: true;
}

export interface RequestHandler {
  /**
   * Answers one decoded request with the response body to encode for the same version. A result
   * of `null` or `undefined` means "send no response" (a Produce with acks=0).
   */
  handle(apiKey: number, apiVersion: number, body: Record<string, unknown>, context: RequestContext): Promise<unknown>;
  /** Told the address clients should use, once a listener it answers for is bound. */
  setAdvertisedListener?(host: string, port: number, listenerName: string): void;
}

/** Whether a handler result means that no response goes on the wire. */
export function isNoResponse(result: unknown): boolean {
  return result === null || result === undefined;
}
