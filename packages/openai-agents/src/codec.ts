import type { ItemCodec, ItemInfo, JsonValue } from '@agent-sessions/core/adapter';
import type { AgentInputItem } from '@openai/agents';

/** The format tag stored on every run this adapter writes. */
export const OPENAI_AGENTS_FORMAT = 'openai-agents';

// Call item type → the type of the item that answers it, as the SDK's own runner pairs them
// (agents-core runner/toolResultCorrelation). Ids are namespaced by result type so a function
// call and a computer call that happen to share a call id never answer each other.
const RESULT_TYPE_BY_CALL_TYPE: Readonly<Record<string, string>> = {
  function_call: 'function_call_result',
  computer_call: 'computer_call_result',
  shell_call: 'shell_call_output',
  apply_patch_call: 'apply_patch_call_output',
  program: 'program_output',
};
const RESULT_TYPES = new Set(Object.values(RESULT_TYPE_BY_CALL_TYPE));
const TOOL_SEARCH_OUTPUT = 'tool_search_output';
const MCP_APPROVAL_REQUEST = 'mcp_approval_request';
const MCP_APPROVAL_RESPONSE = 'mcp_approval_response';

type Loose = Record<string, unknown>;

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

function record(value: unknown): Loose | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Loose) : undefined;
}

function key(resultType: string, id: string): string {
  return `${resultType}:${id}`;
}

function toolSearchExecution(item: Loose): string | undefined {
  const own = item.execution;
  if (own === 'client' || own === 'server') return own;
  const fromProvider = record(item.providerData)?.execution;
  return fromProvider === 'client' || fromProvider === 'server' ? fromProvider : undefined;
}

function toolSearchCallId(item: Loose): string | undefined {
  const provider = record(item.providerData);
  return str(provider?.call_id) ?? str(provider?.callId) ?? str(item.call_id) ?? str(item.callId);
}

function inspectItem(value: AgentInputItem): ItemInfo {
  const item = record(value);
  if (!item) return {};
  const type = item.type;
  if (type === 'reasoning') return { reasoning: true };
  // System and developer messages are instructions: sent with the turn that carries them,
  // never stored or replayed (else a client sending one each turn has the model see N copies).
  if ((type === undefined || type === 'message') && (item.role === 'system' || item.role === 'developer')) return { instruction: true };

  const resultType = typeof type === 'string' ? RESULT_TYPE_BY_CALL_TYPE[type] : undefined;
  if (resultType) {
    const callId = str(item.callId);
    if (!callId) return {};
    // The SDK keeps a hosted shell call that is still running: its output arrives from the
    // server later, so it is not a dangling call (agents-core isPendingHostedShellCall).
    if (type === 'shell_call' && (item.status === undefined || item.status === 'in_progress')) return {};
    return { callIds: [key(resultType, callId)] };
  }
  if (typeof type === 'string' && RESULT_TYPES.has(type)) {
    const callId = str(item.callId);
    return callId ? { resultFor: key(type, callId) } : {};
  }

  // Tool search run by the client pairs with its output; one run by the server is self-contained.
  if (type === 'tool_search_call' || type === TOOL_SEARCH_OUTPUT) {
    if (toolSearchExecution(item) === 'server') return {};
    if (type === 'tool_search_call') {
      const id = toolSearchCallId(item) ?? str(item.id);
      return id ? { callIds: [key(TOOL_SEARCH_OUTPUT, id)] } : {};
    }
    const id = toolSearchCallId(item);
    return id ? { resultFor: key(TOOL_SEARCH_OUTPUT, id) } : {};
  }

  // Hosted tool calls (web search, file search, code interpreter, hosted MCP calls) run on the
  // provider and carry their output inline: whole on their own. Only a hosted MCP approval
  // request needs its answer, the approval response.
  if (type === 'hosted_tool_call') {
    const provider = record(item.providerData);
    if (item.name === MCP_APPROVAL_REQUEST || provider?.type === MCP_APPROVAL_REQUEST) {
      const id = str(provider?.id) ?? str(item.id);
      return id ? { callIds: [key(MCP_APPROVAL_RESPONSE, id)] } : {};
    }
    if (item.name === MCP_APPROVAL_RESPONSE) {
      const id = str(provider?.approval_request_id);
      return id ? { resultFor: key(MCP_APPROVAL_RESPONSE, id) } : {};
    }
  }
  return {};
}

/**
 * How the core window reads OpenAI Agents items (`AgentInputItem`): which are tool calls and
 * with which call ids, which are their results, and which are reasoning items. Calls and
 * results pair exactly as the SDK's runner pairs them: function, computer, shell, apply-patch
 * and program calls by `callId`, client-side tool search by its call id, hosted MCP approval
 * requests with their responses. Hosted tool calls are whole on their own.
 */
export const openAIAgentsCodec: ItemCodec<AgentInputItem> = {
  format: OPENAI_AGENTS_FORMAT,
  inspect: inspectItem,
};

/**
 * Turns the SDK's items into plain JSON every store keeps unchanged. Binary content
 * (`Uint8Array` image or file data, which the SDK also accepts as a base64 string) becomes a
 * base64 string; `undefined` properties are dropped. Anything else that is not JSON is left
 * for the store to reject with `invalid_input` before anything is written.
 */
export function toStoredItems(items: readonly AgentInputItem[]): JsonValue[] {
  return items.map((item) => toJson(item) as JsonValue);
}

function toJson(value: unknown, seen = new Set<object>()): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('base64');
  if (value instanceof ArrayBuffer) return Buffer.from(value).toString('base64');
  if (typeof value !== 'object' || value === null) return value;
  // A cycle or a class instance is passed through as is: the store's validation names it.
  if (seen.has(value)) return value;
  if (Array.isArray(value)) {
    seen.add(value);
    const out = value.map((v) => toJson(v, seen));
    seen.delete(value);
    return out;
  }
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  seen.add(value);
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = toJson(v, seen);
  seen.delete(value);
  return out;
}

/** Stored items back as the SDK's items: a run's items are `AgentInputItem`s stored as JSON. */
export function fromStoredItems(items: readonly JsonValue[]): AgentInputItem[] {
  return items as unknown as AgentInputItem[];
}
