import { describe, expect, it } from 'vitest';
import { MongoServerError } from 'mongodb';
import { classifyError } from '@agent-sessions/core/store';
import { MONGO_DRIVER_ERRORS, MongoSessionStore, MongoStore, isLostRace, isWriteConflict } from '@agent-sessions/mongodb';

const server = (fields: { code: number; codeName?: string; errmsg: string; errorLabels?: string[] }) => new MongoServerError({ ok: 0, ...fields });

describe('MongoDB errors map to codes (no server)', () => {
  it('authentication and permission failures are access_denied, never unavailable or internal', () => {
    expect(classifyError(server({ code: 18, codeName: 'AuthenticationFailed', errmsg: 'Authentication failed.' }), MONGO_DRIVER_ERRORS)).toBe('access_denied');
    expect(classifyError(server({ code: 13, codeName: 'Unauthorized', errmsg: 'not authorized on db to execute command' }), MONGO_DRIVER_ERRORS)).toBe('access_denied');
  });

  it('write conflicts and deadlock codes are lost races, and conflict when they outlast the retries', () => {
    for (const e of [
      server({ code: 112, codeName: 'WriteConflict', errmsg: 'Could not acquire lock for operation due to deadlock' }),
      server({ code: 16908292, errmsg: 'deadlock detected' }),
      server({ code: 251, errmsg: 'aborted', errorLabels: ['TransientTransactionError'] }),
    ]) {
      expect(isWriteConflict(e)).toBe(true);
      expect(isLostRace(e)).toBe(true);
      expect(classifyError(e, MONGO_DRIVER_ERRORS)).toBe('conflict');
    }
    expect(isLostRace(server({ code: 11000, errmsg: 'E11000 duplicate key error' }))).toBe(true);
    expect(isLostRace(server({ code: 2, errmsg: 'BadValue' }))).toBe(false);
  });

  it('network and failover errors are unavailable', () => {
    const net = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'MongoNetworkError' });
    expect(classifyError(net, MONGO_DRIVER_ERRORS)).toBe('unavailable');
    expect(classifyError(server({ code: 10107, errmsg: 'not primary' }), MONGO_DRIVER_ERRORS)).toBe('unavailable');
  });

  it('MongoSessionStore is the deprecated alias of MongoStore', () => {
    expect(MongoSessionStore).toBe(MongoStore);
  });
});
