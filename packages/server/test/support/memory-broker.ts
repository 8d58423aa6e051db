/**
 * A broker in its own process, for measuring its memory from outside: `node --import tsx
 * memory-broker.ts <dir> <MiB>` opens a Broker on `<dir>`, writes `<MiB>` MiB of records to
 * topic `big` (partition 0), serves on 127.0.0.1 port 0 with the default server settings, and
 * talks over the IPC channel: it sends `{ port }` once listening, answers `'usage'` with its RSS
 * and the server's memory accounts, and `'gc'` after a full garbage collection (run it with
 * --expose-gc). It closes and exits when the parent disconnects.
 */
import { Broker } from '@gregor/broker';
import { ApiKey } from '@gregor/protocol';
import { encodeBatch } from '@gregor/records';
import { Server, silentLogger } from '../../src/index.js';

const [dir, mebibytes] = process.argv.slice(2);
if (dir === undefined || mebibytes === undefined || process.send === undefined) throw new Error('usage: memory-broker.ts <dir> <MiB>, forked with IPC');
const send = (message: unknown): void => {
  process.send?.(message);
};

const broker = await Broker.open({ dir });
await broker.handle(ApiKey.CreateTopics, 7, { topics: [{ name: 'big', numPartitions: 1, replicationFactor: 1, assignments: [], configs: [] }], timeoutMs: 1000, validateOnly: false });
const value = Buffer.alloc(60 * 1024, 0x61);
for (let i = 0; i < Number(mebibytes); i++) {
  // 16 records of 60 KiB: a batch just under message.max.bytes (1 MiB).
  const records = encodeBatch({ timestamp: 1_700_000_000_000, records: Array.from({ length: 16 }, () => ({ key: null, value })) });
  await broker.handle(ApiKey.Produce, 9, { transactionalId: null, acks: 1, timeoutMs: 1000, topicData: [{ name: 'big', partitionData: [{ index: 0, records }] }] });
}
const server = new Server({ broker, logger: silentLogger });
const { port } = await server.listen({ host: '127.0.0.1', port: 0 });

process.on('message', (message) => {
  if (message === 'gc') (globalThis as { gc?: () => void }).gc?.();
  if (message === 'usage' || message === 'gc') {
    send({ rss: process.memoryUsage().rss, usage: server.memoryUsage, connections: server.connectionCount });
  }
});
process.once('disconnect', () => {
  void server.close().then(() => broker.close()).then(() => process.exit(0));
});
send({ port });
