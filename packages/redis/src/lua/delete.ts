import { sessionScript } from './prelude.js';

/**
 * Deletes a session with all its runs if this call may see it. UNLINK frees the keys' memory in
 * a background thread, so deleting a session of 100,000 runs does not block the server (DEL
 * did, for about 0.75 s). Only the fields visibility needs are checked, so a session whose other
 * header fields are malformed can still be deleted.
 *
 * ARGV: now, user, sessionId. Reply: `corrupt` + field, `absent`, or `deleted` + the header it
 * had + indexed.
 */
export const DELETE = sessionScript(String.raw`
local h = redis.call('HMGET', H, unpack(FIELDS))
if not h[11] then return {'absent'} end
if h[6] and not whole(h[6]) then return {'corrupt', 'expiresAt'} end
if not visible(h) then return {'absent'} end
redis.call('UNLINK', H, D, Q, C)
return reply('deleted', h, index_drop_inline(h, whole(h[5]) and h[5] or '+inf'))
`);
