/**
 * `gregor acls`: Kafka's kafka-acls tool. `--add` creates one ACL per principal x host x
 * operation x resource, `--remove` deletes the ACLs matching them (a filter: leave parts out to
 * match more), `--list` prints the ACLs of the resources named (or all). `--producer` and
 * `--consumer` are Kafka's shortcuts (Write, Describe and Create on the topic; Read and Describe on
 * the topic, Read on the group). Resources: --topic, --group, --transactional-id, --cluster; `*`
 * names every one; --resource-pattern-type literal (default), prefixed, or for --list and
 * --remove also any and match. Through CreateAcls, DescribeAcls and DeleteAcls, so it works
 * against Kafka too.
 */
import { AclOperation, AclPermissionType, CLUSTER_RESOURCE_NAME, PatternType, ResourceType } from '@gregor/protocol';
import type { AclFilter } from '@gregor/client';
import { aclCode, aclNames } from '@gregor/security';
import { CliError, parseCommand } from '../args.js';
import { connect, connectionHelp, connectionOptions, withAdmin } from '../connect.js';

const help = `usage: gregor acls --add|--remove|--list [--allow-principal P]... [--deny-principal P]...
                   [--allow-host H]... [--deny-host H]... [--operation OP]...
                   [--topic T]... [--group G]... [--transactional-id T]... [--cluster]
                   [--resource-pattern-type literal|prefixed|any|match] [--producer] [--consumer]

Manages ACLs as Kafka's kafka-acls tool: principals are Type:name (User:alice, User:* for
everyone), hosts are addresses (* for any, the default), operations Kafka's (Read, Write, Create,
Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All).
--producer grants Write, Describe and Create on the topics; --consumer Read and Describe on the
topics and Read on the groups. The broker needs authorizer.class.name set (docs/security.md).

${connectionHelp}

Examples:
  gregor acls --bootstrap-server 127.0.0.1:9092 --command-config admin.properties --add --allow-principal User:alice --operation Read --topic orders --group billing
  gregor acls --bootstrap-server 127.0.0.1:9092 --command-config admin.properties --add --allow-principal User:bob --producer --topic orders- --resource-pattern-type prefixed
  gregor acls --bootstrap-server 127.0.0.1:9092 --command-config admin.properties --list --topic orders`;

const options = {
  ...connectionOptions,
  add: { type: 'boolean' }, remove: { type: 'boolean' }, list: { type: 'boolean' }, force: { type: 'boolean' },
  'allow-principal': { type: 'string', multiple: true }, 'deny-principal': { type: 'string', multiple: true },
  'allow-host': { type: 'string', multiple: true }, 'deny-host': { type: 'string', multiple: true },
  operation: { type: 'string', multiple: true },
  topic: { type: 'string', multiple: true }, group: { type: 'string', multiple: true }, 'transactional-id': { type: 'string', multiple: true }, cluster: { type: 'boolean' },
  'resource-pattern-type': { type: 'string' }, producer: { type: 'boolean' }, consumer: { type: 'boolean' },
} as const;

