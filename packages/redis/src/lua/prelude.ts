/**
 * Lua shared by every session script. Each script runs atomically on the server, so a read,
 * its checks and the write that follows can never interleave with another client's.
 *
 * Redis does not roll a script back when it fails halfway, so every script reads and checks
 * everything first (`load_header` converts every header field a script uses and reports the
 * first malformed one) and only then writes: a script either answers before its first write or
 * runs to the end.
 *
 * KEYS[1..4] are the session's keys (header, data, seq index, created index), all in one hash
 * slot. On a standalone server the listing indexes follow as KEYS[5] (the agent's) and KEYS[6]
 * (the named user's), so a write updates them in the same atomic call; in a cluster they live in
 * another slot and the client applies the same change right after (see index-ops.ts).
 *
 * Numbers are written with string.format('%d'): Lua's tostring switches to exponent notation
 * past 14 digits, which Redis would reject as a score or TTL.
 */
/**
 * Header numbers, shared by the prelude and the self-contained append script: `whole` (a whole
 * number a header may hold: times, counters, TTLs; nil for anything else) and the usage totals as
 * stored, 'requests,inputTokens,outputTokens,totalTokens' (numbers as the client wrote them),
 * parsed and summed here without JSON so no number is rewritten by cjson.
 */
export const HEADER_NUMBERS = String.raw`
local function whole(v)
  local n = tonumber(v)
  if n and n >= 0 and n <= 9007199254740991 and n == math.floor(n) then return n end
  return nil
end

local function usage_parse(s)
  local out = {}
  for part in string.gmatch(s, '[^,]+') do
    local n = tonumber(part)
    if not n or n < 0 then return nil end
    out[#out + 1] = n
  end
  if #out ~= 4 then return nil end
  return out
end

local function num(n)
  if n == math.floor(n) and n <= 9007199254740991 then return string.format('%d', n) end
  return string.format('%.17g', n)
end

local function usage_add(stored, delta)
  local a = stored and usage_parse(stored) or {0, 0, 0, 0}
  local b = usage_parse(delta)
  return num(a[1] + b[1]) .. ',' .. num(a[2] + b[2]) .. ',' .. num(a[3] + b[3]) .. ',' .. num(a[4] + b[4])
end
`;

