import { HEADER_NUMBERS } from './prelude.js';

/**
 * Appends one run in one atomic call. First every check, with nothing written: the header
 * parses, the session is live and this caller's, a retried run id gets the stored run, the
 * expected lastSeq matches. Then the writes: the run, its two index entries, one HSET of the
 * header (computed here, never read back; title, preview and usage totals in the same HSET),
 * the TTL of every key, the listing indexes.
 *
 * Self-contained rather than built on the shared prelude (prelude.ts), whose rules it follows
 * (the same header checks as `load_header(true)`, the same TTL and index updates as
 * `mark_write` and `index_put_inline`): an append is half of every turn, and each function a
 * script defines, each table it builds and each value it copies is paid on every call. The
 * header-number helpers are the prelude's own (HEADER_NUMBERS); what only a new session needs is
 * defined on that path.
 *
 * ARGV: now, user ('' none), sessionId, agentId, runId, run blob, explicit ('1': the TTL below
 * replaces the session's; '0': it applies only to a session this call creates), ttlMs ('' none),
 * expiresAt ('' none), session metadata JSON, expected lastSeq ('' no check), title ('' none,
 * '=' + text: set if the session has none), preview ('' none, '=' + text), usage delta ('' none,
 * 'requests,inputTokens,outputTokens,totalTokens').
 * Reply: `corrupt` + field [+ seq]; `not_found`; `stale` + lastSeq;
 * `exists` + header + indexed + seq + stored blob; `created` + header + indexed + seq. The
 * header is one JSON array of its 16 fields, as the read script sends it (see read.ts).
 * `h` always holds all 16 (false for an absent field), so cjson encodes it as an array.
 */
