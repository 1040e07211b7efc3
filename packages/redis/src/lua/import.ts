import { sessionScript } from './prelude.js';

/**
 * Writes a whole session (import, fork), in one call or, for a large one, in batches of runs
 * with the header last. Every batch first checks that no live session has that id (an expired
 * one is replaced by the first batch), so a session created meanwhile by an append is never
 * written into: the import fails with `exists` instead. Until the header is written nothing of
 * the import is visible (every read starts at the header), and the run keys carry a 1-hour TTL,
 * so what a dead importer leaves behind goes by itself.
 *
 * ARGV: now, user, sessionId, first ('1': replace what is there), final ('1': write the header),
 * then with final the 16 header fields ('' null, '=' + value), then (seq, createdAt, runId, blob)
 * per run.
 * Reply: `exists`; `ok` (a batch); `created` + header + indexed (final).
 */
export const IMPORT = sessionScript(String.raw`
local FIRST, FINAL = ARGV[4], ARGV[5]
local f = redis.call('HMGET', H, 'version', 'expiresAt')
if f[1] then
  local e = f[2] and whole(f[2])
  if FIRST ~= '1' or not (e and e <= NOW) then return {'exists'} end
end
-- Checked: only writes from here on.
if FIRST == '1' then redis.call('UNLINK', H, D, Q, C) end
local at = 6
local h
if FINAL == '1' then
  h = {}
  local args = {}
  for i = 1, NF do
    local v = ARGV[at + i - 1]
    if v == '' then h[i] = false else
      h[i] = string.sub(v, 2)
      args[#args + 1] = FIELDS[i] args[#args + 1] = h[i]
    end
  end
  redis.call('HSET', H, unpack(args))
  mirror(h)
  at = at + NF
end
if at <= #ARGV then
  local data, seqs, created = {}, {}, {}
  for i = at, #ARGV, 4 do
    local seq = ARGV[i]
    data[#data + 1] = 's' .. seq data[#data + 1] = ARGV[i + 3]
    data[#data + 1] = 'i' .. ARGV[i + 2] data[#data + 1] = seq
    seqs[#seqs + 1] = seq seqs[#seqs + 1] = seq
    created[#created + 1] = ARGV[i + 1] created[#created + 1] = seq
  end
  redis.call('HSET', D, unpack(data))
  redis.call('ZADD', Q, unpack(seqs))
  redis.call('ZADD', C, unpack(created))
end
if FINAL ~= '1' then
  for i = 2, 4 do redis.call('PEXPIRE', KEYS[i], 3600000) end
  return {'ok'}
end
if h[6] then
  local left = int(math.max(tonumber(h[6]) - NOW, 1))
  for i = 1, 4 do redis.call('PEXPIRE', KEYS[i], left) end
else
  for i = 1, 4 do redis.call('PERSIST', KEYS[i]) end
end
return reply('created', h, index_put_inline(h, true))
`);
