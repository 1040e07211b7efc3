import { AgentSessionsError, STORE_SCHEMES, createStore, isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
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
