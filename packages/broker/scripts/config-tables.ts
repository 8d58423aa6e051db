/**
 * Prints the tables docs/configs.md embeds between its `topic-configs` and `broker-settings`
 * markers; a test checks that they agree.
 * Run: `npx tsx --tsconfig tsconfig.check.json packages/broker/scripts/config-tables.ts`
 */
import { actedBrokerSettingsTable, topicConfigsTable } from '../test/support/config-tables.js';

process.stdout.write(`<!-- topic-configs -->\n${topicConfigsTable()}\n\n<!-- broker-settings -->\n${actedBrokerSettingsTable()}\n`);
