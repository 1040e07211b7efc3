import { sessionScript } from './prelude.js';

/**
 * Reads a session's header and, with a limit, its newest runs before a seq, without touching it:
 * one call that checks ownership and expiry and reads only the runs asked for. Kept apart from
 * READ_TOUCH and free of the shared prelude: a read is half of every turn, and each function the
 * prelude defines, each field copied and each run blob held in Lua costs server time per call.
 *
 * The runs are one HMGET of the fields `s<top>` downwards (seqs are gapless up to lastSeq
 * unless prune removed runs); only when one is missing does the script ask the seq index which
 * seqs exist, then HMGET those. Run blobs are returned as stored; the client decodes them.
 *
 * The header goes back as one JSON array of its 16 fields (false for an absent one) rather than
 * as 16 reply elements: decoding one short JSON text costs the client less than 16 bulk
 * strings (see `unpackHeader`).
 *
 * ARGV: now, user ('' none), sessionId, limit (0: header only), beforeSeq ('' none).
 * Reply: `absent`; `ok` + header (JSON) + '1' [+ top seq + blobs of top, top-1, …: gapless];
 * or `okp` + the same header + '1' + seq and blob pairs, newest first (over a gap).
 * A malformed expiresAt answers `ok` with the header only: the client decodes and reports it.
 */
export const READ = String.raw`
local f = redis.call('HMGET', KEYS[1], 'agentId', 'sessionId', 'userId', 'createdAt', 'updatedAt',
  'expiresAt', 'ttlMs', 'metadata', 'state', 'summary', 'version', 'lastSeq', 'title', 'preview', 'usage', 'summarySeq')
local out = {'ok', cjson.encode(f), '1'}
local exp = f[6]
if exp then
  exp = tonumber(exp)
  if not exp then return out end
  if exp <= tonumber(ARGV[1]) then return {'absent'} end
end
if not f[11] or (ARGV[2] ~= '' and f[3] ~= ARGV[2]) then return {'absent'} end
local limit = tonumber(ARGV[4])
local top = tonumber(f[12])
if limit == 0 or not top then return out end
if ARGV[5] ~= '' then top = math.min(top, tonumber(ARGV[5]) - 1) end
if top < 1 then return out end
local fields = {}
for s = top, math.max(1, top - limit + 1), -1 do fields[#fields + 1] = string.format('s%d', s) end
local blobs = redis.call('HMGET', KEYS[2], unpack(fields))
local n = #out + 1
out[n] = string.format('%d', top)
for i = 1, #fields do
  local b = blobs[i]
  if not b then blobs = nil break end
  out[n + i] = b
end
if blobs then return out end
for i = #out, n, -1 do out[i] = nil end
out[1] = 'okp'
local seqs = redis.call('ZREVRANGEBYSCORE', KEYS[3], ARGV[5] == '' and '+inf' or '(' .. ARGV[5], '-inf', 'LIMIT', 0, limit)
if #seqs == 0 then return out end
fields = {}
for i, s in ipairs(seqs) do fields[i] = 's' .. s end
blobs = redis.call('HMGET', KEYS[2], unpack(fields))
for i, s in ipairs(seqs) do
  out[n] = s
  out[n + 1] = blobs[i]
  n = n + 2
end
return out
`;

/**
 * READ that also restarts the TTL (touchOnRead, touchSession's reads), after checking the header
 * like every write.
 *
 * ARGV: now, user, sessionId, limit (0: header only), beforeSeq ('' none).
 * Reply: `corrupt` + field, `absent`, or `okp` + header + indexed, then seq and blob pairs,
 * newest first.
 */
export const READ_TOUCH = sessionScript(String.raw`
local LIMIT, BEFORE = tonumber(ARGV[4]), ARGV[5]
local h, bad = load_header(true)
if bad then return {'corrupt', bad} end
if not visible(h) then return {'absent'} end
local exp = expiry_for(h[7])
local had = h[6]
h[6] = exp
if exp then
  redis.call('HSET', H, 'expiresAt', exp)
  mirror(h)
end
key_ttl(exp, had)
local out = reply('okp', h, index_put_inline(h, h[7]))
if LIMIT > 0 then
  -- Seqs are gapless up to lastSeq unless prune removed runs: read the newest ones by their
  -- field names at once, and only when one is missing ask the seq index which seqs exist.
  local top = tonumber(h[12])
  if top and BEFORE ~= '' then top = math.min(top, tonumber(BEFORE) - 1) end
  local seqs
  local blobs
  if top and top >= 1 then
    seqs = {}
    local fields = {}
    for s = top, math.max(1, top - LIMIT + 1), -1 do
      seqs[#seqs + 1] = int(s)
      fields[#fields + 1] = 's' .. int(s)
    end
    blobs = redis.call('HMGET', D, unpack(fields))
    for i = 1, #seqs do
      if not blobs[i] then seqs = nil break end
    end
  else
    seqs = {}
  end
  if not seqs then
    local max = BEFORE == '' and '+inf' or '(' .. BEFORE
    seqs = redis.call('ZREVRANGEBYSCORE', Q, max, '-inf', 'LIMIT', 0, LIMIT)
    if #seqs > 0 then
      local fields = {}
      for i, s in ipairs(seqs) do fields[i] = 's' .. s end
      blobs = redis.call('HMGET', D, unpack(fields))
    end
  end
  for i, s in ipairs(seqs) do
    out[#out + 1] = s
    out[#out + 1] = blobs[i]
  end
end
return out
`);
