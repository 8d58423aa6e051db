/**
 * A minimal stand-in broker for the producer's unit tests: serves ApiVersions, Metadata, Produce
 * (keeps every batch, assigns offsets) and InitProducerId. `holdProduce` parks Produce responses
 * until `releaseProduce()`, so tests can see the producer's buffer fill up. It also checks the
 * Transport contract that record buffers are lent until the answer: `lentBytesChanged` counts
 * record sets whose bytes changed before their answer (or ever, for acks=0), and `reusedMemory`
 * counts record sets in memory an earlier request already used (the producer's buffer reuse).
 */
import { Api, CLIENT_MAX_VERSION } from '../src/api.js';
import type { Body, RequestHandler } from '../src/transport.js';

export class FakeBroker implements RequestHandler {
  readonly batches = new Map<string, Buffer[]>();
  readonly produceRequests: Body[] = [];
  holdProduce = false;
  /** Error codes to answer the next Produce requests with, in order, instead of appending. */
  readonly produceErrors: number[] = [];
  private held: (() => void)[] = [];
  private readonly unanswered: { view: Buffer; copy: Buffer }[] = [];
  private readonly seenMemory = new Set<ArrayBufferLike>();
  private changedBeforeAnswer = 0;
  reusedMemory = 0;
  private readonly nextOffset = new Map<string, number>();
  /** Topics whose partitions Metadata describes with no leader (LEADER_NOT_AVAILABLE, leader -1). */
  readonly leaderless = new Set<string>();

  constructor(private readonly topics: Record<string, number>) {}

  /** Metadata describes `topic` with `partitions` partitions from now on. */
  addTopic(topic: string, partitions: number): void {
    this.topics[topic] = partitions;
  }

  /** Metadata answers UNKNOWN_TOPIC_OR_PARTITION for `topic` from now on. */
  deleteTopic(topic: string): void {
    delete this.topics[topic];
  }

  handle(apiKey: number, _apiVersion: number, body: Body): unknown {
    switch (apiKey) {
      case Api.ApiVersions:
        return { errorCode: 0, apiKeys: Object.entries(CLIENT_MAX_VERSION).map(([key, max]) => ({ apiKey: Number(key), minVersion: 0, maxVersion: max })) };
      case Api.Metadata:
        return this.metadata(body);
      case Api.InitProducerId:
        return { errorCode: 0, producerId: 1000, producerEpoch: 0 };
      case Api.Produce:
        return this.produce(body);
      default:
        throw new Error(`fake broker does not serve API ${apiKey}`);
    }
  }

  private metadata(body: Body): Body {
    const names: string[] = body.topics === null ? Object.keys(this.topics) : body.topics.map((t: Body) => t.name);
    return {
      brokers: [{ nodeId: 0, host: 'localhost', port: 9092, rack: null }],
      clusterId: 'fake',
      controllerId: 0,
      topics: names.map((name) =>
        this.topics[name] === undefined
          ? { errorCode: 3, name, topicId: '00000000-0000-0000-0000-000000000000', isInternal: false, partitions: [] }
          : {
              errorCode: 0,
              name,
              topicId: '00000000-0000-0000-0000-000000000001',
              isInternal: false,
              partitions: Array.from({ length: this.topics[name] }, (_, i) => ({ errorCode: this.leaderless.has(name) ? 5 : 0, partitionIndex: i, leaderId: this.leaderless.has(name) ? -1 : 0, leaderEpoch: 0, replicaNodes: [0], isrNodes: [0] })),
            },
      ),
    };
  }

  get lentBytesChanged(): number {
    return this.changedBeforeAnswer + this.unanswered.filter((l) => !l.view.equals(l.copy)).length;
  }

  private async produce(body: Body): Promise<Body> {
    this.produceRequests.push(body);
    const lent: { view: Buffer; copy: Buffer }[] = body.topicData.flatMap((t: Body) => t.partitionData.map((p: Body) => ({ view: p.records, copy: Buffer.from(p.records) })));
    for (const { view } of lent) {
      if (this.seenMemory.has(view.buffer)) this.reusedMemory++;
      this.seenMemory.add(view.buffer);
    }
    if (body.acks === 0) this.unanswered.push(...lent);
    if (this.holdProduce) await new Promise<void>((resolve) => this.held.push(resolve));
    for (const { view, copy } of lent) if (!view.equals(copy)) this.changedBeforeAnswer++;
    const errorCode = this.produceErrors.shift();
    if (errorCode !== undefined) {
      return {
        responses: body.topicData.map((t: Body) => ({ name: t.name, partitionResponses: t.partitionData.map((p: Body) => ({ index: p.index, errorCode, baseOffset: -1, logAppendTimeMs: -1, logStartOffset: -1, recordErrors: [], errorMessage: null })) })),
        throttleTimeMs: 0,
      };
    }
    return {
      responses: body.topicData.map((t: Body) => ({
        name: t.name,
        partitionResponses: t.partitionData.map((p: Body) => {
          const key = `${t.name}-${p.index}`;
          const list = this.batches.get(key) ?? [];
          this.batches.set(key, list);
          // Record sets are lent until the answer (the producer reuses their memory): keep a copy.
          list.push(Buffer.from(p.records));
          const baseOffset = this.nextOffset.get(key) ?? 0;
          let count = 0;
          for (let at = 0; at < p.records.length; ) {
            count += p.records.readInt32BE(at + 57);
            at += 12 + p.records.readInt32BE(at + 8);
          }
          this.nextOffset.set(key, baseOffset + count);
          return { index: p.index, errorCode: 0, baseOffset, logAppendTimeMs: -1, logStartOffset: 0, recordErrors: [], errorMessage: null };
        }),
      })),
      throttleTimeMs: 0,
    };
  }

  releaseProduce(): void {
    for (const resolve of this.held.splice(0)) resolve();
  }

  /** Answers one held Produce request, the `index`-th oldest (modulo the number held). */
  releaseOneProduce(index: number): void {
    if (this.held.length === 0) return;
    this.held.splice(index % this.held.length, 1)[0]();
  }

  get heldProduceCount(): number {
    return this.held.length;
  }
}
