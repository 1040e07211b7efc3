import { sessionScript } from './prelude.js';

/**
 * Optimistic header update: applies only when the stored version is the expected one.
 *
 * ARGV: now, user, sessionId, expected version, metadata ('' keep, '=' + JSON),
 * state ('' keep, '=' + JSON), summary ('' keep, '-' null, '=' + text).
 * Reply: `not_found`, `conflict` + header + indexed, or `ok` + header + indexed.
 */
export const UPDATE = sessionScript(String.raw`
local EXPECTED, META, STATE, SUMMARY = ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local h = load_header()
if not visible(h) then return {'not_found'} end
if h[11] ~= EXPECTED then return reply('conflict', h, '1') end
if META ~= '' then redis.call('HSET', H, 'metadata', string.sub(META, 2)) end
if STATE ~= '' then redis.call('HSET', H, 'state', string.sub(STATE, 2)) end
if SUMMARY == '-' then redis.call('HDEL', H, 'summary')
elseif SUMMARY ~= '' then redis.call('HSET', H, 'summary', string.sub(SUMMARY, 2)) end
mark_write(h)
h = load_header()
return reply('ok', h, index_put_inline(h))
`);
