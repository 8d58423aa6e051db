/**
 * Descriptions of the group APIs an admin client calls: DeleteGroups (removes empty groups with
 * their committed offsets) and OffsetDelete (KIP-496: removes a group's committed offsets of
 * topics it no longer consumes). Transcribed from apache/kafka's message JSON; every version Kafka
 * defines is described.
 */
import { api, f, s } from '../spec.js';

export const DeleteGroups = api('DeleteGroups', 42, {
  versions: '0-2',
  flexibleFrom: 2,
  request: [f('groupsNames', '[]string', '0+')],
  response: [f('throttleTimeMs', 'int32', '0+'), s('results', '0+', [f('groupId', 'string', '0+'), f('errorCode', 'int16', '0+')])],
});

export const OffsetDelete = api('OffsetDelete', 47, {
  versions: '0',
  flexibleFrom: null,
  request: [f('groupId', 'string', '0+'), s('topics', '0+', [f('name', 'string', '0+'), s('partitions', '0+', [f('partitionIndex', 'int32', '0+')])])],
  response: [
    f('errorCode', 'int16', '0+'),
    f('throttleTimeMs', 'int32', '0+'),
    s('topics', '0+', [f('name', 'string', '0+'), s('partitions', '0+', [f('partitionIndex', 'int32', '0+'), f('errorCode', 'int16', '0+')])]),
  ],
});
