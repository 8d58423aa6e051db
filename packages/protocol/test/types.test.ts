import { describe, expectTypeOf, it } from 'vitest';
import { ApiKey, decodeResponse, encodeResponse, type FetchResponse, type ProduceRequest, type RequestBody, type ResponseBody, type ResponseInput } from '../src/index.js';

describe('TypeScript types derived from the descriptions', () => {
  it('type record sets as Buffer | null, int64 as number, nullable strings as string | null', () => {
    expectTypeOf<RequestBody<0>['topicData'][number]['partitionData'][number]['records']>().toEqualTypeOf<Buffer | null>();
    expectTypeOf<ResponseBody<1>['responses'][number]['partitions'][number]['highWatermark']>().toEqualTypeOf<number>();
    expectTypeOf<RequestBody<0>['transactionalId']>().toEqualTypeOf<string | null>();
    expectTypeOf<ResponseBody<3>['topics'][number]['topicId']>().toEqualTypeOf<string>();
    expectTypeOf<RequestBody<3>['topics']>().toEqualTypeOf<Array<{ topicId: string; name: string | null }> | null>();
  });

  it('type decodeResponse by api key and let encoders take partial bodies', () => {
    const frame = encodeResponse(ApiKey.Heartbeat, 4, 1, { errorCode: 0 });
    const { body } = decodeResponse(ApiKey.Heartbeat, 4, frame.subarray(4));
    expectTypeOf(body.errorCode).toEqualTypeOf<number>();
    expectTypeOf<{ errorCode: number }>().toMatchTypeOf<ResponseInput<12>>();
  });

  it('name each message body', () => {
    expectTypeOf<ProduceRequest>().toEqualTypeOf<RequestBody<0>>();
    expectTypeOf<FetchResponse['responses'][number]['partitions'][number]['records']>().toEqualTypeOf<Buffer | null>();
  });
});
