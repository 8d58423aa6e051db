/**
 * Prints the markdown table of the APIs and versions the server answers, from @gregor/protocol's
 * descriptions (the same source the broker's ApiVersions answer comes from). docs/protocol.md
 * embeds its output between the `served-apis` markers; a test checks that they agree.
 * Run: `npx tsx --tsconfig tsconfig.check.json packages/server/scripts/protocol-table.ts`
 */
import { servedApisTable } from '../test/support/served-table.js';

process.stdout.write(`${servedApisTable()}\n`);
