import { AgentSessionsError, STORE_SCHEMES, createStore, isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { urlScheme, type StorePackage } from '@agent-sessions/core/store';
import { UsageError } from './exit-codes.js';
import type { StoreOpenOptions } from './io.js';

/** The environment variable that holds the encryption key or key ring. */
export const ENCRYPTION_ENV = 'AGENT_SESSIONS_ENCRYPTION';

/**
 * The `encryption` option from the environment: a key as text (base64, base64url or hex of 32
 * bytes) or a key ring as JSON, `{"current":"k2","keys":{"k1":"…","k2":"…"}}`. Keys are never
 * taken from the command line, where they would end up in shell history and process lists.
 */
export function encryptionFromEnv(env: Record<string, string | undefined>): StoreOpenOptions['encryption'] {
  const text = env[ENCRYPTION_ENV]?.trim();
  if (!text) return undefined;
  if (!text.startsWith('{')) return text;
  try {
    return JSON.parse(text) as StoreOpenOptions['encryption'];
  } catch {
    throw new UsageError(`${ENCRYPTION_ENV} is neither a key nor a JSON key ring ({"current": id, "keys": {id: key}})`);
  }
}

/**
 * `createStore`, which loads the scheme's store package from core's or the working directory's
 * node_modules; when neither has it, the package installed beside this command (an optional
 * peer, e.g. `npx -p agent-sessions -p @agent-sessions/postgres -p pg`) is tried before giving up.
 */
export async function openStore(url: string, options: StoreOpenOptions): Promise<SessionStore> {
  try {
    return await createStore(url, options);
  } catch (err) {
    if (!isAgentSessionsError(err, 'not_implemented')) throw err;
    const target = STORE_SCHEMES[urlScheme(url) ?? ''];
    if (!target) throw err;
    let mod: Partial<StorePackage>;
    try {
      mod = (await import(/* @vite-ignore */ target.package)) as Partial<StorePackage>;
    } catch (loadErr) {
      // Not installed here either: core's message (what to install) stands. Installed but
      // failing to load (a missing driver, a mismatched core): that is the error worth showing.
      if (isMissing(loadErr, target.package)) throw err;
      throw new AgentSessionsError('not_implemented', `${target.package} could not be loaded: ${(loadErr as Error).message}`, { cause: loadErr });
    }
    if (typeof mod.createStoreFromUrl !== 'function') throw err;
    return mod.createStoreFromUrl(url, options as never);
  }
}

function isMissing(err: unknown, specifier: string): boolean {
  const code = (err as { code?: string }).code;
  return (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') && String((err as Error).message).includes(`'${specifier}'`);
}

/** What to run instead when a store package is missing. */
export function installHint(url: string | undefined): string | undefined {
  const target = url ? STORE_SCHEMES[urlScheme(url) ?? ''] : undefined;
  if (!target) return undefined;
  return `with npx: npx -p agent-sessions -p ${target.package} -p ${target.driver} agent-sessions …`;
}
