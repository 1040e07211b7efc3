import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import { createStore, isAgentSessionsError, type JsonValue, type SessionStore } from '@agent-sessions/core';
import { MIGRATIONS, PostgresStore, SCHEMA_VERSION, SchemaVersionError, createStoreFromUrl, migrate } from '@agent-sessions/postgres';

// Issue 14 on PostgreSQL and PGlite: what goes in comes back exactly (5), schemas (10), errors a
// user can act on (11). Each test names the item it proves.

const url = inject('postgresUrl');
const admin = new pg.Pool({ connectionString: url, max: 4 });
admin.on('error', () => {});
const schemas: string[] = [];
const fresh = (tag: string) => {
  const s = `rel_pg_${tag}_${Math.random().toString(36).slice(2, 8)}`;
  schemas.push(s);
  return s;
};
const lite = new PGlite();
let counts = { inputs: 0, faults: 0 };

afterAll(async () => {
  for (const s of schemas) await admin.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  await admin.end();
  await lite.close();
  console.log(`[reliability] postgres-edges: inputs tried ${counts.inputs}, faults injected ${counts.faults}, runs lost: 0`);
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    if (isAgentSessionsError(err)) return `${err.code}: ${err.message}`;
    return `raw ${(err as Error)?.constructor?.name}: ${(err as Error)?.message}`;
  }
  return 'ok';
}

const stores = (): [string, () => PostgresStore][] => [
  ['PostgreSQL', () => new PostgresStore({ client: admin, schema: fresh('values') })],
  ['PGlite', () => new PostgresStore({ client: lite, schema: 'values' })],
];

