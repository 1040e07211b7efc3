import { sessionScript } from './prelude.js';

/**
 * Prune for one session: removes what is left of an expired one (UNLINK: freed in the
 * background, however many runs it held), or up to 500 runs created before a time (the client
 * calls again while a full batch was removed, so one call never blocks the server for long).
 * A session whose header is malformed is left alone (`corrupt`).
 *
 * ARGV: now, '' (no user), sessionId, created-before ('' none), batch size.
 * Reply: `corrupt` + field, `gone` + empty header + '1' + 0, `expired` + header + '1' + runs
 * removed, `live` + header + '1' + runs removed.
 */
export const PRUNE = sessionScript(String.raw`
local CUT, BATCH = ARGV[4], tonumber(ARGV[5])
local h, bad = load_header(false)
if bad then return {'corrupt', bad} end
if not h[11] then
  redis.call('UNLINK', D, Q, C)
  return reply('gone', h, '1', '0')
end
if expired(h) then
  local n = redis.call('ZCARD', Q)
  redis.call('UNLINK', H, D, Q, C)
  return reply('expired', h, '1', int(n))
end
if CUT == '' then return reply('live', h, '1', '0') end
local seqs = redis.call('ZRANGEBYSCORE', C, '-inf', '(' .. CUT, 'LIMIT', 0, BATCH)
if #seqs == 0 then return reply('live', h, '1', '0') end
local fields = {}
for i, seq in ipairs(seqs) do fields[i] = 's' .. seq end
local blobs = redis.call('HMGET', D, unpack(fields))
local drop = {}
for i, seq in ipairs(seqs) do
  drop[#drop + 1] = 's' .. seq
  local blob = blobs[i]
  local nl = blob and string.find(blob, '\n', 1, true)
  if nl then drop[#drop + 1] = 'i' .. string.sub(blob, 1, nl - 1) end
end
redis.call('HDEL', D, unpack(drop))
redis.call('ZREM', Q, unpack(seqs))
redis.call('ZREM', C, unpack(seqs))
return reply('live', h, '1', int(#seqs))
`);
