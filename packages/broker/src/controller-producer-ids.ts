/**
 * Producer id blocks from the active controller (Kafka's RPCProducerIdManager side of the
 * seam): AllocateProducerIds with this broker's id and epoch; the controller commits a
 * ProducerIds record before it answers, so no block is handed out twice in the cluster. An error
 * answer or no answer rejects, and the allocator answers InitProducerId with a retriable error
 * until a later request succeeds. Stateless; the allocator calls it from the event loop.
 */
import { ApiKey, ErrorCode } from '@gregor/protocol';
import type { ControllerChannel } from './channels.js';
import { BrokerError } from './errors.js';
import type { ProducerIdBlock, ProducerIdBlockSource } from './producer-id-allocator.js';

export const ALLOCATE_PRODUCER_IDS_VERSION = 0;

export class ControllerProducerIdBlockSource implements ProducerIdBlockSource {
  constructor(private readonly channel: ControllerChannel, private readonly brokerId: number, private readonly brokerEpoch: () => number) {}

  async nextBlock(): Promise<ProducerIdBlock> {
    const response = await this.channel.send(ApiKey.AllocateProducerIds, ALLOCATE_PRODUCER_IDS_VERSION, { brokerId: this.brokerId, brokerEpoch: this.brokerEpoch() });
    if (response.errorCode !== ErrorCode.NONE) {
      throw new BrokerError('PRODUCER_IDS_UNAVAILABLE', `AllocateProducerIds failed with error ${response.errorCode}`, ErrorCode.COORDINATOR_LOAD_IN_PROGRESS);
    }
    return { firstProducerId: response.producerIdStart, size: response.producerIdLen };
  }
}