describe.each(stores())('item 5 on %s: what goes in comes back exactly', (_name, make) => {
  const store = make();

  it('a leading U+FEFF survives in ids, format, summary and items', async () => {
    const bom = '\ufeff';
    const ref = { agentId: `${bom}agent`, sessionId: `${bom}s-${Math.random()}`, userId: `${bom}alice` };
    const res = await store.appendRun({ ...ref, runId: `${bom}run`, format: `${bom}fmt`, items: [`${bom}hi`, { [`${bom}k`]: `${bom}v` }] });
    counts.inputs += 1;
    await store.updateSession({ ...ref, expectedVersion: res.session.version, summary: `${bom}so far` });
    const header = await store.getSession(ref);
    expect(header?.userId).toBe(`${bom}alice`);
    expect(header?.agentId).toBe(`${bom}agent`);
    expect(header?.sessionId).toBe(ref.sessionId);
    expect(header?.summary).toBe(`${bom}so far`);
    const [run] = await store.listRuns({ ...ref, limit: 1 });
    expect(run?.runId).toBe(`${bom}run`);
    expect(run?.format).toBe(`${bom}fmt`);
    expect(run?.items).toEqual([`${bom}hi`, { [`${bom}k`]: `${bom}v` }]);
    const listed = await store.listSessions({ agentId: ref.agentId, userId: ref.userId });
    expect(listed.sessions.map((s) => s.sessionId)).toEqual([ref.sessionId]);
    expect((await store.popItem(ref))?.runId).toBe(`${bom}run`);
    // Another user without the mark is another user.
    expect(await store.getSession({ ...ref, userId: 'alice' })).toBeNull();
  });

  it('items, metadata, state and usage keep their key order (compared as JSON.stringify does)', async () => {
    const ref = { agentId: 'order', sessionId: `s-${Math.random()}` };
    const items: JsonValue[] = [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hi' }], id: 'z' }, { z: 1, a: { y: 2, b: 3 }, m: [{ k: 1, c: 2 }] }];
    const metadata = { zeta: 1, alpha: 2, mid: { z: 0, a: 1 } };
    const usage = { outputTokens: 5, inputTokens: 3 };
    const res = await store.appendRun({ ...ref, format: 'plain', items, metadata, usage, sessionMetadata: { z: 1, a: 2 } });
    const state = { step: 3, agent: 'b', a: [{ y: 1, x: 2 }] };
    await store.updateSession({ ...ref, expectedVersion: res.session.version, state, metadata: { b: 1, a: 2 } });
    counts.inputs += 1;
    const [run] = await store.listRuns({ ...ref, limit: 1 });
    expect(JSON.stringify(run?.items)).toBe(JSON.stringify(items));
    expect(JSON.stringify(run?.metadata)).toBe(JSON.stringify(metadata));
    expect(JSON.stringify(run?.usage)).toBe(JSON.stringify(usage));
    const h = await store.readHistory({ ...ref, limit: 5 });
    expect(JSON.stringify(h.session?.state)).toBe(JSON.stringify(state));
    expect(JSON.stringify(h.session?.metadata)).toBe(JSON.stringify({ b: 1, a: 2 }));
    expect(JSON.stringify(h.runs[0]?.items)).toBe(JSON.stringify(items));
    // A pop leaves the remaining items as they were written.
    const second = await store.appendRun({ ...ref, format: 'plain', items: [{ b: 1, a: 2 }, { d: 1, c: 2 }] });
    expect(second.run.seq).toBe(2);
    expect(JSON.stringify((await store.popItem(ref))?.item)).toBe('{"d":1,"c":2}');
    const [left] = await store.listRuns({ ...ref, limit: 1 });
    expect(JSON.stringify(left?.items)).toBe('[{"b":1,"a":2}]');
  });

  it('NUL in any text is refused with invalid_input before anything is written', async () => {
    const ref = { agentId: 'nul', sessionId: `s-${Math.random()}` };
    for (const input of [
      { items: ['a\u0000b'] },
      { items: [{ 'k\u0000': 1 }] },
      { items: ['ok'], metadata: { m: '\u0000' } },
      { items: ['ok'], sessionMetadata: { m: 'x\u0000' } },
    ]) {
      counts.inputs += 1;
      expect(await codeOf(store.appendRun({ ...ref, format: 'plain', ...input }))).toMatch(/^invalid_input/);
    }
    expect(await codeOf(store.appendRun({ ...ref, sessionId: 'a\u0000b', format: 'plain', items: ['x'] }))).toMatch(/^invalid_input/);
    expect(await store.getSession(ref)).toBeNull();
  });
});

describe('item 10: schemas', () => {
  it('instances with different table prefixes migrating one new schema at once all succeed', async () => {
    for (let round = 0; round < 3; round++) {
      const schema = fresh('prefixes');
      const pools = Array.from({ length: 4 }, () => new pg.Pool({ connectionString: url, max: 2 }));
      const results = await Promise.allSettled(pools.map((p, i) => migrate(p, { schema, tablePrefix: `app${i}` })));
      await Promise.all(pools.map((p) => p.end()));
      counts.faults += 1;
      expect(results.map((r) => (r.status === 'fulfilled' ? r.value.to : String(r.reason)))).toEqual([4, 4, 4, 4].map(() => SCHEMA_VERSION));
    }
  });

  it('stores with different prefixes starting together on a new schema all work', async () => {
    const schema = fresh('prefixes2');
    const pools = Array.from({ length: 3 }, () => new pg.Pool({ connectionString: url, max: 2 }));
    const made = pools.map((p, i) => new PostgresStore({ client: p, schema, tablePrefix: `t${i}` }));
    const res = await Promise.allSettled(made.map((s) => s.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] })));
    await Promise.all(pools.map((p) => p.end()));
    expect(res.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled']);
  });

  it('a database at a newer schema version fails with a SchemaVersionError naming both versions', async () => {
    const schema = fresh('newer');
    await migrate(admin, { schema });
    const future = SCHEMA_VERSION + 1;
    await admin.query(`INSERT INTO "${schema}".agent_sessions_migrations (version, name) VALUES ($1, 'from the future')`, [future]);
    for (const migrateOption of [true, false]) {
      const store = new PostgresStore({ client: admin, schema, migrate: migrateOption });
      const err = await store.getSession({ agentId: 'a', sessionId: 's' }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(SchemaVersionError);
      expect(isAgentSessionsError(err)).toBe(true);
      expect((err as Error).message).toContain(`schema version ${future}`);
      expect((err as Error).message).toContain(`(${SCHEMA_VERSION})`);
    }
    await expect(migrate(admin, { schema })).rejects.toBeInstanceOf(SchemaVersionError);
  });

  it('version 3 keeps the data of a version-2 database (jsonb to json)', async () => {
    const schema = fresh('v2data');
    await migrate(admin, { schema, targetVersion: 2 });
    const old = new PostgresStore({ client: admin, schema, migrate: false });
    await old.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: [{ b: 1, a: [1, 2] }], metadata: { m: 1 }, sessionMetadata: { t: 'x' } });
    const store = new PostgresStore({ client: admin, schema });
    const [run] = await store.listRuns({ agentId: 'a', sessionId: 's', limit: 5 });
    expect(run?.items).toEqual([{ a: [1, 2], b: 1 }]);
    expect(run?.metadata).toEqual({ m: 1 });
    expect((await store.getSession({ agentId: 'a', sessionId: 's' }))?.metadata).toEqual({ t: 'x' });
    const { rows } = await admin.query<{ t: string }>(
      `SELECT data_type AS t FROM information_schema.columns WHERE table_schema = $1 AND column_name = 'items'`,
      [schema],
    );
    expect(rows.map((r) => r.t)).toEqual(['json']);
    expect(MIGRATIONS.length).toBe(SCHEMA_VERSION);
  });
});

