/**
 * How a node reaches the other nodes (Kafka's NetworkClients between nodes). Three channels, each
 * with its own connection to each peer, as Kafka keeps the raft client's, the broker-to-controller
 * channel's and the replica fetchers' network clients apart:
 *   - `quorum`: the raft client's Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch and FetchSnapshot
 *     of `__cluster_metadata`, to a voter's controller listener (`controller.quorum.voters`);
 *   - `controller`: the broker's requests to the active controller (registration, heartbeats,
 *     AlterPartition, forwarded admin requests), to the same listener;
 *   - `broker`: the replica fetchers' Fetch and OffsetForLeaderEpoch, to a broker's inter-broker
 *     listener (its endpoint in the metadata image), authenticated with the broker's own SASL
 *     credentials when that listener is SASL_PLAINTEXT (the first two likewise on a SASL_PLAINTEXT
 *     controller listener).
 * Separate connections matter: a server answers a connection's requests in order and starts a
 * Fetch only once the earlier answers are out, so a heartbeat the controller answers only after a
 * commit must never sit in front of the raft Fetch that makes the commit.
 *
 * `PeerTransport` is the one method that moves a request: over TCP (`TcpPeerTransport`, one
 * `@gregor/client` TcpTransport per channel and destination, so one destination's requests keep
 * their order), or over the simulation's SimNetwork (`SimPeerTransport`). A request to this
 * node itself never touches a socket: `NodeNetwork` hands it to the node's own listener handler
 * in process, through the protocol's codecs both ways, so the handler sees exactly what a peer's
 * request would carry (every field present, nothing shared with the caller).
 *
 * Single-threaded: every method may be called at any time; transports open connections lazily
 * and reconnect after failures with backoff.
 */
import { decodeRequest, decodeResponse, encodeRequest, encodeResponse } from '@gregor/protocol';
import { type Body, type Clock, type SaslCredentials, TcpTransport } from '@gregor/client';
import type { SimNetwork } from '@gregor/cluster';
import { NodeNetworkError } from './errors.js';

/** The node's channels to its peers (the first two reach a voter's controller listener, the third a broker's). */
export type PeerChannel = 'quorum' | 'controller' | 'broker';

/** The listeners of this node that answer its own requests to itself. */
export type LocalListener = 'controller' | 'broker';

function listenerOf(channel: PeerChannel): LocalListener {
  return channel === 'broker' ? 'broker' : 'controller';
}

export interface PeerAddress {
  host: string;
  port: number;
}

/** A handler of one of this node's listeners, as the server calls it. */
export interface ListenerHandler {
  handle(apiKey: number, apiVersion: number, body: Body, context: Body): Promise<unknown> | unknown;
}

/** Moves one request to a peer and brings back its response body. Rejects when the peer cannot be reached or does not answer in time. */
export interface PeerTransport {
  send(channel: PeerChannel, destinationId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body>;
  close(): Promise<void>;
}

export interface TcpPeerTransportOptions {
  /** The client id of the node's requests (`gregor-node-<id>`). */
  clientId: string;
  /** Where each voter's controller listener is (`controller.quorum.voters`). */
  voterAddress: (voterId: number) => PeerAddress | undefined;
  /** Where each broker's inter-broker listener is (from the metadata image). */
  brokerAddress: (brokerId: number) => PeerAddress | undefined;
  /** The node's clock: request and connection timeouts and reconnect backoff run on it. */
  clock: Clock;
  /** No answer in this long fails the request. */
  requestTimeoutMs: number;
  connectionTimeoutMs: number;
  /** First and longest wait before reconnecting to a peer that failed. */
  reconnectBackoffMs: number;
  reconnectBackoffMaxMs: number;
  /** The broker's own credentials on a SASL inter-broker listener (the `broker` channel only). */
  brokerSasl?: SaslCredentials;
  /** The node's own credentials on a SASL controller listener (the `quorum` and `controller` channels). */
  voterSasl?: SaslCredentials;
}

/** Requests to peers over TCP, with Kafka's protocol, one connection per (channel, peer). */
export class TcpPeerTransport implements PeerTransport {
  private readonly transports = new Map<string, { address: string; transport: TcpTransport }>();
  private closed = false;

  constructor(private readonly options: TcpPeerTransportOptions) {}

