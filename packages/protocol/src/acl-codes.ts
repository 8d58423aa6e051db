/**
 * Kafka's numeric codes of the ACL model, as the ACL APIs (DescribeAcls, CreateAcls, DeleteAcls)
 * and DescribeCluster's authorized-operations bit fields carry them (Kafka's ResourceType,
 * PatternType, AclOperation and AclPermissionType enums). `ANY` (and pattern `MATCH`) appear only
 * in filters; `UNKNOWN` is what an unrecognized code reads as.
 */
export const ResourceType = Object.freeze({
  UNKNOWN: 0, ANY: 1, TOPIC: 2, GROUP: 3, CLUSTER: 4, TRANSACTIONAL_ID: 5, DELEGATION_TOKEN: 6, USER: 7,
} as const);
export type ResourceTypeCode = (typeof ResourceType)[keyof typeof ResourceType];

export const PatternType = Object.freeze({ UNKNOWN: 0, ANY: 1, MATCH: 2, LITERAL: 3, PREFIXED: 4 } as const);
export type PatternTypeCode = (typeof PatternType)[keyof typeof PatternType];

export const AclOperation = Object.freeze({
  UNKNOWN: 0, ANY: 1, ALL: 2, READ: 3, WRITE: 4, CREATE: 5, DELETE: 6, ALTER: 7, DESCRIBE: 8, CLUSTER_ACTION: 9,
  DESCRIBE_CONFIGS: 10, ALTER_CONFIGS: 11, IDEMPOTENT_WRITE: 12, CREATE_TOKENS: 13, DESCRIBE_TOKENS: 14,
} as const);
export type AclOperationCode = (typeof AclOperation)[keyof typeof AclOperation];

export const AclPermissionType = Object.freeze({ UNKNOWN: 0, ANY: 1, DENY: 2, ALLOW: 3 } as const);
export type AclPermissionTypeCode = (typeof AclPermissionType)[keyof typeof AclPermissionType];

/** The name of the one cluster resource (Kafka's `kafka-cluster`). */
export const CLUSTER_RESOURCE_NAME = 'kafka-cluster';
/** The resource name and principal that match every name (`*`, `User:*`). */
export const WILDCARD_RESOURCE = '*';