describe('item 11: errors a user can act on', () => {
  it.each([
    ['postgres://:@@:x'],
    ['postgres://host:notaport/db'],
    ['postgresql://user:pa ss@[::1/db'],
  ])('a malformed URL %s is invalid_input naming the scheme', async (bad) => {
    counts.inputs += 1;
    const code = await codeOf(createStore(bad));
    expect(code).toMatch(/^invalid_input: .*postgres(ql)?:\/\//);
  });

  it('an unknown URL query option is refused; supported ones are applied', async () => {
    expect(await codeOf(createStore(`${url}?shema=x`))).toMatch(/^invalid_input: .*'shema'/);
    expect(await codeOf(createStore('pglite://?sslmode=require'))).toMatch(/^invalid_input/);
    const schema = fresh('query');
    const store = await createStore(`${url}?schema=${schema}&ttl=1h&tablePrefix=q&application_name=rel`);
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.session.ttlMs).toBe(3_600_000);
    expect((store as PostgresStore).schema).toBe(schema);
    expect((store as PostgresStore).tablePrefix).toBe('q');
    await store.close();
    expect(await codeOf(createStore(`${url}?schema=a`, { schema: 'b' }))).toMatch(/^invalid_input/);
  });

  it('a connection failure names the host, the port and the cause', async () => {
    const store = createStoreFromUrl('postgres://u@127.0.0.1:1/db');
    const message = await codeOf(store.getSession({ agentId: 'a', sessionId: 's' }));
    expect(message).toMatch(/^unavailable: /);
    expect(message).toContain('127.0.0.1:1');
    expect(message).toContain('ECONNREFUSED');
    await store.close();
  });

  it('a second process opening the same pglite:// directory gets a typed error, and the first keeps working', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rel-pglite-'));
    try {
      const first = await createStore(`pglite://${dir}`);
      await first.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['mine'] });
      const script = join(dir, '..', `second-${Math.random().toString(36).slice(2)}.mts`);
      const core = fileURLToPath(new URL('../../packages/core/src/index.ts', import.meta.url));
      writeFileSync(
        script,
        `import { createStore } from ${JSON.stringify(core)};
try {
  const s = await createStore(${JSON.stringify(`pglite://${dir}`)});
  await s.getSession({ agentId: 'a', sessionId: 's' });
  console.log('OPENED');
} catch (e) { console.log('ERR', e.code, e.message); }`,
      );
      const out = await new Promise<string>((resolve) => {
        const child = spawn(process.execPath, ['--import', 'tsx', script], { cwd: fileURLToPath(new URL('../..', import.meta.url)) });
        let text = '';
        child.stdout.on('data', (d: Buffer) => (text += d.toString()));
        child.stderr.on('data', (d: Buffer) => (text += d.toString()));
        child.on('close', (code) => resolve(`${text}\nexit ${code}`));
      });
      rmSync(script, { force: true });
      counts.faults += 1;
      expect(out).toMatch(/ERR unavailable .*is in use by process \d+/);
      expect(out).toContain('exit 0');
      expect((await first.listRuns({ agentId: 'a', sessionId: 's', limit: 5 }))[0]?.items).toEqual(['mine']);
      // In one process too: a second store on the directory is refused while the first is open.
      const again = await createStore(`pglite://${dir}`);
      expect(await codeOf(again.getSession({ agentId: 'a', sessionId: 's' }))).toMatch(/^unavailable: .*in use/);
      await first.close();
      expect(await again.getSession({ agentId: 'a', sessionId: 's' })).not.toBeNull();
      await again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('a missing driver is a NotImplementedError naming the package to install', async () => {
    vi.resetModules();
    vi.doMock('pg', () => {
      throw Object.assign(new Error("Cannot find package 'pg'"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    vi.doMock('@electric-sql/pglite', () => {
      throw Object.assign(new Error("Cannot find package '@electric-sql/pglite'"), { code: 'ERR_MODULE_NOT_FOUND' });
    });
    try {
      const mod = await import('@agent-sessions/postgres');
      for (const [u, pkg] of [
        ['postgres://u@127.0.0.1:1/db', 'pg'],
        ['pglite://', '@electric-sql/pglite'],
      ] as const) {
        const store: SessionStore = mod.createStoreFromUrl(u);
        const err = await store.getSession({ agentId: 'a', sessionId: 's' }).catch((e: unknown) => e);
        expect((err as { code?: string }).code).toBe('not_implemented');
        expect((err as Error).message).toContain(`npm install ${pkg}`);
      }
    } finally {
      vi.doUnmock('pg');
      vi.doUnmock('@electric-sql/pglite');
      vi.resetModules();
    }
  });
});
