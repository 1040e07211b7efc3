import { allRuns, concurrencyTests } from './concurrency.js';
import type { ConformanceOptions } from './context.js';
import { appDataTests } from './app-data.js';
import { edgeTests } from './edges.js';
import { historyTests } from './history.js';
import { isolationTests } from './isolation.js';
import { listingTests } from './listing.js';
import { modelBasedTests } from './model-based.js';
import { runTests } from './runs.js';
import { sessionTests } from './sessions.js';
import { ttlTests } from './ttl.js';
import { validationTests } from './validation.js';
import { windowReadTests } from './window-reads.js';

export type { ConformanceOptions, TestApi, SuiteContext } from './context.js';
export { rid, rejectsWith } from './context.js';
export { allRuns };
export {
  sessionTests,
  runTests,
  windowReadTests,
  listingTests,
  ttlTests,
  isolationTests,
  concurrencyTests,
  validationTests,
  modelBasedTests,
  historyTests,
  appDataTests,
  edgeTests,
};

/** Every part of the suite, by name. */
export const PARTS = {
  sessions: sessionTests,
  runs: runTests,
  windowReads: windowReadTests,
  listing: listingTests,
  ttl: ttlTests,
  isolation: isolationTests,
  concurrency: concurrencyTests,
  validation: validationTests,
  modelBased: modelBasedTests,
  history: historyTests,
  appData: appDataTests,
  edges: edgeTests,
} as const;

export type PartName = keyof typeof PARTS;

/**
 * Runs the whole conformance suite (or the parts named in `only`) against a store.
 *
 * ```ts
 * import { describe, it, beforeAll, afterAll } from 'vitest';
 * runConformanceSuite({ name: 'my-store', createStore: () => new MyStore(...), test: { describe, it, beforeAll, afterAll } });
 * ```
 */
export function runConformanceSuite(options: ConformanceOptions & { only?: readonly PartName[] | undefined }): void {
  const names = options.only ?? (Object.keys(PARTS) as PartName[]);
  options.test.describe(`conformance: ${options.name}`, () => {
    for (const name of names) PARTS[name](options);
  });
}
