import type { AgentInputItem } from '@openai/agents';
import { setTracingDisabled } from '@openai/agents';
import type { ScriptedModel } from '@openai/agents/testing';

// Tests run offline: no trace exporter may try to reach the network.
setTracingDisabled(true);

type Loose = Record<string, unknown>;

/**
 * Problems a provider would reject in a model input, checked independently of the adapter's
 * codec: a tool result with no call before it, a call with no result after it, a reasoning
 * item not followed by the item it belongs to.
 */
export function inputProblems(input: string | readonly AgentInputItem[]): string[] {
  if (typeof input === 'string') return [];
  const items = input as readonly Loose[];
  const problems: string[] = [];
  items.forEach((item, i) => {
    if (item.type === 'function_call_result') {
      const call = items.findIndex((c, j) => j < i && c.type === 'function_call' && c.callId === item.callId);
      if (call < 0) problems.push(`orphan result ${String(item.callId)} at ${i}`);
    }
    if (item.type === 'function_call') {
      const result = items.findIndex((r, j) => j > i && r.type === 'function_call_result' && r.callId === item.callId);
      if (result < 0) problems.push(`dangling call ${String(item.callId)} at ${i}`);
    }
    if (item.type === 'reasoning') {
      // Reasoning belongs to the model output right after it: never last, never before a
      // user message, a tool result or another reasoning item.
      const next = items[i + 1];
      if (!next) problems.push(`reasoning at the end (${i})`);
      else if (next.role === 'user' || next.type === 'reasoning' || String(next.type).endsWith('_result')) {
        problems.push(`stray reasoning at ${i}`);
      }
    }
  });
  return problems;
}

/** What the model saw on each call, as item lists. */
export function requestInputs(model: ScriptedModel): AgentInputItem[][] {
  return model.calls.map((c) => {
    const input = c.request.input;
    return typeof input === 'string' ? [{ type: 'message', role: 'user', content: input } as AgentInputItem] : [...input];
  });
}

/** The plain text of every message in an item list, for readable assertions. */
export function texts(items: readonly AgentInputItem[]): string[] {
  const out: string[] = [];
  for (const raw of items as readonly Loose[]) {
    if (raw.type !== 'message' && raw.role === undefined) continue;
    const content = raw.content;
    if (typeof content === 'string') out.push(`${String(raw.role)}: ${content}`);
    else if (Array.isArray(content)) {
      const text = (content as Loose[])
        .map((c) => (typeof c.text === 'string' ? c.text : ''))
        .join('');
      out.push(`${String(raw.role)}: ${text}`);
    }
  }
  return out;
}

export function types(items: readonly unknown[]): string[] {
  return (items as Loose[]).map((i) => String(i.type ?? 'message'));
}