interface Resource { type: number; name: string }

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
  const actions = [values.add, values.remove, values.list].filter(Boolean).length;
  if (actions !== 1) throw new CliError('give exactly one of --add, --remove, --list');
  const patternName = values['resource-pattern-type'] ?? (values.add ? 'literal' : values.list ? 'literal' : 'literal');
  const patternType = aclCode('patternType', patternName);
  if (patternType === undefined || patternType === PatternType.UNKNOWN) throw new CliError(`--resource-pattern-type must be literal, prefixed, any or match, got ${patternName}`);
  if (values.add && patternType !== PatternType.LITERAL && patternType !== PatternType.PREFIXED) throw new CliError('--add takes --resource-pattern-type literal or prefixed');
  const resources: Resource[] = [
    ...(values.topic ?? []).map((name) => ({ type: ResourceType.TOPIC, name })),
    ...(values.group ?? []).map((name) => ({ type: ResourceType.GROUP, name })),
    ...(values['transactional-id'] ?? []).map((name) => ({ type: ResourceType.TRANSACTIONAL_ID, name })),
    ...(values.cluster ? [{ type: ResourceType.CLUSTER, name: CLUSTER_RESOURCE_NAME }] : []),
  ];
  const connection = await connect(values, 'gregor-acls');
  await withAdmin(connection, async (admin) => {
    if (values.list) {
      const filters: AclFilter[] = resources.length === 0
        ? [{ resourceType: ResourceType.ANY, resourcePatternType: PatternType.ANY, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY }]
        : resources.map((r) => ({ resourceType: r.type, resourceName: r.name, resourcePatternType: values['resource-pattern-type'] === undefined ? PatternType.ANY : patternType, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY }));
      for (const filter of filters) {
        for (const resource of (await admin.describeAcls(filter)).resources) {
          console.log(`Current ACLs for resource \`ResourcePattern(resourceType=${aclNames.resourceType(resource.resourceType)}, name=${resource.resourceName}, patternType=${aclNames.patternType(resource.resourcePatternType)})\`:`);
          for (const acl of resource.acls) {
            console.log(`\t(principal=${acl.principal}, host=${acl.host}, operation=${aclNames.operation(acl.operation)}, permissionType=${aclNames.permissionType(acl.permissionType)})`);
          }
          console.log('');
        }
      }
      return;
    }
    if (resources.length === 0) throw new CliError('name a resource: --topic, --group, --transactional-id or --cluster');
    const entries = aclEntries(values, resources, patternType);
    if (values.add) {
      if (entries.length === 0) throw new CliError('--add needs --allow-principal or --deny-principal, and --operation, --producer or --consumer');
      await admin.createAcls({ acl: entries.map((entry) => ({ ...entry, resourceName: entry.resourceName as string, principal: entry.principal as string, host: entry.host as string })) });
      console.log(`Added ${entries.length} ACL${entries.length === 1 ? '' : 's'}.`);
      return;
    }
    const removed = await admin.deleteAcls({ filters: entries.length > 0 ? entries : resources.map((r) => ({ resourceType: r.type, resourceName: r.name, resourcePatternType: patternType, operation: AclOperation.ANY, permissionType: AclPermissionType.ANY })) });
    const count = removed.filterResponses.reduce((sum, response) => sum + response.matchingAcls.length, 0);
    console.log(`Removed ${count} ACL${count === 1 ? '' : 's'}.`);
  });
}

type Values = ReturnType<typeof parseCommand<typeof options>>['values'];

/** One entry per principal x host x operation x resource; --producer / --consumer expand as kafka-acls does. */
function aclEntries(values: Values, resources: Resource[], patternType: number): (AclFilter & { resourceName: string | null; principal: string | null; host: string | null })[] {
  const operationsFor = (resource: Resource): number[] => {
    const listed = (values.operation ?? []).map((name) => {
      const code = aclCode('operation', name);
      if (code === undefined || code <= AclOperation.ANY) throw new CliError(`unknown --operation ${name} (Read, Write, Create, Delete, Alter, Describe, ClusterAction, DescribeConfigs, AlterConfigs, IdempotentWrite, All)`);
      return code;
    });
    if (values.producer && resource.type === ResourceType.TOPIC) listed.push(AclOperation.WRITE, AclOperation.DESCRIBE, AclOperation.CREATE);
    if (values.consumer && resource.type === ResourceType.TOPIC) listed.push(AclOperation.READ, AclOperation.DESCRIBE);
    if (values.consumer && resource.type === ResourceType.GROUP) listed.push(AclOperation.READ);
    return [...new Set(listed)];
  };
  const grants = [
    ...(values['allow-principal'] ?? []).map((principal) => ({ principal, permissionType: AclPermissionType.ALLOW, hosts: values['allow-host'] ?? ['*'] })),
    ...(values['deny-principal'] ?? []).map((principal) => ({ principal, permissionType: AclPermissionType.DENY, hosts: values['deny-host'] ?? ['*'] })),
  ];
  const entries = [];
  for (const resource of resources) {
    for (const grant of grants) {
      if (!/^[^:]+:.+$/.test(grant.principal)) throw new CliError(`a principal is Type:name (User:alice), got ${grant.principal}`);
      for (const host of grant.hosts) {
        for (const operation of operationsFor(resource)) {
          entries.push({ resourceType: resource.type, resourceName: resource.name, resourcePatternType: patternType, principal: grant.principal, host, operation, permissionType: grant.permissionType });
        }
      }
    }
  }
  return entries;
}
