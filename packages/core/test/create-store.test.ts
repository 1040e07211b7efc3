import { describe, expect, it } from 'vitest';
import { MemoryStore, createStore } from '@agent-sessions/core';
import { redactUrl } from '@agent-sessions/core/store';

describe('createStore', () => {
  it('memory:// gives a MemoryStore with the options passed', async () => {
    const store = await createStore('memory://', { ttl: '1h' });
    expect(store).toBeInstanceOf(MemoryStore);
    const res = await store.appendRun({ agentId: 'a', sessionId: 's', format: 'plain', items: ['x'] });
    expect(res.session.ttlMs).toBe(3_600_000);
  });

  it.each(['mysql://localhost/db', 'nope', 'file:///tmp/x', ''])('rejects %j with invalid_input naming the schemes', async (url) => {
    await expect(createStore(url)).rejects.toMatchObject({ code: 'invalid_input', message: expect.stringContaining('postgres://') });
  });

  it('never puts a password in an error message', async () => {
    const err = await createStore('mysql://user:s3cret@host/db').catch((e: Error) => e);
    expect(String((err as Error).message)).not.toContain('s3cret');
    expect(redactUrl('postgres://u:p@h:5432/d')).toBe('postgres://u:***@h:5432/d');
  });
});
