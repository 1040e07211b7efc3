import type { JsonValue } from '@agent-sessions/core';
import type { ItemCodec } from '@agent-sessions/core/adapter';
import { AIMessage, HumanMessage, ToolMessage, type BaseMessage } from '@langchain/core/messages';

/**
 * The run every contender saves once per turn: a user message, a tool call, its result and the
 * assistant's answer, about 1.3 KB of JSON, as a tool-using agent produces it. Our stores get
 * it as OpenAI-Agents-style items; the LangChain peers as the equivalent four BaseMessages.
 */
export const TURN_FORMAT = 'bench';

const USER = 'Can you check the status of order {n} and tell me when it will arrive? I ordered it last week.';
const ARGS = '{"orderId":"{n}","include":["shipping","items"]}';
const RESULT =
  '{"orderId":"{n}","status":"shipped","carrier":"DHL","trackingNumber":"JD014600006250{n}","estimatedDelivery":"2025-03-14","items":[{"sku":"A-1042","name":"USB-C cable, 2 m","qty":2},{"sku":"B-2201","name":"Laptop stand, aluminium","qty":1}],"warehouse":"Leipzig","lastScan":"Departed sorting facility, 2025-03-11T06:42:00Z"}';
const ANSWER =
  'Your order {n} has shipped with DHL (tracking number JD014600006250{n}). It left the sorting facility on 11 March and should arrive on 14 March. It contains two USB-C cables and the aluminium laptop stand. Would you like me to send the tracking link by email?';

function fill(template: string, n: number): string {
  return template.replaceAll('{n}', String(100000 + (n % 900000)));
}

/** The items of run number `n` (n only varies the text, never the size by more than a few bytes). */
export function turnItems(n: number): JsonValue[] {
  const callId = `call_${n.toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
  return [
    { type: 'message', role: 'user', content: fill(USER, n) },
    { type: 'function_call', callId, name: 'get_order_status', arguments: fill(ARGS, n), status: 'completed' },
    { type: 'function_call_result', callId, name: 'get_order_status', status: 'completed', output: { type: 'text', text: fill(RESULT, n) } },
    {
      type: 'message',
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: fill(ANSWER, n) }],
    },
  ];
}

/** What the window needs to know of those items: which are calls and which are their results. */
export const turnCodec: ItemCodec<JsonValue> = {
  format: TURN_FORMAT,
  inspect(item) {
    const it = item as { type?: string; callId?: string };
    if (it.type === 'function_call' && it.callId) return { callIds: [it.callId] };
    if (it.type === 'function_call_result' && it.callId) return { resultFor: it.callId };
    return {};
  },
};

/** The same turn as LangChain messages. */
export function turnMessages(n: number): BaseMessage[] {
  const id = `call_${n.toString(36)}_${Math.random().toString(36).slice(2, 10)}`;
  return [
    new HumanMessage(fill(USER, n)),
    new AIMessage({
      content: '',
      tool_calls: [{ id, name: 'get_order_status', args: JSON.parse(fill(ARGS, n)) as Record<string, unknown>, type: 'tool_call' }],
    }),
    new ToolMessage({ content: fill(RESULT, n), tool_call_id: id, name: 'get_order_status' }),
    new AIMessage(fill(ANSWER, n)),
  ];
}

/** How many runs the window loads each turn. */
export const WINDOW_RUNS = 10;
