/**
 * Description of DescribeLogDirs (KIP-113): the log directories of a broker with, per partition
 * replica, its size on disk and how far it lags (v4 adds each directory's total and usable bytes,
 * KIP-827). Transcribed from apache/kafka's message JSON; every version Kafka defines is described.
 */
import { api, f, s } from '../spec.js';

export const DescribeLogDirs = api('DescribeLogDirs', 35, {
  versions: '0-4',
  flexibleFrom: 2,
  request: [
    // null: every partition of every topic.
    s('topics', '0+', [f('topic', 'string', '0+'), f('partitions', '[]int32', '0+')], { nullable: '0+' }),
  ],
  response: [
    f('throttleTimeMs', 'int32', '0+'),
    f('errorCode', 'int16', '3+'),
    s('results', '0+', [
      f('errorCode', 'int16', '0+'),
      f('logDir', 'string', '0+'),
      s('topics', '0+', [
        f('name', 'string', '0+'),
        s('partitions', '0+', [
          f('partitionIndex', 'int32', '0+'),
          f('partitionSize', 'int64', '0+'),
          f('offsetLag', 'int64', '0+'),
          f('isFutureKey', 'bool', '0+'),
        ]),
      ]),
      f('totalBytes', 'int64', '4+', { default: -1 }),
      f('usableBytes', 'int64', '4+', { default: -1 }),
    ]),
  ],
});
