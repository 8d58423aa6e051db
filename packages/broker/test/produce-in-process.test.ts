/**
 * A Produce from Gregor's producer in the same process (RequestContext.recordsBuiltByProducer)
 * is appended without the broker computing its CRCs again or walking its records; any other
 * Produce has both checked. The batches below are broken in those two ways, so only the skipped
 * checks let them through.
 */
import { ApiKey, ErrorCode } from '@gregor/protocol';
import { writeBatchCrc } from '@gregor/records';
import { afterEach, describe, expect, it } from 'vitest';
import { batch, createTopic, openTestBroker, type TestBroker } from './helpers.js';

function produceBody(records: Buffer) {
  return { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 't', partitionData: [{ index: 0, records }] }] };
}

describe('produce from the in-process producer', () => {
  let test: TestBroker;
  afterEach(async () => {
    await test.broker.close();
  });

  it('takes the CRCs of records the producer built as checked, and checks every other request', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const records = batch(['a', 'b']);
    records[17] ^= 0xff; // the CRC field (bytes 17-20 of the batch) no longer matches
    const checked = await test.broker.handle(ApiKey.Produce, 9, produceBody(records), { clientHost: '/127.0.0.1' });
    expect(checked?.responses[0].partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.CORRUPT_MESSAGE });
    const trusted = await test.broker.handle(ApiKey.Produce, 9, produceBody(records), { clientHost: 'in-process', recordsBuiltByProducer: true });
    expect(trusted?.responses[0].partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
    expect(test.broker.partition('t', 0)?.logEndOffset).toBe(2);
  });

  it('does not walk the records the producer built, and walks every other request', async () => {
    test = await openTestBroker();
    await createTopic(test.broker, 't');
    const records = batch(['a', 'b']);
    records[61 + 3] = 2 * 5; // the first record's offset delta (zigzag 5, after length, attributes, timestamp delta 0)
    writeBatchCrc(records, 0, records.length); // a consistent CRC: only the walk finds the lie
    const checked = await test.broker.handle(ApiKey.Produce, 9, produceBody(records), { clientHost: '/127.0.0.1' });
    expect(checked?.responses[0].partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.INVALID_RECORD });
    const trusted = await test.broker.handle(ApiKey.Produce, 9, produceBody(records), { clientHost: 'in-process', recordsBuiltByProducer: true });
    expect(trusted?.responses[0].partitionResponses[0]).toMatchObject({ errorCode: ErrorCode.NONE, baseOffset: 0 });
  });
});
