import { sessionScript } from './prelude.js';

/**
 * Re-encryption: one run's items replaced in place, only if the run at ARGV seq is still the
 * run `runId` (committed, in a session this caller can see) and its items are still byte for
 * byte the ones the client read. A pop that took an item meanwhile makes the texts differ, so it
 * is never undone. Version, updatedAt, TTL and indexes are left alone (HSET keeps the key's TTL).
 *
 * ARGV: now, user, sessionId, seq, runId, expected items (JSON texts joined by newlines, as
 * the older layout stores them), new items (the same); compared and written in the run's own
 * layout.
 * Reply: `corrupt` + field, `absent`, `changed`, or `ok`.
 */
export const REWRITE_RUN = sessionScript(String.raw`
local SEQ, RUN_ID, EXPECTED, ITEMS = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local h, bad = load_header(false)
if bad then return {'corrupt', bad} end
if not visible(h) then return {'absent'} end
if not whole(SEQ) or tonumber(SEQ) > tonumber(h[12]) then return {'changed'} end
local blob = redis.call('HGET', D, 's' .. SEQ)
if not blob then return {'changed'} end
local first = string.find(blob, '\n', 1, true)
local second = first and string.find(blob, '\n', first + 1, true)
if not second then return {'corrupt', 'run', SEQ} end
-- The array layout (see codec.ts) holds the items as ',item \n ,item]': compare and write them so.
if string.sub(blob, first + 1, first + 1) == '[' then
  EXPECTED = ',' .. (string.gsub(EXPECTED, '\n', '\n,')) .. ']'
  ITEMS = ',' .. (string.gsub(ITEMS, '\n', '\n,')) .. ']'
end
if string.sub(blob, 1, first - 1) ~= RUN_ID or string.sub(blob, second + 1) ~= EXPECTED then return {'changed'} end
-- Checked: the one write.
redis.call('HSET', D, 's' .. SEQ, string.sub(blob, 1, second) .. ITEMS)
return {'ok'}
`);

/**
 * Re-encryption: the header's title and preview replaced in place when both are still what the
 * client read. Version, updatedAt and TTL are left alone.
 *
 * ARGV: now, user, sessionId, expected title, expected preview, new title, new preview; each
 * '' for none or '=' + text.
 * Reply: `corrupt` + field, `absent`, `changed`, or `ok`.
 */
export const REWRITE_TEXT = sessionScript(String.raw`
local function as_arg(v) if v then return '=' .. v end return '' end
local h, bad = load_header(false)
if bad then return {'corrupt', bad} end
if not visible(h) then return {'absent'} end
if as_arg(h[13]) ~= ARGV[4] or as_arg(h[14]) ~= ARGV[5] then return {'changed'} end
-- Checked: only writes from here on.
for i, field in ipairs({'title', 'preview'}) do
  local v = ARGV[5 + i]
  if v == '' then
    redis.call('HDEL', H, field)
    h[12 + i] = false
  else
    h[12 + i] = string.sub(v, 2)
    redis.call('HSET', H, field, h[12 + i])
  end
end
mirror(h)
return {'ok'}
`);
