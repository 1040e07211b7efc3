import type { NormalizedImport } from '@agent-sessions/core/store';
import { encodeUsage } from './codec.js';

/** The header fields of an imported session, in the order the import script writes them ('' for null). */
export function importHeader(input: NormalizedImport): string[] {
  const h = input.header;
  const field = (v: string | number | null): string => (v === null ? '' : `=${v}`);
  return [
    field(input.agentId),
    field(input.sessionId),
    field(input.userId),
    field(h.createdAt),
    field(h.updatedAt),
    field(h.expiresAt),
    field(h.ttlMs),
    field(JSON.stringify(h.metadata)),
    field(JSON.stringify(h.state)),
    field(h.summary),
    field(1),
    field(input.lastSeq),
    field(h.title),
    field(h.preview),
    field(encodeUsage(h.usage)),
    field(h.summarySeq),
  ];
}
