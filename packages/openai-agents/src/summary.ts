import { DEFAULT_SUMMARY_PROMPT, contentText, summaryInput, summaryText, type Summarizer } from '@agent-sessions/core/adapter';
import { Agent, run as defaultRun, type AgentInputItem, type Model, type Runner } from '@openai/agents';

/** The summary before the window: a user message (the shape the SDK's own summarizing-session examples use). */
export function openAIAgentsSummaryItem(summary: string): AgentInputItem {
  return { type: 'message', role: 'user', content: summaryText(summary) };
}

function textOf(content: unknown): string {
  return contentText(content) ?? '';
}

/** One stored OpenAI Agents item as a transcript line (reasoning and instructions say nothing). */
export function openAIAgentsLine(item: AgentInputItem): string | undefined {
  const raw = item as Record<string, unknown>;
  if (raw.type === 'function_call') return `assistant called ${String(raw.name)}(${String(raw.arguments ?? '')})`;
  if (raw.type === 'function_call_result') {
    const output = raw.output as unknown;
    const text = typeof output === 'string' ? output : textOf(Array.isArray(output) ? output : [output]);
    return `tool result: ${text}`;
  }
  if ((raw.type === undefined || raw.type === 'message') && (raw.role === 'user' || raw.role === 'assistant')) {
    return `${raw.role}: ${textOf(raw.content)}`;
  }
  return undefined;
}

/** Options of `openAIAgentsSummarizer`. */
export interface OpenAIAgentsSummarizerOptions {
  /** The instructions of the summarizing agent. Default: core's `DEFAULT_SUMMARY_PROMPT`. */
  prompt?: string | undefined;
  /** The SDK `Runner` to run it with (its model provider). Default: the SDK's `run()`. */
  runner?: Runner | undefined;
}

/**
 * A summarizer that runs a one-turn OpenAI Agents agent (`instructions`: the prompt, no tools,
 * no session) on the summary so far and the transcript of the runs to fold. `model` is a model
 * name (`'gpt-4.1-mini'`) or a `Model` (a `ScriptedModel` offline). Use a small, cheap model.
 */
export function openAIAgentsSummarizer(model: string | Model, options: OpenAIAgentsSummarizerOptions = {}): Summarizer {
  const agent = new Agent({ name: 'agent-sessions-summarizer', instructions: options.prompt ?? DEFAULT_SUMMARY_PROMPT, model });
  return async (previous, runs, { signal }) => {
    const input = summaryInput(previous, runs, (item: AgentInputItem) => openAIAgentsLine(item));
    const result = options.runner ? await options.runner.run(agent, input, { signal }) : await defaultRun(agent, input, { signal });
    return String(result.finalOutput ?? '').trim();
  };
}
