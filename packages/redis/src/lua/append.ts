import { sessionScript } from './prelude.js';

/**
 * Appends one run in one atomic call: drops the session if it expired, checks ownership,
 * answers a retried run id with the stored run, allocates the next seq, stores the run,
 * updates the header and restarts the TTL of every key.
 *
 * ARGV: now, user ('' none), sessionId, agentId, runId, run blob, ttl ('-' keep, '' none, ms),
 * default ttl ('' none, ms), session metadata JSON.
 * Reply: `not_found`; `exists` + header + indexed + seq + stored blob; `created` + header + indexed + seq.
 */
export const APPEND = sessionScript(String.raw`
local AGENT, RUN_ID, BLOB, TTL_ARG, DEFAULT_TTL, SMETA = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9]
local h = load_header()
if h[11] and expired(h) then
  -- Expired but not evicted yet: the session starts over without its old runs.
  redis.call('DEL', H, D, Q, C)
  h = load_header()
end
if h[11] then
  if USER ~= '' and h[3] ~= USER then return {'not_found'} end
  local prior = redis.call('HGET', D, 'i' .. RUN_ID)
  if prior then return reply('exists', h, '1', prior, redis.call('HGET', D, 's' .. prior)) end
else
  redis.call('HSET', H, 'agentId', AGENT, 'sessionId', SID, 'createdAt', NOW_ARG, 'updatedAt', NOW_ARG,
    'metadata', SMETA, 'state', '{}', 'version', '0', 'lastSeq', '0')
  if USER ~= '' then redis.call('HSET', H, 'userId', USER) end
  local ttl = TTL_ARG == '-' and DEFAULT_TTL or TTL_ARG
  if ttl ~= '' then redis.call('HSET', H, 'ttlMs', ttl) end
  h = load_header()
end
if TTL_ARG ~= '-' then
  if TTL_ARG == '' then redis.call('HDEL', H, 'ttlMs') else redis.call('HSET', H, 'ttlMs', TTL_ARG) end
  h[7] = TTL_ARG ~= '' and TTL_ARG
end
local seq = int(redis.call('HINCRBY', H, 'lastSeq', 1))
redis.call('HSET', D, 's' .. seq, BLOB, 'i' .. RUN_ID, seq)
redis.call('ZADD', Q, seq, seq)
redis.call('ZADD', C, NOW_ARG, seq)
mark_write(h)
h = load_header()
return reply('created', h, index_put_inline(h), seq)
`);
