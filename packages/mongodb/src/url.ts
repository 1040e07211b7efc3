import { AgentSessionsError, assertUrlOptions, invalidInput, type MongoUrlOptions } from '@agent-sessions/core/store';

/** Characters MongoDB refuses in a database name. */
const BAD_DATABASE = /[/\\. "$*<>:|?\0]/;

/** Refuses a database name MongoDB would refuse later, naming it and why. */
export function assertDatabaseName(name: string, source = 'mongodb'): void {
  if (name.length === 0 || name.length > 63 || BAD_DATABASE.test(name)) {
    throw invalidInput(
      `mongodb: database name '${name}' is not valid: 1 to 63 characters, none of / \\ . space " $ * < > : | ?`,
      source,
    );
  }
}

/** A connection string with its password hidden, for messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/?#@]*:)[^@/?#]*@/, '$1***@');
}

/** The database named in a connection string's path, if any. */
export function databaseFromUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/[^/]*\/([^?]*)/i.exec(url);
  const name = m?.[1] ? decodeURIComponent(m[1]) : '';
  return name === '' ? undefined : name;
}

/** The hosts of a connection string (`host:port`, comma separated), for messages. */
export function hostsFromUrl(url: string): string | undefined {
  const m = /^mongodb(?:\+srv)?:\/\/(?:[^@/?#]*@)?([^/?#]+)/i.exec(url);
  return m?.[1];
}

/**
 * Checks what `createStore` hands over before the driver sees it: the scheme, the options this
 * scheme takes, a host, and the database name. The driver checks the rest (its query options);
 * what it refuses becomes `invalid_input` too, see `MongoStore.fromConnectionString`.
 */
export function checkUrl(url: string, options: MongoUrlOptions): 'mongodb' | 'mongodb+srv' {
  if (typeof url !== 'string') throw invalidInput('mongodb: the connection string must be a string', 'mongodb');
  const scheme = /^(mongodb(?:\+srv)?):\/\//i.exec(url)?.[1]?.toLowerCase() as 'mongodb' | 'mongodb+srv' | undefined;
  if (!scheme) throw invalidInput(`mongodb: '${redact(url)}' is not a mongodb:// or mongodb+srv:// connection string`, 'mongodb');
  assertUrlOptions(scheme, options ?? {}, 'mongodb');
  const hosts = hostsFromUrl(url);
  if (!hosts || /^[:,@]*$/.test(hosts)) {
    throw invalidInput(`${scheme}:// connection string '${redact(url)}' names no host: use ${scheme}://host:port/database`, 'mongodb');
  }
  let database: string | undefined;
  try {
    database = options?.database ?? databaseFromUrl(url);
  } catch (err) {
    throw new AgentSessionsError('invalid_input', `${scheme}:// connection string '${redact(url)}' has a malformed database name`, {
      source: 'mongodb',
      cause: err,
    });
  }
  if (database !== undefined) assertDatabaseName(database);
  return scheme;
}
