import { Agent } from '@openai/agents';

/**
 * True when `value` is an OpenAI Agents `Agent`. `instanceof` first; then, for an agent made
 * by a second copy of the SDK (two versions installed side by side, or ESM and CommonJS builds
 * both loaded), the shape of one: a name, tool and handoff lists and the methods the runner
 * calls. LangChain runnables (`invoke`, `lc_namespace`) and plain objects never match. Never throws.
 */
export function isOpenAIAgent(value: unknown): value is Agent<any, any> {
  try {
    if (value instanceof Agent) return true;
    if (typeof value !== 'object' || value === null) return false;
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto === Object.prototype || proto === null) return false;
    const v = value as Record<string, unknown>;
    if ('lc_namespace' in v || 'lc_serializable' in v || typeof v.invoke === 'function') return false;
    return (
      typeof v.name === 'string' &&
      Array.isArray(v.tools) &&
      Array.isArray(v.handoffs) &&
      typeof v.getSystemPrompt === 'function' &&
      typeof v.getAllTools === 'function' &&
      typeof v.getEnabledHandoffs === 'function' &&
      typeof v.processFinalOutput === 'function' &&
      typeof v.asTool === 'function' &&
      typeof v.clone === 'function'
    );
  } catch {
    return false;
  }
}
