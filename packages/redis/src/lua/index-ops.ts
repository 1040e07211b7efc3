import { INDEX_FUNCTIONS } from './prelude.js';

/**
 * Index maintenance in an index slot, for what a session script could not do inline: every
 * index write in a cluster (the indexes live in other slots than the session), and the rare
 * standalone case of a call that names no user touching a user's session. Also used by
 * listings and prune to drop entries of sessions that are gone.
 *
 * KEYS: the index keys of one slot (the agent's and/or a user's per-agent index; or a user's
 * index across agents). ARGV: op, member, score, ttl ('' none, ms; puts only).
 * - 'put': member is a session id scored by updatedAt (the score only moves up);
 * - 'drop': removes the member if its score is at most `score`;
 * - 'uput': member is 'agent\0session' in a user's index across agents (score 0);
 * - 'udrop': removes that member.
 */
export const INDEX = String.raw`${INDEX_FUNCTIONS}
local OP, MEMBER, SCORE, TTL = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for i = 1, #KEYS do
  if OP == 'put' then idx_put(KEYS[i], MEMBER, SCORE, TTL, true, true)
  elseif OP == 'uput' then idx_put(KEYS[i], MEMBER, '0', TTL, false, true)
  elseif OP == 'udrop' then redis.call('ZREM', KEYS[i], MEMBER)
  else idx_drop(KEYS[i], MEMBER, SCORE) end
end
return 'OK'
`;
