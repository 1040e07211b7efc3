import type { AppendRunResult, History, JsonObject, PoppedItem, Run, SessionHeader } from '../types.js';
import { envelopeText, STRING_ENVELOPE_PREFIX, type Encryption } from './encryption.js';

// What the base class seals before a `do*` primitive and opens after it, so that every store gets
// encryption at rest without a line of store code. Only content is sealed: items, and the
// header's state, summary, title and preview.

interface Ref {
  agentId: string;
  sessionId: string;
}

type TextField = 'summary' | 'title' | 'preview';
const TEXT_FIELDS: readonly TextField[] = ['summary', 'title', 'preview'];

/** A run as stored, with its items opened. */
export function openRun(enc: Encryption, ref: Ref, run: Run): Run {
  return { ...run, items: enc.openItems(ref.agentId, ref.sessionId, run.runId, run.items) };
}

/** A header as stored, with its state and text fields opened. */
export function openHeader(enc: Encryption, header: SessionHeader): SessionHeader {
  const out = { ...header, state: enc.openState(header.agentId, header.sessionId, header.state) } as SessionHeader & Record<TextField, string | null | undefined>;
  for (const field of TEXT_FIELDS) {
    const value = out[field];
    if (typeof value === 'string') out[field] = enc.openText(field, header.agentId, header.sessionId, value);
  }
  return out;
}

export function openHeaders(enc: Encryption, headers: SessionHeader[]): SessionHeader[] {
  return headers.map((h) => openHeader(enc, h));
}

export function openAppend(enc: Encryption, ref: Ref, result: AppendRunResult): AppendRunResult {
  return { ...result, run: openRun(enc, ref, result.run), session: openHeader(enc, result.session) };
}

export function openHistory(enc: Encryption, ref: Ref, history: History): History {
  return {
    ...history,
    session: history.session && openHeader(enc, history.session),
    runs: history.runs.map((r) => openRun(enc, ref, r)),
  };
}

export function openPopped(enc: Encryption, ref: Ref, popped: PoppedItem | null): PoppedItem | null {
  if (!popped) return null;
  return { ...popped, item: enc.openItem(popped.item, { ...ref, runId: popped.runId, index: null }) };
}

/** The sealed form of the content fields an input carries (state, summary, title, preview); others untouched. */
export function sealFields<T extends Ref & { state?: JsonObject | undefined } & Partial<Record<TextField, string | null | undefined>>>(
  enc: Encryption,
  input: T,
): T {
  const out = { ...input };
  if (input.state !== undefined) out.state = enc.sealState(input.agentId, input.sessionId, input.state);
  for (const field of TEXT_FIELDS) {
    const value = input[field];
    if (typeof value === 'string') (out as Record<TextField, string | null | undefined>)[field] = enc.sealText(field, input.agentId, input.sessionId, value);
  }
  return out;
}

/** An append's items sealed one by one, bound to the run id and position, plus its text fields. */
export function sealAppend<T extends Ref & { runId: string; items: Run['items'] } & Partial<Record<TextField, string | null | undefined>>>(
  enc: Encryption,
  input: T,
): T {
  return { ...sealFields(enc, input), items: enc.sealItems(input.agentId, input.sessionId, input.runId, input.items) };
}

/** A whole session to restore (import, fork): its header fields and every run's items, sealed. */
export function sealImport<T extends Ref & { header: { state: JsonObject } & Record<TextField, string | null>; runs: Run[] }>(enc: Encryption, input: T): T {
  const { agentId, sessionId } = input;
  const header = { ...input.header, state: enc.sealState(agentId, sessionId, input.header.state) };
  for (const field of TEXT_FIELDS) header[field] = enc.sealText(field, agentId, sessionId, input.header[field]);
  return {
    ...input,
    header,
    runs: input.runs.map((r) => ({ ...r, items: enc.sealItems(agentId, sessionId, r.runId, r.items) })),
  };
}

/** Bytes of sealed items as stored (envelope text lengths): a cheap size for telemetry. */
export function sealedBytes(items: Run['items']): number {
  let n = 0;
  for (const item of items) n += (envelopeText(item)?.length ?? 0) + 12;
  return n;
}

/** True when a stored string is a sealed one. */
export function isSealedText(value: string | null): boolean {
  return value !== null && value.startsWith(STRING_ENVELOPE_PREFIX);
}
