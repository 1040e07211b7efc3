import { sessionScript } from './prelude.js';

/**
 * Removes the newest item of the newest run. A run is stored as `runId \n meta \n item \n item…`
 * (JSON never holds a raw newline), so the last item is cut off by position: no JSON is decoded
 * or re-encoded in Lua, where cjson would change numbers and empty arrays. A run left without
 * items is removed and lastSeq steps back to the run before it.
 *
 * ARGV: now, user, sessionId. Reply: `absent`, `empty`, or `popped` + header + indexed + item + runId + seq.
 */
export const POP = sessionScript(String.raw`
local h = load_header()
if not visible(h) then return {'absent'} end
local top = redis.call('ZREVRANGE', Q, 0, 0)
if #top == 0 then return {'empty'} end
local seq = top[1]
local blob = redis.call('HGET', D, 's' .. seq)
local first = string.find(blob, '\n', 1, true)
local second = string.find(blob, '\n', first + 1, true)
local last = second
while true do
  local nx = string.find(blob, '\n', last + 1, true)
  if not nx then break end
  last = nx
end
local run_id = string.sub(blob, 1, first - 1)
local item = string.sub(blob, last + 1)
if last == second then
  redis.call('HDEL', D, 's' .. seq, 'i' .. run_id)
  redis.call('ZREM', Q, seq)
  redis.call('ZREM', C, seq)
  redis.call('HSET', H, 'lastSeq', int(tonumber(seq) - 1))
else
  redis.call('HSET', D, 's' .. seq, string.sub(blob, 1, last - 1))
end
mark_write(h)
h = load_header()
return reply('popped', h, index_put_inline(h), item, run_id, seq)
`);
