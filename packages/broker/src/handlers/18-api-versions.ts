/**
 * ApiVersions (API key 18), versions 0-3.
 * Lists every API this broker has a handler for, with the versions `@gregor/protocol` describes.
 * A request of a version we do not know is answered by the server in the v0 format with
 * UNSUPPORTED_VERSION before it reaches the broker (protocol's encodeApiVersionsFallback).
 * Deviations: no supported or finalized features (KIP-584); throttleTimeMs is 0.
 */
import { type ApiVersionsRequest, type ApiVersionsResponseInput, ErrorCode, servedApiVersions } from '@gregor/protocol';
import type { Broker } from '../broker.js';
import type { Entry } from './types.js';

export function apiVersionsList(handledApiKeys: ReadonlySet<number>): Entry<ApiVersionsResponseInput['apiKeys']>[] {
  return servedApiVersions()
    .filter((range) => handledApiKeys.has(range.apiKey))
    .map((range): Entry<ApiVersionsResponseInput['apiKeys']> => ({ apiKey: range.apiKey, minVersion: range.minVersion, maxVersion: range.maxVersion }));
}

export function makeApiVersionsHandler(handledApiKeys: ReadonlySet<number>) {
  return function handleApiVersions(_broker: Broker, _apiVersion: number, _body: ApiVersionsRequest): ApiVersionsResponseInput {
    return {
      errorCode: ErrorCode.NONE,
      apiKeys: apiVersionsList(handledApiKeys),
      throttleTimeMs: 0,
      supportedFeatures: [],
      finalizedFeaturesEpoch: -1,
      finalizedFeatures: [],
      zkMigrationReady: false,
    };
  };
}
