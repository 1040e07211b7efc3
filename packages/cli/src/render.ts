import type { JsonValue, Run, SessionHeader } from '@agent-sessions/core';

/** One line of text: whitespace collapsed, cut to `max` characters with an ellipsis. */
export function oneLine(text: string | null | undefined, max: number): string {
  const flat = (text ?? '').replace(/\s+/g, ' ').trim();
  if (flat.length <= max) return flat;
  return `${Array.from(flat).slice(0, Math.max(0, max - 1)).join('')}…`;
}

/** `2025-03-01 14:05:09Z`: sortable, unambiguous, short. */
export function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}

function pad(text: string, width: number): string {
  const len = Array.from(text).length;
  return len >= width ? text : text + ' '.repeat(width - len);
}

/**
 * The session list as a table: id, title, preview, runs, updated. Title and preview share what
 * the terminal width leaves after the fixed columns.
 */
export function sessionTable(sessions: readonly SessionHeader[], columns: number): string {
  const rows = sessions.map((s) => ({
    id: s.sessionId,
    title: s.title ?? '',
    preview: s.preview ?? '',
    runs: String(s.runCount),
    updated: time(s.updatedAt),
  }));
  const idW = Math.max(2, ...rows.map((r) => r.id.length));
  const runsW = Math.max(4, ...rows.map((r) => r.runs.length));
  const updatedW = 20;
  const free = Math.max(30, columns - idW - runsW - updatedW - 8);
  const titleW = Math.max(10, Math.min(40, Math.floor(free * 0.4)));
  const previewW = Math.max(10, free - titleW);
  const line = (id: string, title: string, preview: string, runs: string, updated: string) =>
    `${pad(id, idW)}  ${pad(oneLine(title, titleW), titleW)}  ${pad(oneLine(preview, previewW), previewW)}  ${runs.padStart(runsW)}  ${updated}`.trimEnd();
  const out = [line('ID', 'TITLE', 'PREVIEW', 'RUNS', 'UPDATED')];
  for (const r of rows) out.push(line(r.id, r.title, r.preview, r.runs, r.updated));
  return `${out.join('\n')}\n`;
}

type Obj = { [key: string]: JsonValue };
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The text of a message content: a string, or the text parts of an array of parts. */
function contentText(content: JsonValue | undefined): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts = content.map((p) => {
    if (typeof p === 'string') return p;
    if (isObj(p)) {
      if (typeof p.text === 'string') return p.text;
      if (typeof p.refusal === 'string') return `(refusal) ${p.refusal}`;
      if (typeof p.type === 'string') return `[${p.type}]`;
    }
    return undefined;
  });
  if (parts.some((p) => p === undefined)) return undefined;
  return parts.join(' ');
}

function json(v: JsonValue | undefined): string {
  return typeof v === 'string' ? v : JSON.stringify(v ?? null);
}

const LANGCHAIN_ROLES: Record<string, string> = { human: 'user', ai: 'assistant', tool: 'tool', system: 'system', generic: 'message' };

/**
 * One stored item as `role: text` where its shape says what it is: OpenAI Agents items
 * (messages, function calls and results, reasoning), LangChain stored messages (`{ type, data }`)
 * and plain `{ role, content }` messages. Anything else is its JSON.
 */
export function renderItem(item: JsonValue): string {
  if (typeof item === 'string') return item;
  if (!isObj(item)) return JSON.stringify(item);
  const type = typeof item.type === 'string' ? item.type : undefined;
  // LangChain's StoredMessage: { type: 'human' | 'ai' | 'tool' | ..., data: { content, tool_calls, ... } }
  if (type && type in LANGCHAIN_ROLES && isObj(item.data)) {
    const d = item.data;
    const text = contentText(d.content);
    const lines: string[] = [];
    if (text !== undefined && text !== '') lines.push(`${LANGCHAIN_ROLES[type]}: ${text}`);
    if (Array.isArray(d.tool_calls)) {
      for (const c of d.tool_calls) if (isObj(c)) lines.push(`tool call ${json(c.name)}(${JSON.stringify(c.args ?? {})})`);
    }
    if (type === 'tool' && text !== undefined) return `tool result${typeof d.name === 'string' ? ` ${d.name}` : ''}: ${text}`;
    if (lines.length > 0) return lines.join('\n');
    return JSON.stringify(item);
  }
  if (type === 'function_call' || type === 'hosted_tool_call' || type === 'computer_call' || type === 'shell_call') {
    const name = typeof item.name === 'string' ? item.name : type;
    return `tool call ${name}(${json(item.arguments ?? item.action ?? {})})`;
  }
  if (type === 'function_call_result' || type === 'computer_call_result' || type === 'function_call_output') {
    const out = item.output;
    const text = isObj(out) && typeof out.text === 'string' ? out.text : (contentText(out) ?? json(out));
    return `tool result${typeof item.name === 'string' ? ` ${item.name}` : ''}: ${text}`;
  }
  if (type === 'reasoning') {
    const text = contentText(item.content) || contentText(item.rawContent) || '';
    return text ? `reasoning: ${text}` : 'reasoning';
  }
  if ((type === undefined || type === 'message') && typeof item.role === 'string') {
    const text = contentText(item.content);
    if (text !== undefined) return `${item.role}: ${text}`;
  }
  return JSON.stringify(item);
}

/** The session header at the top of `show`. */
export function headerText(s: SessionHeader): string {
  const lines = [
    `session ${s.sessionId}  (agent ${s.agentId}${s.userId ? `, user ${s.userId}` : ''})`,
    `title    ${s.title ?? '(none)'}`,
    `runs     ${s.runCount}  created ${time(s.createdAt)}  updated ${time(s.updatedAt)}${s.expiresAt ? `  expires ${time(s.expiresAt)}` : ''}`,
  ];
  const u = s.usage;
  if (u.requests || u.inputTokens || u.outputTokens || u.totalTokens) {
    lines.push(`usage    ${u.requests} requests, ${u.inputTokens} in, ${u.outputTokens} out, ${u.totalTokens} total tokens`);
  }
  if (Object.keys(s.metadata).length > 0) lines.push(`metadata ${JSON.stringify(s.metadata)}`);
  if (s.summary) lines.push(`summary  (through run ${s.summarySeq}) ${s.summary}`);
  return `${lines.join('\n')}\n`;
}

/** One run of `show`: a line with seq, status, time (and what went wrong), then its items indented. */
export function runText(run: Run): string {
  const mark = run.status === 'completed' ? '' : `  [${run.status.toUpperCase()}]`;
  const meta = run.metadata ?? {};
  const err = isObj(meta.error) ? meta.error : undefined;
  const outcome = typeof meta.outcome === 'string' && meta.outcome !== run.status ? ` (${meta.outcome})` : '';
  const why = err ? `  ${json(err.name)}: ${json(err.message)}` : '';
  const head = `#${run.seq}  ${run.status}${outcome}  ${time(run.createdAt)}${mark}${why}`;
  const body = run.items.map((item) =>
    renderItem(item)
      .split('\n')
      .map((l) => `    ${l}`)
      .join('\n'),
  );
  return `${[head, ...body].join('\n')}\n`;
}
