/**
 * The admin client's security calls: ACLs (kafkajs's createAcls / describeAcls / deleteAcls shape,
 * with Kafka's numeric codes) and SCRAM credentials (the Java admin's
 * alterUserScramCredentials / describeUserScramCredentials; the salted password is computed here,
 * so the password never leaves the client).
 */
import { randomBytes } from 'node:crypto';
import { ErrorCode } from '@gregor/protocol';
import { SCRAM_MECHANISMS, saltedPassword, type ScramMechanism } from '@gregor/security';
import { Api } from './api.js';
import type { Cluster } from './cluster.js';
import { throwIfError } from './errors.js';
import type { Body } from './transport.js';

export interface AclEntry {
  resourceType: number;
  resourceName: string;
  resourcePatternType: number;
  principal: string;
  host: string;
  operation: number;
  permissionType: number;
}

export interface AclFilter {
  resourceType: number;
  resourceName?: string | null;
  resourcePatternType: number;
  principal?: string | null;
  host?: string | null;
  operation: number;
  permissionType: number;
}

export async function createAcls(cluster: Cluster, acl: AclEntry[]): Promise<void> {
  const response = await cluster.request(Api.CreateAcls, { creations: acl.map((entry) => ({ ...entry })) });
  for (const result of response.results) throwIfError(result.errorCode, result.errorMessage ?? 'CreateAcls');
}

export async function describeAcls(cluster: Cluster, filter: AclFilter): Promise<{ resources: { resourceType: number; resourceName: string; resourcePatternType: number; acls: { principal: string; host: string; operation: number; permissionType: number }[] }[] }> {
  const response = await cluster.request(Api.DescribeAcls, {
    resourceTypeFilter: filter.resourceType, resourceNameFilter: filter.resourceName ?? null, patternTypeFilter: filter.resourcePatternType,
    principalFilter: filter.principal ?? null, hostFilter: filter.host ?? null, operation: filter.operation, permissionType: filter.permissionType,
  });
  throwIfError(response.errorCode, response.errorMessage ?? 'DescribeAcls');
  return {
    resources: response.resources.map((resource: Body) => ({
      resourceType: resource.resourceType, resourceName: resource.resourceName, resourcePatternType: resource.patternType, acls: resource.acls,
    })),
  };
}

export async function deleteAcls(cluster: Cluster, filters: AclFilter[]): Promise<{ filterResponses: { matchingAcls: AclEntry[] }[] }> {
  const response = await cluster.request(Api.DeleteAcls, {
    filters: filters.map((filter) => ({
      resourceTypeFilter: filter.resourceType, resourceNameFilter: filter.resourceName ?? null, patternTypeFilter: filter.resourcePatternType,
      principalFilter: filter.principal ?? null, hostFilter: filter.host ?? null, operation: filter.operation, permissionType: filter.permissionType,
    })),
  });
  return {
    filterResponses: response.filterResults.map((result: Body) => {
      throwIfError(result.errorCode, result.errorMessage ?? 'DeleteAcls');
      return { matchingAcls: result.matchingAcls.map((acl: Body) => ({ ...acl, resourcePatternType: acl.patternType })) };
    }),
  };
}

export interface ScramUpsertion {
  user: string;
  mechanism: ScramMechanism;
  password: string;
  /** Default 4096, the least Kafka accepts. */
  iterations?: number;
}

export async function alterUserScramCredentials(cluster: Cluster, changes: { upsertions?: ScramUpsertion[]; deletions?: { user: string; mechanism: ScramMechanism }[] }): Promise<void> {
  const upsertions = (changes.upsertions ?? []).map(({ user, mechanism, password, iterations = 4096 }) => {
    const salt = randomBytes(32);
    return { name: user, mechanism: SCRAM_MECHANISMS[mechanism].type, iterations, salt, saltedPassword: saltedPassword(mechanism, password, salt, iterations) };
  });
  const deletions = (changes.deletions ?? []).map(({ user, mechanism }) => ({ name: user, mechanism: SCRAM_MECHANISMS[mechanism].type }));
  const response = await cluster.request(Api.AlterUserScramCredentials, { upsertions, deletions });
  for (const result of response.results) throwIfError(result.errorCode, `${result.user}: ${result.errorMessage ?? ''}`);
}

export async function describeUserScramCredentials(cluster: Cluster, users?: string[]): Promise<{ user: string; errorCode: number; credentials: { mechanism: ScramMechanism | 'UNKNOWN'; iterations: number }[] }[]> {
  const response = await cluster.request(Api.DescribeUserScramCredentials, { users: users === undefined ? null : users.map((name) => ({ name })) });
  throwIfError(response.errorCode, response.errorMessage ?? 'DescribeUserScramCredentials');
  return response.results.map((result: Body) => ({
    user: result.user,
    errorCode: result.errorCode ?? ErrorCode.NONE,
    credentials: result.credentialInfos.map((info: Body) => ({ mechanism: info.mechanism === 1 ? 'SCRAM-SHA-256' : info.mechanism === 2 ? 'SCRAM-SHA-512' : 'UNKNOWN', iterations: info.iterations })),
  }));
}