export const APPEND = String.raw`
local H, D, Q, C = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local NOW_ARG, USER, SID, AGENT, RUN_ID, BLOB, EXPLICIT, TTL, EXP, SMETA, EXPECT, TITLE, PREVIEW, USAGE = unpack(ARGV)
local NOW = tonumber(NOW_ARG)
local h = redis.call('HMGET', H, 'agentId', 'sessionId', 'userId', 'createdAt', 'updatedAt', 'expiresAt',
  'ttlMs', 'metadata', 'state', 'summary', 'version', 'lastSeq', 'title', 'preview', 'usage', 'summarySeq')

-- Numbers are written with string.format('%d'): tostring switches to exponent notation past 14 digits.
${HEADER_NUMBERS}local function json_ok(s)
  if not s or s == '{}' then return true end
  local ok, v = pcall(cjson.decode, s)
  return ok and type(v) == 'table'
end

-- The header checks of load_header(true), in the same order.
if not h[11] then
  for i = 1, 16 do if h[i] then return {'corrupt', 'version'} end end
else
  if not whole(h[4]) then return {'corrupt', 'createdAt'} end
  if not whole(h[5]) then return {'corrupt', 'updatedAt'} end
  if not whole(h[11]) then return {'corrupt', 'version'} end
  if not whole(h[12]) then return {'corrupt', 'lastSeq'} end
  if h[16] and not whole(h[16]) then return {'corrupt', 'summarySeq'} end
  if h[15] and not usage_parse(h[15]) then return {'corrupt', 'usage'} end
  if h[6] and not whole(h[6]) then return {'corrupt', 'expiresAt'} end
  if h[7] and not (whole(h[7]) and tonumber(h[7]) >= 1) then return {'corrupt', 'ttlMs'} end
  if not json_ok(h[8]) then return {'corrupt', 'metadata'} end
  if not json_ok(h[9]) then return {'corrupt', 'state'} end
end

local function reply(status, indexed, seq, blob, encoded)
  return {status, encoded or cjson.encode(h), indexed, seq, blob}
end

local live = h[11] and not (h[6] and tonumber(h[6]) <= NOW)
if live then
  if USER ~= '' and h[3] ~= USER then return {'not_found'} end
  local prior = redis.call('HGET', D, 'i' .. RUN_ID)
  if prior then
    local blob = redis.call('HGET', D, 's' .. prior)
    if not blob then return {'corrupt', 'run', prior} end
    return reply('exists', '1', prior, blob)
  end
end
local last = live and tonumber(h[12]) or 0
if EXPECT ~= '' and tonumber(EXPECT) ~= last then return {'stale', string.format('%d', last)} end
-- Checked: only writes from here on.

-- The listing indexes (KEYS[5..7] on a standalone server), as index_put_inline and idx_put do
-- (see prelude.ts): the agent's index scored by updatedAt, a user's two; '1' when done here.
local function idx_put(key, member, score, ttl, may_have_ttl)
  local left = ttl and redis.call('PTTL', key)
  local added = redis.call('ZADD', key, score, member)
  if not ttl then
    if added == 1 or may_have_ttl then redis.call('PERSIST', key) end
    return
  end
  if left == -2 or (left >= 0 and left < tonumber(ttl)) then redis.call('PEXPIRE', key, ttl) end
end
local function index_put(may_have_ttl)
  if #KEYS < 5 then return '0' end
  local ttl = h[7]
  idx_put(KEYS[5], SID, h[5], ttl, may_have_ttl)
  if not h[3] then return '1' end
  if KEYS[6] then
    idx_put(KEYS[6], SID, h[5], ttl, may_have_ttl)
    idx_put(KEYS[7], h[1] .. '\0' .. SID, '0', ttl, may_have_ttl)
    return '1'
  end
  return '0'
end

local seq = string.format('%d', last + 1)
if not live then
  -- Absent, or expired but not evicted yet: the session starts over without its old runs.
  redis.call('UNLINK', H, D, Q, C)
  local exp = TTL ~= '' and EXP or false
  h = {AGENT, SID, USER ~= '' and USER or false, NOW_ARG, NOW_ARG, exp, TTL ~= '' and TTL or false,
    SMETA, '{}', false, '1', seq, false, false, false, false}
  local args = {'agentId', AGENT, 'sessionId', SID, 'createdAt', NOW_ARG, 'updatedAt', NOW_ARG,
    'metadata', SMETA, 'state', '{}', 'version', '1', 'lastSeq', seq}
  if h[3] then args[#args + 1] = 'userId' args[#args + 1] = USER end
  if exp then
    args[#args + 1] = 'ttlMs' args[#args + 1] = TTL
    args[#args + 1] = 'expiresAt' args[#args + 1] = exp
  end
  if TITLE ~= '' then h[13] = string.sub(TITLE, 2) args[#args + 1] = 'title' args[#args + 1] = h[13] end
  if PREVIEW ~= '' then h[14] = string.sub(PREVIEW, 2) args[#args + 1] = 'preview' args[#args + 1] = h[14] end
  if USAGE ~= '' then h[15] = usage_add(false, USAGE) args[#args + 1] = 'usage' args[#args + 1] = h[15] end
  redis.call('HSET', H, unpack(args))
  -- The header as written rides along in the data hash (see mirror in prelude.ts).
  local encoded = cjson.encode(h)
  redis.call('HSET', D, 's' .. seq, BLOB, 'i' .. RUN_ID, seq, 'h', encoded)
  redis.call('ZADD', Q, seq, seq)
  redis.call('ZADD', C, NOW_ARG, seq)
  if exp then
    local left = string.format('%d', math.max(tonumber(exp) - NOW, 1))
    for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], left) end
  end
  return reply('created', index_put(true), seq, nil, encoded)
end

redis.call('ZADD', Q, seq, seq)
redis.call('ZADD', C, NOW_ARG, seq)
local had_ttl = h[7]
local had_exp = h[6]
h[12] = seq
h[11] = string.format('%d', tonumber(h[11]) + 1)
if tonumber(h[5]) < NOW then h[5] = NOW_ARG end
local args = {'version', h[11], 'updatedAt', h[5], 'lastSeq', seq}
if TITLE ~= '' and not h[13] then h[13] = string.sub(TITLE, 2) args[#args + 1] = 'title' args[#args + 1] = h[13] end
if PREVIEW ~= '' then h[14] = string.sub(PREVIEW, 2) args[#args + 1] = 'preview' args[#args + 1] = h[14] end
if USAGE ~= '' then h[15] = usage_add(h[15], USAGE) args[#args + 1] = 'usage' args[#args + 1] = h[15] end
if EXPLICIT == '1' then
  if TTL == '' then
    if h[7] then redis.call('HDEL', H, 'ttlMs') end
    h[7] = false
  else
    h[7] = TTL
    args[#args + 1] = 'ttlMs' args[#args + 1] = TTL
  end
end
-- The TTL starts again (core's MAX_TTL_MS, 100 years, bounds one stored by an older version).
local exp = h[7] and string.format('%d', NOW + math.min(tonumber(h[7]), 3153600000000)) or false
h[6] = exp
if exp then args[#args + 1] = 'expiresAt' args[#args + 1] = exp end
redis.call('HSET', H, unpack(args))
-- The run, its run id and the header as written (see mirror in prelude.ts): one HSET.
local encoded = cjson.encode(h)
redis.call('HSET', D, 's' .. seq, BLOB, 'i' .. RUN_ID, seq, 'h', encoded)
if exp then
  local left = string.format('%d', math.max(tonumber(exp) - NOW, 1))
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], left) end
elseif had_exp then
  redis.call('HDEL', H, 'expiresAt')
  for i = 1, 4 do redis.call('PERSIST', KEYS[i]) end
end
return reply('created', index_put(had_ttl), seq, nil, encoded)
`;
