import { describe, expect, it } from 'vitest';
import { MongoClient } from 'mongodb';
import { MongoStore } from '@agent-sessions/mongodb';

describe('MongoStore: the stuck-connection watch', () => {
  it('listens on a shared client once, however many stores use it, and lets go when the last closes', async () => {
    // Never connected: the client only carries listeners here.
    const client = new MongoClient('mongodb://127.0.0.1:1/', { serverSelectionTimeoutMS: 100 });
    const before = client.listenerCount('serverDescriptionChanged');
    const stores = Array.from({ length: 12 }, (_, i) => new MongoStore({ client, database: `db${i}` }));
    expect(client.listenerCount('serverDescriptionChanged')).toBe(before + 1);
    for (const s of stores.slice(0, 11)) await s.close();
    await stores[0]!.close();
    expect(client.listenerCount('serverDescriptionChanged')).toBe(before + 1);
    await stores[11]!.close();
    expect(client.listenerCount('serverDescriptionChanged')).toBe(before);
    await client.close();
  });
});
