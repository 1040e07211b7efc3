/**
 * Lua shared by every session script. Each script runs atomically on the server, so a read,
 * its checks and the write that follows can never interleave with another client's.
 *
 * KEYS[1..4] are the session's keys (header, data, seq index, created index), all in one hash
 * slot. On a standalone server the listing indexes follow as KEYS[5] (the agent's) and KEYS[6]
 * (the named user's), so a write updates them in the same atomic call; in a cluster they live in
 * another slot and the client applies the same change right after (see index.ts).
 *
 * Numbers are written with string.format('%d'): Lua's tostring switches to exponent notation
 * past 14 digits, which Redis would reject as a score or TTL.
 */
export const PRELUDE = String.raw`
local H, D, Q, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local FIELDS = {'agentId', 'sessionId', 'userId', 'createdAt', 'updatedAt', 'expiresAt',
  'ttlMs', 'metadata', 'state', 'summary', 'version', 'lastSeq'}
local NOW_ARG, USER, SID = ARGV[1], ARGV[2], ARGV[3]
local NOW = tonumber(NOW_ARG)

local function int(n) return string.format('%d', n) end

local function load_header() return redis.call('HMGET', H, unpack(FIELDS)) end

local function expired(h) return h[6] and tonumber(h[6]) <= NOW end

-- What a call may see: absent, expired and other users' sessions look the same ('' names no user).
local function visible(h)
  if not h[11] or expired(h) then return false end
  if USER ~= '' and h[3] ~= USER then return false end
  return true
end

-- Restarts the TTL of the header and of every key of the session ('' means none).
local function refresh_ttl(ttl)
  if ttl == '' then
    redis.call('HDEL', H, 'expiresAt')
  else
    redis.call('HSET', H, 'expiresAt', int(NOW + tonumber(ttl)))
  end
  for i = 1, 4 do
    if ttl == '' then redis.call('PERSIST', KEYS[i]) else redis.call('PEXPIRE', KEYS[i], ttl) end
  end
end

-- Every write: version + 1, updatedAt never moves back, the TTL starts again.
local function mark_write(h)
  redis.call('HINCRBY', H, 'version', 1)
  if tonumber(h[5]) < NOW then redis.call('HSET', H, 'updatedAt', NOW_ARG) end
  refresh_ttl(h[7] or '')
end

-- The reply: status, the 12 header fields, '1' when the indexes are up to date, then extras.
local function reply(status, h, indexed, ...)
  local out = {status}
  for i = 1, 12 do out[i + 1] = h[i] or false end
  out[14] = indexed
  local n = select('#', ...)
  local extra = {...}
  for i = 1, n do out[14 + i] = extra[i] or false end
  return out
end
`;

/**
 * The listing indexes: sorted sets of session ids scored by updatedAt. Zset members cannot
 * expire on their own, so an index key is given a TTL at least as long as that of every
 * session it holds (or none, once it holds a session without one); entries of sessions that
 * expired before it are dropped by listings and by prune.
 */
export const INDEX_FUNCTIONS = String.raw`
local function idx_put(key, sid, score, ttl, only_up)
  local existed = redis.call('EXISTS', key) == 1
  local cur = redis.call('ZSCORE', key, sid)
  -- In a cluster two clients' index updates may arrive out of order: a score only moves up there.
  if not (only_up and cur and tonumber(cur) >= tonumber(score)) then
    redis.call('ZADD', key, score, sid)
  end
  if ttl == '' then
    redis.call('PERSIST', key)
  elseif not existed then
    redis.call('PEXPIRE', key, ttl)
  else
    local left = redis.call('PTTL', key)
    if left >= 0 and left < tonumber(ttl) then redis.call('PEXPIRE', key, ttl) end
  end
end

-- Removes an entry unless a later write (a higher score) has put the session back.
local function idx_drop(key, sid, max_score)
  local cur = redis.call('ZSCORE', key, sid)
  if cur and tonumber(cur) <= tonumber(max_score) then redis.call('ZREM', key, sid) end
end
`;

/** Inline index updates for session scripts; they return '1' when nothing is left for the client. */
export const INLINE_INDEX = String.raw`
local function index_put_inline(h)
  if #KEYS < 5 then return '0' end
  local ttl = h[7] or ''
  idx_put(KEYS[5], SID, h[5], ttl, false)
  if not h[3] then return '1' end
  -- KEYS[6] is the named user's index, and a session a call can see belongs to that user.
  if KEYS[6] then idx_put(KEYS[6], SID, h[5], ttl, false) return '1' end
  return '0'
end

local function index_drop_inline(h)
  if #KEYS < 5 then return '0' end
  idx_drop(KEYS[5], SID, h[5])
  if not h[3] then return '1' end
  if KEYS[6] then idx_drop(KEYS[6], SID, h[5]) return '1' end
  return '0'
end
`;

/** Builds a session script: the shared prelude, the index helpers and the script's body. */
export function sessionScript(body: string): string {
  return `${PRELUDE}${INDEX_FUNCTIONS}${INLINE_INDEX}${body}`;
}
