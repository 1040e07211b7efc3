import { INDEX_FUNCTIONS } from './prelude.js';

/**
 * Index maintenance on the agent's slot, for what a session script could not do inline: every
 * index write in a cluster (the indexes live in another slot than the session), and the rare
 * standalone case of a call that names no user touching a user's session. Also used by
 * listings and prune to drop entries of sessions that are gone.
 *
 * KEYS: the index keys (agent's and/or a user's, one slot). ARGV: 'put' or 'drop', sessionId,
 * score (updatedAt; for drop the highest score to remove), ttl ('' none, ms; put only).
 */
export const INDEX = String.raw`${INDEX_FUNCTIONS}
local OP, SID, SCORE, TTL = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
for i = 1, #KEYS do
  if OP == 'put' then idx_put(KEYS[i], SID, SCORE, TTL, true) else idx_drop(KEYS[i], SID, SCORE) end
end
return 'OK'
`;
