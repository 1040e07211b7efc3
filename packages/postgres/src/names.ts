import { invalidInput } from '@agent-sessions/core/store';

/** Default schema of the tables. */
export const DEFAULT_SCHEMA = 'public';
/** Default prefix of table and index names: `agent_sessions_sessions`, `agent_sessions_runs`, ... */
export const DEFAULT_TABLE_PREFIX = 'agent_sessions';

// Identifiers are the one part of the SQL text that comes from options, so they are held to
// a strict shape and always quoted: nothing else reaches SQL text except through parameters.
const SCHEMA_RE = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// Leaves room in PostgreSQL's 63-byte limit for the longest suffix (`_sessions_agent_user_updated`).
const PREFIX_RE = /^[A-Za-z_][A-Za-z0-9_]{0,31}$/;

export interface NameOptions {
  /** Schema the tables live in. Default `public`. */
  schema?: string | undefined;
  /** Prefix of table and index names. Default `agent_sessions`. */
  tablePrefix?: string | undefined;
}

/** The quoted, schema-qualified names the SQL uses, and the raw parts they came from. */
export interface TableNames {
  schema: string;
  prefix: string;
  /** `"schema"` */
  qschema: string;
  /** `"schema"."prefix_sessions"` */
  sessions: string;
  /** `"schema"."prefix_runs"` */
  runs: string;
  /** `"schema"."prefix_migrations"` */
  migrations: string;
  /** An index or constraint name (unqualified, quoted): `"prefix_<suffix>"`. */
  local(suffix: string): string;
}

export function quoteIdent(name: string): string {
  // Safe only for names that passed the regexes above (no quotes, no NUL).
  return `"${name}"`;
}

export function tableNames(options: NameOptions = {}): TableNames {
  const schema = options.schema ?? DEFAULT_SCHEMA;
  const prefix = options.tablePrefix ?? DEFAULT_TABLE_PREFIX;
  if (typeof schema !== 'string' || !SCHEMA_RE.test(schema)) {
    throw invalidInput(
      `schema must be a plain identifier (letters, digits and _, not starting with a digit, at most 63 characters), got ${JSON.stringify(schema)}`,
      'postgres',
    );
  }
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    throw invalidInput(
      `tablePrefix must be a plain identifier (letters, digits and _, not starting with a digit, at most 32 characters), got ${JSON.stringify(prefix)}`,
      'postgres',
    );
  }
  const qschema = quoteIdent(schema);
  const table = (suffix: string) => `${qschema}.${quoteIdent(`${prefix}_${suffix}`)}`;
  return {
    schema,
    prefix,
    qschema,
    sessions: table('sessions'),
    runs: table('runs'),
    migrations: table('migrations'),
    local: (suffix: string) => quoteIdent(`${prefix}_${suffix}`),
  };
}
