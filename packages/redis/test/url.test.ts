import { describe, expect, it } from 'vitest';
import { isAgentSessionsError, NotImplementedError } from '@agent-sessions/core';
import { parseRedisUrl } from '@agent-sessions/redis';
import { loadDriver } from '../src/connect.js';

// No server: URL parsing and driver loading.
describe('parseRedisUrl', () => {
  it('reads standalone and cluster URLs, credentials, TLS, the database and the store options', () => {
    expect(parseRedisUrl('redis://localhost')).toMatchObject({ cluster: false, url: 'redis://localhost', nodes: [{ host: 'localhost', port: 6379 }] });
    const p = parseRedisUrl('rediss://bob:p%40ss@cache:6380/2?ttl=1h&prefix=app:&touchOnRead=true&timeoutMs=2500&evictionPolicy=warn');
    expect(p.url).toBe('rediss://bob:p%40ss@cache:6380/2');
    expect(p.redisOptions).toEqual({ username: 'bob', password: 'p@ss', tls: {}, db: 2 });
    expect(p.options).toEqual({ ttl: '1h', prefix: 'app:', touchOnRead: true, timeoutMs: 2500, evictionPolicy: 'warn' });
    const c = parseRedisUrl('redis+cluster://:secret@10.0.0.1:7000,10.0.0.2,[::1]:7002?ttl=none');
    expect(c.cluster).toBe(true);
    expect(c.nodes).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 6379 },
      { host: '::1', port: 7002 },
    ]);
    expect(c.redisOptions).toEqual({ password: 'secret' });
    expect(c.options).toEqual({ ttl: null });
    expect(parseRedisUrl('rediss+cluster://h:1').redisOptions).toEqual({ tls: {} });
  });

  it('refuses malformed URLs and unknown parameters with invalid_input naming the scheme, never showing the password', () => {
    for (const [url, scheme] of [
      ['redis://:@@:x', 'redis://'],
      ['redis://u:hunter2@@h', 'redis://'],
      ['redis://h:0', 'redis://'],
      ['redis://h:65536', 'redis://'],
      ['redis://h1,h2', 'redis://'],
      ['redis://h/db', 'redis://'],
      ['redis+cluster://h:1/0', 'redis+cluster://'],
      ['redis+cluster://h:1,', 'redis+cluster://'],
      ['redis://h?family=6', 'redis://'],
      ['redis://h?timeoutMs=soon', 'timeoutMs'],
      ['redis://h?touchOnRead=yes', 'touchOnRead'],
      ['redis://h?evictionPolicy=ignore', 'evictionPolicy'],
      ['memcached://h', 'redis://'],
    ] as const) {
      let caught: unknown;
      try {
        parseRedisUrl(url);
      } catch (err) {
        caught = err;
      }
      expect(isAgentSessionsError(caught, 'invalid_input'), `${url}: ${String(caught)}`).toBe(true);
      expect((caught as Error).message).toContain(scheme);
      expect((caught as Error).message).not.toContain('hunter2');
    }
  });
});

describe('loadDriver', () => {
  it('a missing ioredis is a NotImplementedError naming the package to install', () => {
    const missing = (id: string) => {
      throw Object.assign(new Error(`Cannot find module '${id}'`), { code: 'MODULE_NOT_FOUND' });
    };
    let caught: unknown;
    try {
      loadDriver(missing);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(NotImplementedError);
    expect((caught as Error).message).toContain('npm install ioredis');
  });

  it('loads the installed ioredis', () => {
    const { Redis, Cluster } = loadDriver();
    expect(typeof Redis).toBe('function');
    expect(typeof Cluster).toBe('function');
  });
});
