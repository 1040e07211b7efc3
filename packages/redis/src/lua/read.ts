import { sessionScript } from './prelude.js';

/**
 * Reads a session's header and, with a limit, its newest runs before a seq: one call that
 * checks ownership and expiry and reads only the runs asked for: one HMGET of the fields
 * `s<lastSeq>` downwards (seqs are gapless), or, when prune has left a gap there, a range of the
 * seq index and then one HMGET. Run blobs are returned as stored; the client decodes them. With touch, it
 * also restarts the TTL (after checking the header, like every write).
 *
 * ARGV: now, user, sessionId, limit (0: header only), beforeSeq ('' none), touch ('1'/'0').
 * Reply: `corrupt` + field (touch only), `absent`, or `ok` + header + indexed, then seq and blob
 * pairs, newest first.
 */
export const READ = sessionScript(String.raw`
local LIMIT, BEFORE, TOUCH = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local h, bad
if TOUCH == '1' then
  h, bad = load_header(true)
  if bad then return {'corrupt', bad} end
else
  h = redis.call('HMGET', H, unpack(FIELDS))
  -- A malformed expiresAt is reported by the client, which decodes the header.
  if h[6] and not tonumber(h[6]) then return reply('ok', h, '1') end
end
if not visible(h) then return {'absent'} end
local indexed = '1'
if TOUCH == '1' then
  local exp = expiry_for(h[7])
  if exp then redis.call('HSET', H, 'expiresAt', exp) end
  key_ttl(exp, h[6])
  h[6] = exp
  indexed = index_put_inline(h, h[7])
end
local out = reply('ok', h, indexed)
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
