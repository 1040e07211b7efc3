import { sessionScript } from './prelude.js';

/**
 * renameSession / touchSession: one write without a read by the client first. Bumps the version
 * and restarts the TTL; a touch also moves updatedAt to now (never back), which moves the
 * session in the listing indexes.
 *
 * ARGV: now, user, sessionId, title ('' leave, '-' clear, '=' + text), touch ('1'/'0').
 * Reply: `corrupt` + field, `not_found`, or `ok` + header + indexed.
 */
export const PATCH = sessionScript(String.raw`
local TITLE, TOUCH = ARGV[4], ARGV[5]
local h, bad = load_header(true)
if bad then return {'corrupt', bad} end
if not visible(h) then return {'not_found'} end
-- Checked: only writes from here on.
local had_ttl = h[7]
local extra = {}
if TITLE == '-' then
  if h[13] then redis.call('HDEL', H, 'title') end
  h[13] = false
elseif TITLE ~= '' then
  h[13] = string.sub(TITLE, 2) extra = {'title', h[13]}
end
mark_write(h, extra, TOUCH ~= '1')
return reply('ok', h, index_put_inline(h, had_ttl))
`);