  async send(channel: PeerChannel, destinationId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    if (this.closed) throw new NodeNetworkError('NETWORK_CLOSED', 'the node network is closed');
    const address = channel === 'broker' ? this.options.brokerAddress(destinationId) : this.options.voterAddress(destinationId);
    if (address === undefined) throw new NodeNetworkError('PEER_ADDRESS_UNKNOWN', `no ${listenerOf(channel)} listener address is known for node ${destinationId}`);
    const transport = this.transportTo(channel, destinationId, `${address.host}:${address.port}`);
    return transport.request(apiKey, apiVersion, body);
  }

  /** The transport of (channel, peer); a peer that moved to another address gets a new one. */
  private transportTo(channel: PeerChannel, destinationId: number, address: string): TcpTransport {
    const sasl = channel === 'broker' ? this.options.brokerSasl : this.options.voterSasl;
    const key = `${channel}:${destinationId}`;
    const existing = this.transports.get(key);
    if (existing !== undefined && existing.address === address) return existing.transport;
    if (existing !== undefined) void existing.transport.close();
    const transport = new TcpTransport({
      brokers: [address],
      clientId: this.options.clientId,
      clock: this.options.clock,
      requestTimeoutMs: this.options.requestTimeoutMs,
      connectionTimeoutMs: this.options.connectionTimeoutMs,
      reconnectBackoffMs: this.options.reconnectBackoffMs,
      reconnectBackoffMaxMs: this.options.reconnectBackoffMaxMs,
      ...(sasl === undefined ? {} : { sasl }),
    });
    this.transports.set(key, { address, transport });
    return transport;
  }

  async close(): Promise<void> {
    this.closed = true;
    const transports = [...this.transports.values()];
    this.transports.clear();
    await Promise.all(transports.map(({ transport }) => transport.close()));
  }
}

/**
 * Requests to peers over the simulation's SimNetwork: one handler per node answers both its
 * listeners (the node routes by API), so the listener kind is not needed on the wire.
 */
export class SimPeerTransport implements PeerTransport {
  constructor(
    private readonly network: SimNetwork,
    private readonly nodeId: number,
  ) {}

  send(_channel: PeerChannel, destinationId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    // The endpoint is typed for the quorum's API keys; the simulated network carries any API.
    const endpoint = this.network.endpoint(this.nodeId) as unknown as { send(destinationId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body> };
    return endpoint.send(destinationId, apiKey, apiVersion, body);
  }

  async close(): Promise<void> {}
}

/**
 * The node's network: requests to peers go through the PeerTransport, requests to itself to its
 * own listener handlers (set once they exist), through the codecs.
 */
export class NodeNetwork {
  private readonly localHandlers = new Map<LocalListener, { handler: ListenerHandler; listenerName: string }>();
  private correlationId = 0;

  constructor(
    readonly nodeId: number,
    private readonly transport: PeerTransport,
  ) {}

  /** This node's own handler of `listener` (named `listenerName`), for requests it addresses to itself. */
  setLocalHandler(listener: LocalListener, handler: ListenerHandler, listenerName: string): void {
    this.localHandlers.set(listener, { handler, listenerName });
  }

  send(channel: PeerChannel, destinationId: number, apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    if (destinationId === this.nodeId) return this.sendToSelf(listenerOf(channel), apiKey, apiVersion, body);
    return this.transport.send(channel, destinationId, apiKey, apiVersion, body);
  }

  private async sendToSelf(listener: LocalListener, apiKey: number, apiVersion: number, body: Body): Promise<Body> {
    const local = this.localHandlers.get(listener);
    if (local === undefined) throw new NodeNetworkError('PEER_ADDRESS_UNKNOWN', `node ${this.nodeId} has no ${listener} listener`);
    const correlationId = (this.correlationId = (this.correlationId + 1) & 0x7fffffff);
    const clientId = `gregor-node-${this.nodeId}`;
    const request = decodeRequest(encodeRequest({ apiKey, apiVersion, correlationId, clientId }, body).subarray(4)).body;
    const context = { clientId, clientHost: 'in-process', correlationId, listenerName: local.listenerName };
    const response = await local.handler.handle(apiKey, apiVersion, request, context);
    return decodeResponse(apiKey, apiVersion, encodeResponse(apiKey, apiVersion, correlationId, response as Body).subarray(4)).body;
  }

  close(): Promise<void> {
    return this.transport.close();
  }
}
