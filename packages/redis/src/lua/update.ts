import { sessionScript } from './prelude.js';

/**
 * Optimistic header update: applies only when the stored version is the expected one.
 *
 * ARGV: now, user, sessionId, expected version, metadata ('' keep, '=' + JSON),
 * state ('' keep, '=' + JSON), summary ('' keep, '-' null, '=' + text), summarySeq ('' keep, else the seq).
 * Reply: `corrupt` + field, `not_found`, `conflict` + header + indexed, or `ok` + header + indexed.
 */
export const UPDATE = sessionScript(String.raw`
local EXPECTED, META, STATE, SUMMARY, SUMMARY_SEQ = ARGV[4], ARGV[5], ARGV[6], ARGV[7], ARGV[8]
local h, bad = load_header(true)
if bad then return {'corrupt', bad} end
if not visible(h) then return {'not_found'} end
if tonumber(h[11]) ~= tonumber(EXPECTED) then return reply('conflict', h, '1') end
-- Checked: only writes from here on.
local extra = {}
if META ~= '' then h[8] = string.sub(META, 2) extra[#extra + 1] = 'metadata' extra[#extra + 1] = h[8] end
if STATE ~= '' then h[9] = string.sub(STATE, 2) extra[#extra + 1] = 'state' extra[#extra + 1] = h[9] end
if SUMMARY == '-' then
  if h[10] then redis.call('HDEL', H, 'summary') end
  h[10] = false
elseif SUMMARY ~= '' then
  h[10] = string.sub(SUMMARY, 2) extra[#extra + 1] = 'summary' extra[#extra + 1] = h[10]
end
if SUMMARY_SEQ ~= '' then h[16] = SUMMARY_SEQ extra[#extra + 1] = 'summarySeq' extra[#extra + 1] = SUMMARY_SEQ end
mark_write(h, extra)
return reply('ok', h, index_put_inline(h, h[7]))
`);
