import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AgentSessionsError, NotImplementedError, invalidInput } from './errors.js';
import { MemoryStore } from './memory-store.js';
import type { SessionStore } from './session-store.js';
import { assertUrlOptions, urlScheme, type OptionsForUrl, type StoreScheme, type StoreUrlOptions } from './store-urls.js';

/** Options for `createStore`: the options of any scheme (see `StoreUrlOptions` for each one's). */
export type CreateStoreOptions = StoreUrlOptions[StoreScheme];

/** Which package serves a URL scheme, and the driver it needs beside it. */
export const STORE_SCHEMES: Readonly<Record<string, { package: string; driver: string } | null>> = {
  memory: null,
  postgres: { package: '@agent-sessions/postgres', driver: 'pg' },
  postgresql: { package: '@agent-sessions/postgres', driver: 'pg' },
  pglite: { package: '@agent-sessions/postgres', driver: '@electric-sql/pglite' },
  redis: { package: '@agent-sessions/redis', driver: 'ioredis' },
  rediss: { package: '@agent-sessions/redis', driver: 'ioredis' },
  'redis+cluster': { package: '@agent-sessions/redis', driver: 'ioredis' },
  'rediss+cluster': { package: '@agent-sessions/redis', driver: 'ioredis' },
  mongodb: { package: '@agent-sessions/mongodb', driver: 'mongodb' },
  'mongodb+srv': { package: '@agent-sessions/mongodb', driver: 'mongodb' },
};

/** What a store package exports for `createStore`. */
export interface StorePackage {
  createStoreFromUrl(url: string, options?: never): SessionStore | Promise<SessionStore>;
}

/** A URL with any password replaced, safe for error messages and logs. */
export function redactUrl(url: string): string {
  return url.replace(/(\/\/[^:/?#@]*:)[^@/?#]*@/, '$1***@');
}

function isNotFound(err: unknown): boolean {
  const code = (err as { code?: string }).code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Loads a store package. A variable specifier keeps bundlers from pulling in every store: each
 * loads only when asked for. Under strict layouts (pnpm) core itself cannot see a store package
 * the application installed, so the second try resolves it from the application's directory.
 */
async function load(specifier: string): Promise<unknown> {
  try {
    return await import(specifier);
  } catch (err) {
    if (!isNotFound(err)) throw err;
    const req = createRequire(join(process.cwd(), 'package.json'));
    let manifest: string;
    try {
      manifest = req.resolve(`${specifier}/package.json`);
    } catch {
      throw err;
    }
    const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as {
      exports?: { '.'?: { import?: { default?: string } } };
      module?: string;
      main?: string;
    };
    const entry = pkg.exports?.['.']?.import?.default ?? pkg.module ?? pkg.main ?? 'index.js';
    return import(pathToFileURL(join(dirname(manifest), entry)).href);
  }
}

/**
 * A store chosen by URL, so the backend can differ per environment:
 * `memory://`, `postgres://` or `postgresql://`, `pglite://<dir>` (empty dir: in memory),
 * `redis://`, `rediss://` or `redis+cluster://h1:p1,h2:p2`, `mongodb://` or `mongodb+srv://`.
 * The options are typed per scheme, and an option the scheme does not take fails with
 * `invalid_input`. The store package for a scheme is loaded on demand; a missing one (or its
 * driver) gets a NotImplementedError naming what to install.
 */
export async function createStore<U extends string>(url: U, options: OptionsForUrl<U> = {} as OptionsForUrl<U>): Promise<SessionStore> {
  if (typeof url !== 'string') throw invalidInput('createStore needs a URL string such as postgres://… or memory://');
  const scheme = urlScheme(url);
  if (!scheme || !(scheme in STORE_SCHEMES)) {
    throw invalidInput(
      `createStore cannot tell the store from '${redactUrl(url)}': use one of ${Object.keys(STORE_SCHEMES)
        .map((s) => `${s}://`)
        .join(', ')}`,
    );
  }
  assertUrlOptions(scheme as StoreScheme, options ?? {});
  const target = STORE_SCHEMES[scheme];
  if (!target) {
    if (!/^memory:\/\/\/?$/i.test(url)) throw invalidInput(`memory:// takes nothing after the scheme, got '${redactUrl(url)}'`);
    return new MemoryStore(options);
  }
  let mod: unknown;
  try {
    mod = await load(target.package);
  } catch (err) {
    if (isNotFound(err)) {
      throw new NotImplementedError(`${scheme}:// URLs need ${target.package}: npm install ${target.package} ${target.driver}`, {
        cause: err,
      });
    }
    throw err;
  }
  const pkg = mod as Partial<StorePackage>;
  if (typeof pkg.createStoreFromUrl !== 'function') {
    throw new AgentSessionsError('internal', `${target.package} does not export createStoreFromUrl: update it to match @agent-sessions/core`);
  }
  return pkg.createStoreFromUrl(url, options as never);
}
