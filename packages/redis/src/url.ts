import { assertUrlOptions, invalidInput, redactUrl, type RedisUrlOptions, type StoreScheme } from '@agent-sessions/core/store';
import type { ClusterNode, RedisOptions } from 'ioredis';

/** URL query parameters the store takes, and how each is read. Anything else is refused. */
const QUERY: Record<string, (v: string, url: string) => unknown> = {
  ttl: (v) => (v === 'none' ? null : /^\d+$/.test(v) ? Number(v) : v),
  prefix: (v) => v,
  timeoutMs: (v, url) => {
    if (!/^\d+$/.test(v)) throw invalidInput(`timeoutMs=${v} in '${url}' is not a whole number of ms`, 'redis');
    return Number(v);
  },
  touchOnRead: (v, url) => {
    if (v !== 'true' && v !== 'false') throw invalidInput(`touchOnRead=${v} in '${url}' must be true or false`, 'redis');
    return v === 'true';
  },
  evictionPolicy: (v, url) => {
    if (v !== 'error' && v !== 'warn') throw invalidInput(`evictionPolicy=${v} in '${url}' must be error or warn`, 'redis');
    return v;
  },
};

export interface ParsedRedisUrl {
  scheme: 'redis' | 'rediss' | 'redis+cluster' | 'rediss+cluster';
  cluster: boolean;
  /** For a standalone server: the URL for ioredis, without the store's query parameters. */
  url: string;
  /** For a cluster: the seed nodes. */
  nodes: ClusterNode[];
  /** Credentials, TLS and database from the URL, as ioredis options (cluster only). */
  redisOptions: RedisOptions;
  /** Store options given as query parameters. */
  options: Partial<RedisUrlOptions>;
}

const SCHEMES = ['redis', 'rediss', 'redis+cluster', 'rediss+cluster'] as const;

/**
 * Parses `redis://[user:pass@]host[:port][/db][?opts]`, `rediss://…` (TLS) and
 * `redis+cluster://[user:pass@]h1:p1,h2:p2[?opts]` / `rediss+cluster://…`. A URL that does not
 * parse, or names an option the store does not take, fails with `invalid_input` naming the
 * scheme; the password never appears in a message.
 */
export function parseRedisUrl(url: string): ParsedRedisUrl {
  if (typeof url !== 'string') throw invalidInput('expected a redis:// URL string', 'redis');
  const shown = redactUrl(url);
  const m = /^([a-z+]+):\/\/([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/i.exec(url);
  const scheme = m?.[1]?.toLowerCase() as ParsedRedisUrl['scheme'] | undefined;
  if (!m || !scheme || !SCHEMES.includes(scheme)) {
    throw invalidInput(`'${shown}' is not a redis://, rediss://, redis+cluster:// or rediss+cluster:// URL`, 'redis');
  }
  const bad = (why: string) => invalidInput(`${scheme}:// URL '${shown}' is malformed: ${why}`, 'redis');
  const cluster = scheme.endsWith('+cluster');
  const authority = m[2] ?? '';
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0 ? authority.slice(0, at) : '';
  const hostlist = at >= 0 ? authority.slice(at + 1) : authority;
  if (userinfo.includes('@')) throw bad("'@' in the user name or password must be written %40");
  const colon = userinfo.indexOf(':');
  let username: string | undefined;
  let password: string | undefined;
  try {
    username = decodeURIComponent(colon >= 0 ? userinfo.slice(0, colon) : userinfo) || undefined;
    password = colon >= 0 ? decodeURIComponent(userinfo.slice(colon + 1)) || undefined : undefined;
  } catch {
    throw bad('bad percent-encoding in the user name or password');
  }
  const hosts = hostlist.split(',');
  if (!cluster && hosts.length > 1) throw bad('several hosts need the redis+cluster:// (or rediss+cluster://) scheme');
  const nodes: ClusterNode[] = hosts.map((h) => {
    const hm = /^(\[[0-9a-f:.]+\]|[^:[\]]+)(?::(\d{1,5}))?$/i.exec(h);
    const port = hm?.[2] === undefined ? 6379 : Number(hm[2]);
    if (!hm?.[1] || port < 1 || port > 65535) throw bad(`'${h}' is not host or host:port`);
    return { host: hm[1].replace(/^\[|\]$/g, ''), port };
  });
  const path = (m[3] ?? '').replace(/^\//, '');
  if (path !== '' && (cluster || !/^\d+$/.test(path))) {
    throw bad(cluster ? 'a cluster has no database number' : `the path '/${path}' must be a database number`);
  }
  const options: Record<string, unknown> = {};
  const query = new URLSearchParams((m[4] ?? '').slice(1));
  for (const [key, value] of query) {
    const read = QUERY[key];
    if (!read) {
      throw invalidInput(
        `${scheme}:// URL '${shown}' has the query parameter '${key}', which the store does not take; it takes ${Object.keys(QUERY).join(', ')} (others go in the redis option)`,
        'redis',
      );
    }
    options[key] = read(value, shown);
  }
  const tls = scheme.startsWith('rediss');
  const redisOptions: RedisOptions = {};
  if (username !== undefined) redisOptions.username = username;
  if (password !== undefined) redisOptions.password = password;
  if (tls) redisOptions.tls = {};
  if (path !== '') redisOptions.db = Number(path);
  const plain = `${scheme}://${authority}${m[3] ?? ''}`;
  return { scheme, cluster, url: plain, nodes, redisOptions, options: options as Partial<RedisUrlOptions> };
}

/** Options from the URL's query and from the options object together; naming one twice is refused. */
export function mergeUrlOptions(parsed: ParsedRedisUrl, options: RedisUrlOptions, url: string): RedisUrlOptions {
  assertUrlOptions(parsed.scheme as StoreScheme, options, 'redis');
  for (const key of Object.keys(parsed.options)) {
    if ((options as Record<string, unknown>)[key] !== undefined) {
      throw invalidInput(`'${key}' is given both in the URL '${redactUrl(url)}' and as an option: give it once`, 'redis');
    }
  }
  return { ...parsed.options, ...options };
}
