import { PGlite } from '@electric-sql/pglite';

let db: Promise<PGlite> | undefined;

/**
 * One in-memory PGlite database per process, shared by our store and the PGlite floor the
 * way the server backends share one server (separate tables). It also halves the start-up
 * cost: a PGlite instance takes seconds to boot.
 */
export function sharedPglite(): Promise<PGlite> {
  db ??= PGlite.create();
  return db;
}

export async function closePglite(): Promise<void> {
  const d = db;
  db = undefined;
  if (d) await (await d).close();
}
