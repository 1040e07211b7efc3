import type { AgentInputItem } from '@openai/agents';
import { ScriptedModel, assistantMessage, functionCall, modelResponder } from '@openai/agents/testing';

/** Every user message the model was sent, so scripted answers can depend on the history. */
function userTexts(input: string | readonly AgentInputItem[]): string[] {
  if (typeof input === 'string') return [input];
  return input.flatMap((item) => {
    if (item.type !== 'message' || item.role !== 'user') return [];
    const c = item.content;
    return typeof c === 'string' ? [c] : c.map((part) => ('text' in part ? part.text : ''));
  });
}

/**
 * The SDK's own offline model, scripted for this example's five turns. The second answer is
 * computed from what the model was actually sent, so it only knows Ada's name if the session
 * handed it the earlier turns.
 */
export function offlineModel(): ScriptedModel {
  return new ScriptedModel([
    // Turn 1: look the order up, then answer.
    [functionCall('lookup_order', { orderId: '1234' }, { callId: 'call_lookup' })],
    [assistantMessage('Order 1234 shipped yesterday, Ada.')],
    // Turn 2: memory, read from the history in the request.
    modelResponder((call) => {
      const said = userTexts(call.request.input).join(' ');
      const name = /I am (\w+)/.exec(said)?.[1];
      return [assistantMessage(name ? `Your name is ${name}.` : 'I do not know your name.')];
    }),
    // Turn 3 (streamed).
    [assistantMessage('It should arrive within two days.')],
    // Turn 4: a refund needs approval; after approval, the answer.
    [functionCall('refund_order', { orderId: '1234' }, { callId: 'call_refund' })],
    [assistantMessage('Order 1234 is refunded.')],
  ]);
}
