import assert from 'node:assert/strict';
import { MAX_TTL_MS } from '@agent-sessions/core';
import { part, ref, rejectsWith, type ConformanceOptions } from './context.js';

/** The edges: TTLs every backend can represent, and input that changes under the check. */
export function edgeTests(options: ConformanceOptions): void {
  part(options, 'edges', ({ it, store }) => {
    it('a TTL under 1 ms or over the maximum is refused before anything is written, and the history survives', async () => {
      const r = ref();
      await store().appendRun({ ...r, format: 'plain', items: ['kept'] });
      for (const ttl of ['0.4ms', '0.0001s', MAX_TTL_MS + 1, 1e19, Number.MAX_SAFE_INTEGER, '200y', '101000d']) {
        await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: ['x'], ttl }), 'invalid_input');
        await rejectsWith(() => store().createSession({ ...ref(), ttl }), 'invalid_input');
      }
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['kept']]);
      const next = await store().appendRun({ ...r, format: 'plain', items: ['next'] });
      assert.equal(next.run.seq, 2);
    });

    it('the longest TTL is accepted and gives an expiry every backend keeps', async () => {
      const r = ref();
      const res = await store().appendRun({ ...r, format: 'plain', items: ['a'], ttl: MAX_TTL_MS });
      assert.equal(res.session.ttlMs, MAX_TTL_MS);
      const got = await store().getSession(r);
      assert.ok(got);
      assert.ok(got.expiresAt !== null && got.expiresAt > Date.now() + MAX_TTL_MS - 86_400_000);
      const again = await store().appendRun({ ...r, format: 'plain', items: ['b'] });
      assert.equal(again.run.seq, 2);
    });

    it('items whose getters answer differently the second time are stored as first read', async () => {
      const r = ref();
      let reads = 0;
      const item = {
        get content(): unknown {
          reads += 1;
          return reads === 1 ? 'checked' : 10n; // a BigInt would fail the check, were it read again
        },
      };
      const res = await store().appendRun({ ...r, format: 'plain', items: [item as unknown as string] });
      assert.deepEqual(res.run.items, [{ content: 'checked' }]);
      assert.deepEqual((await store().listRuns({ ...r, limit: 1 }))[0]?.items, [{ content: 'checked' }]);
    });

    it('an items array with its own toJSON, a Proxy or an array subclass is stored as the plain array it holds', async () => {
      const r = ref();
      const withToJson = Object.assign(['a', 'b'], { toJSON: () => 'not an array' });
      class Items extends Array<string> {}
      const subclass = Items.from(['c']);
      const proxy = new Proxy(['d', { e: 1 }], {});
      for (const items of [withToJson, subclass, proxy]) {
        await store().appendRun({ ...r, format: 'plain', items: items as unknown as string[] });
      }
      const runs = await store().listRuns({ ...r, limit: 10 });
      assert.deepEqual(runs.map((x) => x.items), [['a', 'b'], ['c'], ['d', { e: 1 }]]);
      // popItem keeps working on that session.
      assert.deepEqual((await store().popItem(r))?.item, { e: 1 });
      assert.deepEqual((await store().popItem(r))?.item, 'd');
      assert.deepEqual((await store().popItem(r))?.item, 'c');
    });

    it('a class instance with toJSON is refused, not converted', async () => {
      const r = ref();
      const when = new Date(0);
      await rejectsWith(() => store().appendRun({ ...r, format: 'plain', items: [{ when } as unknown as string] }), 'invalid_input');
      assert.equal(await store().getSession(r), null);
    });

    it('items, metadata and state keep their key order', async () => {
      const r = ref();
      const item = { z: 1, a: { y: 2, b: 3 }, m: [{ k2: 1, k1: 2 }], '10': 'n', '2': 'n' };
      const meta = { zeta: 1, alpha: 2 };
      const res = await store().appendRun({ ...r, format: 'plain', items: [item], metadata: meta, sessionMetadata: meta });
      await store().updateSession({ ...r, expectedVersion: res.session.version, state: { second: 1, first: 2 } });
      const [run] = await store().listRuns({ ...r, limit: 1 });
      assert.equal(JSON.stringify(run?.items), JSON.stringify([item]));
      assert.equal(JSON.stringify(run?.metadata), JSON.stringify(meta));
      const h = await store().getSession(r);
      assert.equal(JSON.stringify(h?.metadata), JSON.stringify(meta));
      assert.equal(JSON.stringify(h?.state), JSON.stringify({ second: 1, first: 2 }));
    });

    it('text with a leading byte order mark round-trips, in ids and in content', async () => {
      const r = { ...ref('\ufeffalice'), sessionId: `\ufeff${ref().sessionId}` };
      await store().appendRun({ ...r, format: 'plain', items: ['\ufeffhello'], sessionMetadata: { t: '\ufeffx' } });
      const h = await store().getSession(r);
      assert.equal(h?.userId, '\ufeffalice');
      assert.equal(h?.sessionId, r.sessionId);
      assert.equal(h?.metadata.t, '\ufeffx');
      assert.deepEqual((await store().listRuns({ ...r, limit: 1 }))[0]?.items, ['\ufeffhello']);
      assert.equal(await store().getSession({ ...r, userId: 'alice' }), null);
    });
  });
}
