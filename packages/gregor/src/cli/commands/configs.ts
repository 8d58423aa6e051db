/**
 * `gregor configs`: the SCRAM credentials part of Kafka's kafka-configs tool, through
 * AlterUserScramCredentials and DescribeUserScramCredentials:
 *   --alter --entity-type users --entity-name alice --add-config 'SCRAM-SHA-256=[iterations=8192,password=alice-secret]'
 *   --alter --entity-type users --entity-name alice --delete-config 'SCRAM-SHA-512'
 *   --describe --entity-type users [--entity-name alice]
 * The salted password is computed in this process: the password is never sent. Topic and broker
 * configs are `gregor topics alter --config` for now.
 */
import { isScramMechanism, type ScramMechanism } from '@gregor/security';
import type { ScramUpsertion } from '@gregor/client';
import { CliError, parseCommand } from '../args.js';
import { connect, connectionHelp, connectionOptions, withAdmin } from '../connect.js';

const help = `usage: gregor configs --alter|--describe --entity-type users [--entity-name NAME]...
                      [--add-config 'SCRAM-SHA-256=[iterations=N,password=P],SCRAM-SHA-512=[password=P]']
                      [--delete-config 'SCRAM-SHA-256,SCRAM-SHA-512']

Manages users' SCRAM credentials as Kafka's kafka-configs tool. Passwords are salted and hashed
here; the broker stores the salt, the iteration count (4096 to 16384, default 4096) and keys derived
from them, never the password.

${connectionHelp}

Examples:
  gregor configs --bootstrap-server 127.0.0.1:9092 --alter --entity-type users --entity-name alice --add-config 'SCRAM-SHA-256=[password=alice-secret]'
  gregor configs --bootstrap-server 127.0.0.1:9092 --describe --entity-type users`;

const options = {
  ...connectionOptions,
  alter: { type: 'boolean' }, describe: { type: 'boolean' },
  'entity-type': { type: 'string' }, 'entity-name': { type: 'string', multiple: true },
  'add-config': { type: 'string' }, 'delete-config': { type: 'string' },
} as const;

export async function main(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommand(argv, options, help);
  if (positionals.length > 0) throw new CliError(`unexpected argument '${positionals[0]}'`);
  if (values['entity-type'] !== 'users') throw new CliError("--entity-type users is the one gregor configs manages (topic configs: gregor topics alter --config)");
  if (Boolean(values.alter) === Boolean(values.describe)) throw new CliError('give exactly one of --alter, --describe');
  const names = values['entity-name'] ?? [];
  const connection = await connect(values, 'gregor-configs');
  await withAdmin(connection, async (admin) => {
    if (values.describe) {
      for (const user of await admin.describeUserScramCredentials(names.length === 0 ? undefined : names)) {
        if (user.errorCode !== 0) {
          console.log(`User '${user.user}' has no SCRAM credentials.`);
          continue;
        }
        console.log(`SCRAM credential configs for user-principal '${user.user}' are ${user.credentials.map((c) => `${c.mechanism}=iterations=${c.iterations}`).join(', ')}`);
      }
      return;
    }
    if (names.length !== 1) throw new CliError('--alter takes one --entity-name');
    const [user] = names;
    const upsertions = values['add-config'] === undefined ? [] : parseAddConfig(values['add-config']).map((entry) => ({ ...entry, user }));
    const deletions = (values['delete-config'] ?? '').split(',').map((m) => m.trim()).filter((m) => m !== '').map((mechanism) => {
      if (!isScramMechanism(mechanism)) throw new CliError(`--delete-config takes SCRAM-SHA-256 or SCRAM-SHA-512, got ${mechanism}`);
      return { user, mechanism };
    });
    if (upsertions.length === 0 && deletions.length === 0) throw new CliError('--alter needs --add-config or --delete-config');
    await admin.alterUserScramCredentials({ upsertions, deletions });
    console.log(`Completed updating config for user ${user}.`);
  });
}

/** `SCRAM-SHA-256=[iterations=8192,password=alice-secret],SCRAM-SHA-512=[password=alice-secret]`. */
export function parseAddConfig(text: string): Omit<ScramUpsertion, 'user'>[] {
  const entries: Omit<ScramUpsertion, 'user'>[] = [];
  const pattern = /\s*([A-Z0-9-]+)=\[([^\]]*)\]\s*(,|$)/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while (consumed < text.length && (match = pattern.exec(text)) !== null) {
    consumed = pattern.lastIndex;
    const [, mechanism, body] = match;
    if (!isScramMechanism(mechanism)) throw new CliError(`--add-config: ${mechanism} is not SCRAM-SHA-256 or SCRAM-SHA-512`);
    const fields = new Map(body.split(',').map((part) => {
      const at = part.indexOf('=');
      return [part.slice(0, at).trim(), part.slice(at + 1)] as [string, string];
    }));
    const password = fields.get('password');
    if (password === undefined || password === '') throw new CliError(`--add-config: ${mechanism} needs password=...`);
    const iterations = fields.has('iterations') ? Number(fields.get('iterations')) : undefined;
    if (iterations !== undefined && !Number.isInteger(iterations)) throw new CliError(`--add-config: iterations must be an integer`);
    entries.push({ mechanism: mechanism as ScramMechanism, password, iterations });
  }
  if (consumed < text.length || entries.length === 0) throw new CliError(`--add-config must look like 'SCRAM-SHA-256=[password=...]', got '${text}'`);
  return entries;
}
