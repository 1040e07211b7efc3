import { AgentSessionsError, assertUrlOptions, invalidInput, urlScheme, type PostgresUrlOptions } from '@agent-sessions/core/store';
import type { PgPoolOptions } from './client.js';
import { lazyRunner } from './client.js';
import { openPglite } from './open.js';
import type { PostgresConnectionOptions } from './options.js';
import { PostgresStore, storeOverRunner } from './store.js';

/** Store options a URL may carry in its query: `postgres://h/db?schema=agents&ttl=1h`. */
export const URL_QUERY_OPTIONS = ['schema', 'tablePrefix', 'ttl', 'timeoutMs', 'migrate', 'preparedStatements'] as const;

/**
 * Query parameters pg itself reads from a postgres:// URL, passed on to it. Any other parameter
 * is refused: pg would silently ignore it.
 */
export const PG_QUERY_PARAMETERS = [
  'host',
  'port',
  'user',
  'password',
  'ssl',
  'sslmode',
  'sslcert',
  'sslkey',
  'sslrootcert',
  'uselibpqcompat',
  'options',
  'application_name',
  'fallback_application_name',
  'client_encoding',
  'connect_timeout',
  'keepalives',
  'keepalives_idle',
  'statement_timeout',
  'lock_timeout',
  'idle_in_transaction_session_timeout',
  'query_timeout',
] as const;

/**
 * What `createStore(url)` in core calls: `postgres://` and `postgresql://` URLs open a pg.Pool
 * (`fromConnectionString`); `pglite://<dir>` opens an embedded PGlite database in that directory
 * (`pglite://` alone: in memory). The store owns what it opens and `close()` ends it. Store
 * options may also come as query parameters (`URL_QUERY_OPTIONS`); unknown ones are refused.
 */
export function createStoreFromUrl(url: string, options: PostgresUrlOptions = {}): PostgresStore {
  const scheme = typeof url === 'string' ? urlScheme(url) : undefined;
  if (scheme !== 'pglite' && scheme !== 'postgres' && scheme !== 'postgresql') {
    throw new AgentSessionsError('invalid_input', 'expected a postgres://, postgresql:// or pglite:// URL', { source: 'postgres' });
  }
  assertUrlOptions(scheme, options, 'postgres');
  const { rest, query } = splitQuery(url, scheme);
  const opts = storeOptions({ ...fromQuery(query, scheme, options), ...options });
  if (scheme === 'pglite') {
    const dir = rest.slice('pglite://'.length);
    return storeOverRunner(lazyRunner(() => openPglite(dir)), opts, true);
  }
  checkPostgresUrl(rest, scheme);
  return PostgresStore.fromConnectionString(rest, opts);
}

/** The URL without the store's own query parameters, and those parameters. */
function splitQuery(url: string, scheme: string): { rest: string; query: Map<string, string> } {
  const at = url.indexOf('?');
  if (at < 0) return { rest: url, query: new Map() };
  const kept: string[] = [];
  const query = new Map<string, string>();
  for (const pair of url.slice(at + 1).split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    let key: string;
    let value: string;
    try {
      key = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
      value = eq < 0 ? '' : decodeURIComponent(pair.slice(eq + 1).replace(/\+/g, ' '));
    } catch {
      throw invalidInput(`${scheme}:// URL has a malformed query parameter`, 'postgres');
    }
    if ((URL_QUERY_OPTIONS as readonly string[]).includes(key)) {
      if (query.has(key)) throw invalidInput(`${scheme}:// URL names '${key}' twice`, 'postgres');
      query.set(key, value);
    } else if (scheme !== 'pglite' && (PG_QUERY_PARAMETERS as readonly string[]).includes(key)) {
      kept.push(pair);
    } else {
      const takes = scheme === 'pglite' ? URL_QUERY_OPTIONS : [...URL_QUERY_OPTIONS, ...PG_QUERY_PARAMETERS];
      throw invalidInput(`${scheme}:// URL query parameter '${key}' is not supported; supported: ${takes.join(', ')}`, 'postgres');
    }
  }
  return { rest: url.slice(0, at) + (kept.length > 0 ? `?${kept.join('&')}` : ''), query };
}

/** Store options from the URL's query; the same option also passed in code must agree. */
function fromQuery(query: Map<string, string>, scheme: string, options: PostgresUrlOptions): PostgresUrlOptions {
  const out: Record<string, unknown> = {};
  for (const [key, raw] of query) {
    let value: unknown = raw;
    if (key === 'timeoutMs') {
      value = /^\d+$/.test(raw) ? Number(raw) : NaN;
      if (Number.isNaN(value)) throw invalidInput(`${scheme}:// URL: timeoutMs must be a whole number of ms, got '${raw}'`, 'postgres');
    } else if (key === 'migrate' || key === 'preparedStatements') {
      if (raw !== 'true' && raw !== 'false') throw invalidInput(`${scheme}:// URL: ${key} must be true or false, got '${raw}'`, 'postgres');
      value = raw === 'true';
    } else if (key === 'ttl' && /^\d+$/.test(raw)) {
      value = Number(raw);
    }
    const given = (options as Record<string, unknown>)[key];
    if (given !== undefined && given !== value) {
      throw invalidInput(`${scheme}:// URL sets ${key}=${raw} but the options set ${key} to ${JSON.stringify(given)}`, 'postgres');
    }
    out[key] = value;
  }
  if (scheme === 'pglite' && out.preparedStatements !== undefined) {
    throw invalidInput('pglite:// does not take preparedStatements', 'postgres');
  }
  return out as PostgresUrlOptions;
}

/**
 * Parses a postgres:// URL the way pg does (pg-connection-string), so a malformed one fails now
 * with invalid_input instead of as a bare TypeError on the first call.
 */
function checkPostgresUrl(url: string, scheme: string): void {
  let str = url;
  if (/ |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(str)) str = encodeURI(str).replace(/%25(\d\d)/g, '%$1');
  try {
    try {
      new URL(str, 'postgres://base');
    } catch {
      new URL(str.replace('@/', '@___DUMMY___/'), 'postgres://base');
    }
  } catch {
    throw invalidInput(`${scheme}:// URL could not be parsed (check the host, the port and any special characters in the password: percent-encode them)`, 'postgres');
  }
}

function storeOptions(options: PostgresUrlOptions): PostgresConnectionOptions {
  const { pool, migrate, schema, tablePrefix, preparedStatements, ...common } = options;
  const out: PostgresConnectionOptions = { ...common };
  if (pool !== undefined) out.pool = pool as PgPoolOptions;
  if (migrate !== undefined) out.migrate = migrate !== false;
  if (schema !== undefined) out.schema = schema;
  if (tablePrefix !== undefined) out.tablePrefix = tablePrefix;
  if (preparedStatements !== undefined) out.preparedStatements = preparedStatements !== false;
  return out;
}