export const PRELUDE = String.raw`
local H, D, Q, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local FIELDS = {'agentId', 'sessionId', 'userId', 'createdAt', 'updatedAt', 'expiresAt',
  'ttlMs', 'metadata', 'state', 'summary', 'version', 'lastSeq', 'title', 'preview', 'usage', 'summarySeq'}
-- Header fields (h[1..16]) added with contract v2 are absent from older hashes: defaults apply.
local NF = 16
local NOW_ARG, USER, SID = ARGV[1], ARGV[2], ARGV[3]
local NOW = tonumber(NOW_ARG)
-- core's MAX_TTL_MS (100 years): a TTL stored by an older version is bounded the same way.
local MAX_TTL = 3153600000000

local function int(n) return string.format('%d', n) end

${HEADER_NUMBERS}
local function json_ok(s)
  if not s or s == '{}' then return true end
  local ok, v = pcall(cjson.decode, s)
  return ok and type(v) == 'table'
end

-- The header's 16 fields (f[11], the version, is false when there is no session) and the name
-- of the first malformed field, if any. With json, metadata and state must parse too (the
-- client decodes them from the reply of a write, so they are checked before the write).
local function load_header(json)
  local f = redis.call('HMGET', H, unpack(FIELDS))
  if not f[11] then
    for i = 1, NF do if f[i] then return f, 'version' end end
    return f
  end
  for _, i in ipairs({4, 5, 11, 12}) do
    if not whole(f[i]) then return f, FIELDS[i] end
  end
  if f[16] and not whole(f[16]) then return f, 'summarySeq' end
  if f[15] and not usage_parse(f[15]) then return f, 'usage' end
  if f[6] and not whole(f[6]) then return f, 'expiresAt' end
  if f[7] and not (whole(f[7]) and tonumber(f[7]) >= 1) then return f, 'ttlMs' end
  if json then
    if not json_ok(f[8]) then return f, 'metadata' end
    if not json_ok(f[9]) then return f, 'state' end
  end
  return f
end

-- The header as written, copied into the data hash as one JSON array (field 'h', false for an
-- absent field): the window read that does not run a script (see the store's read) gets it and
-- the newest runs with one HMGET of one key. Every script that changes the header hash calls this
-- with h holding all 16 fields as written.
local function mirror(h) redis.call('HSET', D, 'h', cjson.encode(h)) end

local function expired(h) return h[6] and tonumber(h[6]) <= NOW end

-- What a call may see: absent, expired and other users' sessions look the same ('' names no user).
local function visible(h)
  if not h[11] or expired(h) then return false end
  if USER ~= '' and h[3] ~= USER then return false end
  return true
end

-- The expiry a write at NOW gives a session with this TTL ('' or false: none), bounded.
local function expiry_for(ttl)
  if not ttl or ttl == '' then return false end
  return int(NOW + math.min(tonumber(ttl), MAX_TTL))
end

-- Restarts (or removes) the TTL of every key of the session. had: the session had one before
-- (a session that never had one has nothing to PERSIST).
local function key_ttl(exp, had)
  if exp then
    local left = int(math.max(tonumber(exp) - NOW, 1))
    for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], left) end
  elseif had then
    for i = 1, 4 do redis.call('PERSIST', KEYS[i]) end
  end
end

-- Every write: version + 1, updatedAt never moves back (keep_time: left alone, for a rename),
-- the TTL starts again. h is changed in place into the header as written, so no script reads it back.
local function mark_write(h, extra, keep_time)
  local exp = expiry_for(h[7])
  local had = h[6]
  h[11] = int(tonumber(h[11]) + 1)
  if not keep_time and tonumber(h[5]) < NOW then h[5] = NOW_ARG end
  h[6] = exp
  local args = {'version', h[11], 'updatedAt', h[5]}
  if exp then args[#args + 1] = 'expiresAt' args[#args + 1] = exp end
  for i = 1, #(extra or {}) do args[#args + 1] = extra[i] end
  redis.call('HSET', H, unpack(args))
  if not exp and had then redis.call('HDEL', H, 'expiresAt') end
  mirror(h)
  key_ttl(exp, had)
end

-- The reply: status, the 16 header fields, '1' when the indexes are up to date, then extras.
local function reply(status, h, indexed, ...)
  local out = {status}
  for i = 1, NF do out[i + 1] = h[i] or false end
  out[NF + 2] = indexed
  local n = select('#', ...)
  local extra = {...}
  for i = 1, n do out[NF + 2 + i] = extra[i] or false end
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
-- score: updatedAt in the agent's and a user's per-agent index; '0' in a user's index of
-- 'agent\0session' members (read by ZRANGEBYLEX). only_up: keep a higher score (a cluster's
-- index updates may arrive out of order). may_have_ttl: false when the caller knows this key
-- cannot hold a TTL (see below), which saves a PERSIST per write.
local function idx_put(key, member, score, ttl, only_up, may_have_ttl)
  local none = ttl == '' or not ttl
  local left = (not none) and redis.call('PTTL', key)
  local added
  if only_up then
    local cur = redis.call('ZSCORE', key, member)
    if cur and tonumber(cur) >= tonumber(score) then added = 0 else added = redis.call('ZADD', key, score, member) end
  else
    added = redis.call('ZADD', key, score, member)
  end
  if none then
    -- A session without a TTL: the index must not expire either. Nothing ever gives a TTL to a
    -- key that holds an entry of a session without one (PEXPIRE below only runs on a new key or
    -- one that has a TTL already), so a key that already held this entry, of a session that had
    -- no TTL before this write, has none: PERSIST only otherwise.
    if added == 1 or may_have_ttl then redis.call('PERSIST', key) end
    return
  end
  -- left: -2 no key before (a new index), -1 an index without a TTL (keeps none), else ms left.
  if left == -2 or (left >= 0 and left < tonumber(ttl)) then redis.call('PEXPIRE', key, ttl) end
end

-- Removes an entry unless a later write (a higher score) has put the session back.
local function idx_drop(key, sid, max_score)
  local cur = redis.call('ZSCORE', key, sid)
  if cur and tonumber(cur) <= tonumber(max_score) then redis.call('ZREM', key, sid) end
end
`;

/**
 * Inline index updates for session scripts; they return '1' when nothing is left for the client.
 * KEYS[5] is the agent's index; with a named user KEYS[6] is that user's index of the agent and
 * KEYS[7] the user's index across agents (members 'agent\0session').
 */
export const INLINE_INDEX = String.raw`
local function index_put_inline(h, may_have_ttl)
  if #KEYS < 5 then return '0' end
  local ttl = h[7] or ''
  idx_put(KEYS[5], SID, h[5], ttl, false, may_have_ttl)
  if not h[3] then return '1' end
  -- KEYS[6] is the named user's index, and a session a call can see belongs to that user.
  if KEYS[6] then
    idx_put(KEYS[6], SID, h[5], ttl, false, may_have_ttl)
    idx_put(KEYS[7], h[1] .. '\0' .. SID, '0', ttl, false, may_have_ttl)
    return '1'
  end
  return '0'
end

local function index_drop_inline(h, score)
  if #KEYS < 5 then return '0' end
  idx_drop(KEYS[5], SID, score)
  if not h[3] then return '1' end
  if KEYS[6] then
    idx_drop(KEYS[6], SID, score)
    redis.call('ZREM', KEYS[7], h[1] .. '\0' .. SID)
    return '1'
  end
  return '0'
end
`;

/** Builds a session script: the shared prelude, the index helpers and the script's body. */
export function sessionScript(body: string): string {
  return `${PRELUDE}${INDEX_FUNCTIONS}${INLINE_INDEX}${body}`;
}
