/**
 * The markdown tables of docs/configs.md, from the broker's config tables: every topic config
 * with its default and what Gregor does with it, and the broker settings Gregor acts on. A test
 * checks docs/configs.md against them; `packages/broker/scripts/config-tables.ts` prints them.
 */
import { brokerConfigsByName, brokerConfigDocumentation, brokerSettings, topicConfigTable } from '../../src/index.js';

const cell = (text: string) => text.replaceAll('|', '\\|');
const code = (value: string | null) => (value === '' ? '(empty)' : `\`${value ?? 'null'}\``);

export function topicConfigsTable(): string {
  const rows = topicConfigTable.map((definition) => {
    const synonyms = definition.brokerSynonyms.map((synonym) => `\`${synonym.name}\``).join(', ') || '—';
    const gregor = definition.gregor === 'acts' ? 'acts on it' : `stored, reported, not acted on: ${definition.gregor.ignored}`;
    return `| \`${definition.name}\` | ${definition.type} | ${code(definition.default)} | ${synonyms} | ${cell(gregor)} |`;
  });
  return ['| topic config | type | Kafka default | broker default from | Gregor |', '|---|---|---|---|---|', ...rows].join('\n');
}

export function actedBrokerSettingsTable(): string {
  const rows = Object.entries(brokerSettings)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, setting]) => {
      const definition = brokerConfigsByName.get(name);
      const documentation = brokerConfigDocumentation(name).replace(/ Gregor parses and keeps it.*$/, ' (kept for the cluster work)');
      return `| \`${name}\` | ${code(definition?.default ?? null)} | ${definition?.mode ?? ''} | \`${setting.field}\` | ${cell(documentation)} |`;
    });
  return ['| broker setting | Kafka default | dynamic | BrokerConfig field | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}
