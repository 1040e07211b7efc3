import type { AgentInputItem } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall, modelResponder, type RecordedModelCall } from '@openai/agents/testing';

function texts(input: string | readonly AgentInputItem[], role: 'user' | 'tool'): string[] {
  if (typeof input === 'string') return role === 'user' ? [input] : [];
  return input.flatMap((item) => {
    if (role === 'tool') {
      if (item.type !== 'function_call_result') return [];
      const out = item.output as unknown;
      return [typeof out === 'string' ? out : ((out as { text?: string }).text ?? JSON.stringify(out))];
    }
    if (item.type !== 'message' || item.role !== 'user') return [];
    const c = item.content;
    return typeof c === 'string' ? [c] : c.map((part) => ('text' in part ? part.text : ''));
  });
}

/** What the model saw on its latest call: the demo prints it to show history came from storage. */
export const lastSeen = { items: 0 };

/**
 * The offline model: the SDK's ScriptedModel, with one rule-based step per call. Its answers
 * are computed from what it was actually sent, so it only knows your name or your order if the
 * session handed it the earlier turns. Nothing here is stored by the model itself.
 */
export function offlineModel(calls = 64): ScriptedModel {
  const respond = (call: RecordedModelCall) => {
    const input = call.request.input;
    lastSeen.items = typeof input === 'string' ? 1 : input.length;
    const users = texts(input, 'user');
    const latest = users[users.length - 1] ?? '';
    const last = typeof input === 'string' ? undefined : input[input.length - 1];
    if (last?.type === 'function_call_result') {
      return [assistantMessage(`I checked: ${texts([last], 'tool')[0]}.`)];
    }
    const name = users.map((t) => /\b(?:I am|I'm|my name is) (\w+)/i.exec(t)?.[1]).filter(Boolean).pop();
    const order = users.map((t) => /\border (?:number )?(?:is )?#?(\d+)/i.exec(t)?.[1]).filter(Boolean).pop();
    if (/where is my order|status/i.test(latest) && order) {
      return [functionCall('lookup_order', { orderId: order }, { callId: `call_${call.index}` })];
    }
    if (/what is my name|who am i|remember/i.test(latest)) {
      if (!name && !order) return [assistantMessage('I do not know anything about you yet.')];
      return [assistantMessage(`You are ${name ?? 'someone I have not been told the name of'}${order ? `, and your order number is ${order}` : ''}.`)];
    }
    if (name) return [assistantMessage(`Nice to meet you, ${name}.${order ? ` I noted order ${order}.` : ''}`)];
    return [assistantMessage('Tell me your name and your order number, and ask me about them later.')];
  };
  return new ScriptedModel(Array.from({ length: calls }, () => modelResponder(respond)));
}
