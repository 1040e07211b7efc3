import { sessionScript } from './prelude.js';

/**
 * Removes the newest item of the newest run. A run is stored as `runId \n [meta \n ,item \n ,item]`
 * (or, written by an older version, `runId \n meta \n item \n item`; see codec.ts), one
 * element per line (JSON never holds a raw newline), so the last item is cut off by position:
 * no JSON is decoded or re-encoded in Lua, where cjson would change numbers and empty arrays. A
 * run left without items is removed and lastSeq steps back to the run before it. The stored run
 * is checked (present, with at least one item) before anything is written.
 *
 * ARGV: now, user, sessionId.
 * Reply: `corrupt` + field [+ seq], `absent`, `empty`, or `popped` + header + indexed + item + runId + seq.
 */
export const POP = sessionScript(String.raw`
local h, bad = load_header(true)
if bad then return {'corrupt', bad} end
if not visible(h) then return {'absent'} end
local top = redis.call('ZREVRANGE', Q, 0, 0)
if #top == 0 then return {'empty'} end
local seq = top[1]
local blob = redis.call('HGET', D, 's' .. seq)
if not blob then return {'corrupt', 'run', seq} end
local first = string.find(blob, '\n', 1, true)
local second = first and string.find(blob, '\n', first + 1, true)
if not second or not whole(seq) then return {'corrupt', 'run', seq} end
local last = second
while true do
  local nx = string.find(blob, '\n', last + 1, true)
  if not nx then break end
  last = nx
end
local run_id = string.sub(blob, 1, first - 1)
-- '[' after the run id: the array layout, whose item lines start with ',' and end with ']'.
local array = string.sub(blob, first + 1, first + 1) == '['
local item
if array then
  if string.sub(blob, -1) ~= ']' or string.sub(blob, last + 1, last + 1) ~= ',' then return {'corrupt', 'run', seq} end
  item = string.sub(blob, last + 2, -2)
else
  item = string.sub(blob, last + 1)
end
-- Checked: only writes from here on.
if last == second then
  redis.call('HDEL', D, 's' .. seq, 'i' .. run_id)
  redis.call('ZREM', Q, seq)
  redis.call('ZREM', C, seq)
  h[12] = int(tonumber(seq) - 1)
  mark_write(h, {'lastSeq', h[12]})
else
  redis.call('HSET', D, 's' .. seq, string.sub(blob, 1, last - 1) .. (array and ']' or ''))
  mark_write(h)
end
return reply('popped', h, index_put_inline(h, h[7]), item, run_id, seq)
`);
