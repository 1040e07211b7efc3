import { STORE_SCHEMES, createStore, isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { urlScheme, type StorePackage } from '@agent-sessions/core/store';

/**
 * `createStore`, which loads the scheme's store package from core's or the working directory's
 * node_modules; when neither has it, the package installed beside this command (an optional
 * peer, e.g. `npx -p agent-sessions -p @agent-sessions/postgres -p pg`) is tried before giving up.
 */
export async function openStore(url: string, options: { timeoutMs?: number | undefined }): Promise<SessionStore> {
  try {
    return await createStore(url, options);
  } catch (err) {
    if (!isAgentSessionsError(err, 'not_implemented')) throw err;
    const target = STORE_SCHEMES[urlScheme(url) ?? ''];
    if (!target) throw err;
    let mod: Partial<StorePackage>;
    try {
      mod = (await import(/* @vite-ignore */ target.package)) as Partial<StorePackage>;
    } catch {
      throw err;
    }
    if (typeof mod.createStoreFromUrl !== 'function') throw err;
    return mod.createStoreFromUrl(url, options as never);
  }
}

/** What to run instead when a store package is missing. */
export function installHint(url: string | undefined): string | undefined {
  const target = url ? STORE_SCHEMES[urlScheme(url) ?? ''] : undefined;
  if (!target) return undefined;
  return `with npx: npx -p agent-sessions -p ${target.package} -p ${target.driver} agent-sessions …`;
}
