import { sessionScript } from './prelude.js';

/**
 * Appends one run in one atomic call. First every check, with nothing written: the header
 * parses, the session is live and this caller's, a retried run id gets the stored run, the
 * expected lastSeq matches. Then the writes: the run, its two index entries, one HSET of the
 * header (computed here, never read back; title, preview and usage totals in the same HSET),
 * the TTL of every key, the listing indexes.
 *
 * ARGV: now, user ('' none), sessionId, agentId, runId, run blob, explicit ('1': the TTL below
 * replaces the session's; '0': it applies only to a session this call creates), ttlMs ('' none),
 * expiresAt ('' none), session metadata JSON, expected lastSeq ('' no check), title ('' none,
 * '=' + text: set if the session has none), preview ('' none, '=' + text), usage delta ('' none,
 * 'requests,inputTokens,outputTokens,totalTokens').
 * Reply: `corrupt` + field [+ seq]; `not_found`; `stale` + lastSeq;
 * `exists` + header + indexed + seq + stored blob; `created` + header + indexed + seq.
 */
export const APPEND = sessionScript(String.raw`
local AGENT, RUN_ID, BLOB, EXPLICIT, TTL, EXP, SMETA, EXPECT, TITLE, PREVIEW, USAGE =
  ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12], ARGV[13], ARGV[14]
local h, bad = load_header(true)
if bad then return {'corrupt', bad} end
local live = h[11] and not expired(h)
if live then
  if USER ~= '' and h[3] ~= USER then return {'not_found'} end
  local prior = redis.call('HGET', D, 'i' .. RUN_ID)
  if prior then
    local blob = redis.call('HGET', D, 's' .. prior)
    if not blob then return {'corrupt', 'run', prior} end
    return reply('exists', h, '1', prior, blob)
  end
end
local last = live and tonumber(h[12]) or 0
if EXPECT ~= '' and tonumber(EXPECT) ~= last then return {'stale', int(last)} end
-- Checked: only writes from here on.
local seq = int(last + 1)
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
  redis.call('HSET', D, 's' .. seq, BLOB, 'i' .. RUN_ID, seq)
  redis.call('ZADD', Q, seq, seq)
  redis.call('ZADD', C, NOW_ARG, seq)
  key_ttl(exp, false)
  return reply('created', h, index_put_inline(h, true), seq)
end
redis.call('HSET', D, 's' .. seq, BLOB, 'i' .. RUN_ID, seq)
redis.call('ZADD', Q, seq, seq)
redis.call('ZADD', C, NOW_ARG, seq)
local had_ttl = h[7]
h[12] = seq
local extra = {'lastSeq', seq}
if TITLE ~= '' and not h[13] then h[13] = string.sub(TITLE, 2) extra[#extra + 1] = 'title' extra[#extra + 1] = h[13] end
if PREVIEW ~= '' then h[14] = string.sub(PREVIEW, 2) extra[#extra + 1] = 'preview' extra[#extra + 1] = h[14] end
if USAGE ~= '' then h[15] = usage_add(h[15], USAGE) extra[#extra + 1] = 'usage' extra[#extra + 1] = h[15] end
if EXPLICIT == '1' then
  if TTL == '' then
    if h[7] then redis.call('HDEL', H, 'ttlMs') end
    h[7] = false
  else
    h[7] = TTL
    extra[#extra + 1] = 'ttlMs' extra[#extra + 1] = TTL
  end
end
mark_write(h, extra)
return reply('created', h, index_put_inline(h, had_ttl), seq)
`);
