import { sessionScript } from './prelude.js';

/**
 * Creates an empty session, or answers with the live one. An expired one is replaced.
 *
 * ARGV: now, user, sessionId, agentId, metadata JSON, state JSON, ttl ('' none, ms).
 * Reply: `not_found`, `exists` + header + indexed, or `created` + header + indexed.
 */
export const CREATE = sessionScript(String.raw`
local AGENT, META, STATE, TTL = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local h = load_header()
if h[11] and not expired(h) then
  if USER ~= '' and h[3] ~= USER then return {'not_found'} end
  return reply('exists', h, '1')
end
redis.call('DEL', H, D, Q, C)
redis.call('HSET', H, 'agentId', AGENT, 'sessionId', SID, 'createdAt', NOW_ARG, 'updatedAt', NOW_ARG,
  'metadata', META, 'state', STATE, 'version', '1', 'lastSeq', '0')
if USER ~= '' then redis.call('HSET', H, 'userId', USER) end
if TTL ~= '' then redis.call('HSET', H, 'ttlMs', TTL) end
refresh_ttl(TTL)
h = load_header()
return reply('created', h, index_put_inline(h))
`);
