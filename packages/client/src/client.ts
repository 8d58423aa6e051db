/**
 * The entry point, kafkajs's `new Kafka({ brokers, clientId })` shape: `new Client(...)` over TCP,
 * or `createClient({ transport })` over any Transport (the facade passes an InProcessTransport).
 * Over TCP each producer, consumer and admin gets its own TcpTransport (kafkajs gives each its own
 * connections) and closes it on disconnect; a transport passed in is shared and left open, since
 * its owner closes it. `clock` (default `systemClock`) reaches everything that reads the time or
 * sets a timer: the TCP transports, and each producer, consumer and admin through its Cluster.
 */
import { Admin } from './admin.js';
import { Cluster, type ClusterOptions } from './cluster.js';
import { Consumer, type ConsumerOptions } from './consumer.js';
import { Producer, type ProducerOptions } from './producer.js';
import { TcpTransport, type TcpTransportOptions } from './tcp-transport.js';
import type { Transport } from './transport.js';

export interface ClientOptions extends Omit<TcpTransportOptions, 'brokers'>, ClusterOptions {
  brokers: string[];
}

export class Client {
  private readonly makeTransport: () => { transport: Transport; owned: boolean };

  constructor(options: ClientOptions | { transport: Transport; clientId?: string } & ClusterOptions) {
    if ('transport' in options) {
      const transport = options.transport;
      this.makeTransport = () => ({ transport, owned: false });
    } else {
      this.makeTransport = () => ({ transport: new TcpTransport(options), owned: true });
    }
    this.clusterOptions = options;
  }

  private readonly clusterOptions: ClusterOptions;

  private cluster(overrides: ClusterOptions = {}): { cluster: Cluster; owned: boolean } {
    const { transport, owned } = this.makeTransport();
    return { cluster: new Cluster(transport, { ...pickClusterOptions(this.clusterOptions), ...overrides }), owned };
  }

  /** `allowAutoTopicCreation` defaults to true, as kafkajs: sending to a missing topic creates it (when the broker allows). */
  producer(options: ProducerOptions & { allowAutoTopicCreation?: boolean } = {}): Producer {
    const { cluster, owned } = this.cluster({ allowAutoTopicCreation: options.allowAutoTopicCreation ?? this.clusterOptions.allowAutoTopicCreation ?? true });
    return new Producer(cluster, options, owned);
  }

  /** `groupId` is required; `allowAutoTopicCreation` defaults to true, as kafkajs. */
  consumer(options: ConsumerOptions & { allowAutoTopicCreation?: boolean }): Consumer {
    const { cluster, owned } = this.cluster({ allowAutoTopicCreation: options?.allowAutoTopicCreation ?? this.clusterOptions.allowAutoTopicCreation ?? true });
    return new Consumer(cluster, options, owned);
  }

  /** The admin never creates topics by looking at them (kafkajs's admin sends allowAutoTopicCreation false). */
  admin(): Admin {
    const { cluster, owned } = this.cluster({ allowAutoTopicCreation: false });
    return new Admin(cluster, owned);
  }
}

function pickClusterOptions(options: ClusterOptions): ClusterOptions {
  return { allowAutoTopicCreation: options.allowAutoTopicCreation, metadataMaxAgeMs: options.metadataMaxAgeMs, clock: options.clock };
}

/** A client over an existing transport (in-process or TCP); the caller closes the transport. */
export function createClient(options: { transport: Transport; clientId?: string } & ClusterOptions): Client {
  return new Client(options);
}
