import type { AgentInputItem } from '@openai/agents';
import { setTracingDisabled, tool } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall } from '@openai/agents/testing';
import { expect } from 'vitest';
import { z } from 'zod';

// Tests run offline: no trace exporter may try to reach the network.
setTracingDisabled(true);

type Loose = Record<string, unknown>;

/** A tool the scripted models call: the weather in a city. */
export const weather = tool({
  name: 'weather',
  description: 'Weather for a city',
  parameters: z.object({ city: z.string() }),
  execute: async ({ city }) => `sunny in ${city}`,
});

/** A tool that needs approval, so a run calling it is interrupted. */
export const wipe = tool({
  name: 'wipe',
  description: 'Deletes a path',
  parameters: z.object({ path: z.string() }),
  needsApproval: true,
  execute: async ({ path }) => `deleted ${path}`,
});

/** A scripted model that first calls `weather` for `city` (call id `callId`), then answers with `answers`. */
export function weatherModel(city: string, callId: string, ...answers: string[]): ScriptedModel {
  return new ScriptedModel([[functionCall('weather', { city }, { callId })], ...answers.map((a) => [assistantMessage(a)])]);
}

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

/**
 * The model's third call (the turn after a tool-using one) was sent the stored tool turn
 * (message, call, result, answer) and the new message, with no broken pair.
 */
export function expectToolTurnResent(model: ScriptedModel): void {
  const seen = requestInputs(model)[2]!;
  expect(types(seen)).toEqual(['message', 'function_call', 'function_call_result', 'message', 'message']);
  expect(inputProblems(seen)).toEqual([]);
}
