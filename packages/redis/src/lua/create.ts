import { sessionScript } from './prelude.js';

/**
 * Creates an empty session, or answers with the live one. An expired one is replaced.
 *
 * ARGV: now, user, sessionId, agentId, metadata JSON, state JSON, ttlMs ('' none), expiresAt ('' none).
 * Reply: `corrupt` + field, `not_found`, `exists` + header + indexed, or `created` + header + indexed.
 */
export const CREATE = sessionScript(String.raw`
local AGENT, META, STATE, TTL, EXP = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local h, bad = load_header(true)
if bad then return {'corrupt', bad} end
if h[11] and not expired(h) then
  if USER ~= '' and h[3] ~= USER then return {'not_found'} end
  return reply('exists', h, '1')
end
-- Checked: only writes from here on.
redis.call('UNLINK', H, D, Q, C)
local exp = TTL ~= '' and EXP or false
h = {AGENT, SID, USER ~= '' and USER or false, NOW_ARG, NOW_ARG, exp, TTL ~= '' and TTL or false,
  META, STATE, false, '1', '0', false, false, false, false}
local args = {'agentId', AGENT, 'sessionId', SID, 'createdAt', NOW_ARG, 'updatedAt', NOW_ARG,
  'metadata', META, 'state', STATE, 'version', '1', 'lastSeq', '0'}
if h[3] then args[#args + 1] = 'userId' args[#args + 1] = USER end
if exp then
  args[#args + 1] = 'ttlMs' args[#args + 1] = TTL
  args[#args + 1] = 'expiresAt' args[#args + 1] = exp
end
redis.call('HSET', H, unpack(args))
mirror(h)
key_ttl(exp, false)
return reply('created', h, index_put_inline(h, true))
`);
