import { randomBytes } from 'node:crypto';
import type { SessionStore } from '@agent-sessions/core';
import { PostgresStore } from '@agent-sessions/postgres';
import { afterAll, inject } from 'vitest';
import { sdkSessionSuite } from './sdk-cases.js';

// The SDK's own session expectations on the harness's PostgreSQL server, in a schema of this file's own.
let store: PostgresStore | undefined;
afterAll(async () => {
  await store?.close();
});

async function open(): Promise<SessionStore> {
  store ??= PostgresStore.fromConnectionString(inject('postgresUrl'), { schema: `as_oai_${randomBytes(5).toString('hex')}` });
  return store;
}

sdkSessionSuite('postgres', open);
