import { sessionScript } from './prelude.js';

/**
 * Prune for one session: removes what is left of an expired one, or up to 1000 runs created
 * before a time (the client calls again while a full batch was removed, so one call never
 * blocks the server for long).
 *
 * ARGV: now, '' (no user), sessionId, created-before ('' none).
 * Reply: `gone` + empty header + '1' + 0, `expired` + header + '1' + runs removed,
 * `live` + header + '1' + runs removed.
 */
export const PRUNE = sessionScript(String.raw`
local CUT = ARGV[4]
local h = load_header()
if not h[11] then
  redis.call('DEL', D, Q, C)
  return reply('gone', h, '1', '0')
end
if expired(h) then
  local n = redis.call('ZCARD', Q)
  redis.call('DEL', H, D, Q, C)
  return reply('expired', h, '1', int(n))
end
if CUT == '' then return reply('live', h, '1', '0') end
local seqs = redis.call('ZRANGEBYSCORE', C, '-inf', '(' .. CUT, 'LIMIT', 0, 1000)
for _, seq in ipairs(seqs) do
  local blob = redis.call('HGET', D, 's' .. seq)
  if blob then
    local run_id = string.sub(blob, 1, string.find(blob, '\n', 1, true) - 1)
    redis.call('HDEL', D, 's' .. seq, 'i' .. run_id)
  end
  redis.call('ZREM', Q, seq)
  redis.call('ZREM', C, seq)
end
return reply('live', h, '1', int(#seqs))
`);
