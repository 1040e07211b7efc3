import { sessionScript } from './prelude.js';

/**
 * Reads a session's header and, with a limit, its newest runs before a seq: one call that
 * checks ownership and expiry and reads only the runs asked for (a range of the seq index,
 * then one HMGET). With touch, it also restarts the TTL.
 *
 * ARGV: now, user, sessionId, limit (0: header only), beforeSeq ('' none), touch ('1'/'0').
 * Reply: `absent`, or `ok` + header + indexed, then seq and blob pairs, newest first.
 */
export const READ = sessionScript(String.raw`
local LIMIT, BEFORE, TOUCH = tonumber(ARGV[4]), ARGV[5], ARGV[6]
local h = load_header()
if not visible(h) then return {'absent'} end
local indexed = '1'
if TOUCH == '1' then
  refresh_ttl(h[7] or '')
  h = load_header()
  indexed = index_put_inline(h)
end
local out = reply('ok', h, indexed)
if LIMIT > 0 then
  local max = BEFORE == '' and '+inf' or '(' .. BEFORE
  local seqs = redis.call('ZREVRANGEBYSCORE', Q, max, '-inf', 'LIMIT', 0, LIMIT)
  if #seqs > 0 then
    local fields = {}
    for i, s in ipairs(seqs) do fields[i] = 's' .. s end
    local blobs = redis.call('HMGET', D, unpack(fields))
    for i, s in ipairs(seqs) do
      out[#out + 1] = s
      out[#out + 1] = blobs[i]
    end
  end
end
return out
`);
