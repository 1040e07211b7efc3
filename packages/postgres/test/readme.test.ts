import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_CONNECTION_TIMEOUT_MS,
  DEFAULT_SCHEMA,
  DEFAULT_TABLE_PREFIX,
  MIGRATIONS,
  SCHEMA_VERSION,
} from '@agent-sessions/postgres';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('shows the schema exactly as the migrations create it', () => {
    const names = {
      sessions: 'agent_sessions_sessions',
      runs: 'agent_sessions_runs',
      qschema: 'public',
      local: (suffix: string) => `agent_sessions_${suffix}`,
    } as unknown as Parameters<(typeof MIGRATIONS)[number]['sql']>[0];
    const expected = MIGRATIONS.map((m) => `-- v${m.version}: ${m.name}\n${m.sql(names).trim()}`).join('\n');
    const block = /```sql\n([\s\S]*?)```/.exec(readme)?.[1]?.trim();
    expect(block).toBe(expected);
  });

  it('states the defaults the code has', () => {
    expect(readme).toContain(`| \`schema\` | \`'${DEFAULT_SCHEMA}'\` |`);
    expect(readme).toContain(`| \`tablePrefix\` | \`'${DEFAULT_TABLE_PREFIX}'\` |`);
    expect(readme).toContain(`{ connectionTimeoutMillis: ${DEFAULT_CONNECTION_TIMEOUT_MS} }`);
    expect(readme).toContain(`{ from: ${SCHEMA_VERSION - 1}, to: ${SCHEMA_VERSION} }`);
  });
});
