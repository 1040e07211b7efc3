import { sessionScript } from './prelude.js';

/**
 * Deletes a session with all its runs if this call may see it.
 *
 * ARGV: now, user, sessionId. Reply: `absent`, or `deleted` + the header it had + indexed.
 */
export const DELETE = sessionScript(String.raw`
local h = load_header()
if not visible(h) then return {'absent'} end
redis.call('DEL', H, D, Q, C)
return reply('deleted', h, index_drop_inline(h))
`);
