import { DEFAULT_SUMMARY_PROMPT, contentText, summaryInput, summaryText, type SessionHeader, type Summarizer } from '@agent-sessions/core/adapter';
import { HumanMessage, SystemMessage, type BaseMessage, type StoredMessage } from '@langchain/core/messages';
import type { Runnable } from '@langchain/core/runnables';

/** The id of the summary message handed to the model: stable per summary, so it is never stored as input. */
export function summaryMessageId(session: SessionHeader): string {
  return `agent-sessions-summary-${session.summarySeq}`;
}

/**
 * The summary before the window: a human message (as LangChain's own summarization middleware
 * does, so no second system message lands in the middle of the conversation).
 */
export function langchainSummaryItem(summary: string, session: SessionHeader): StoredMessage {
  return {
    type: 'human',
    data: { content: summaryText(summary), id: summaryMessageId(session), additional_kwargs: {}, response_metadata: {} },
  } as StoredMessage;
}

function textOf(content: unknown): string {
  return contentText(content) ?? '';
}

/** One stored LangChain message as a transcript line. */
export function langchainLine(item: StoredMessage): string | undefined {
  const data = (item?.data ?? {}) as StoredMessage['data'] & { tool_calls?: { name?: string; args?: unknown }[] };
  const text = textOf(data.content);
  switch (item?.type) {
    case 'human':
      return `user: ${text}`;
    case 'ai': {
      const calls = (data.tool_calls ?? []).map((c) => `${c.name ?? 'tool'}(${JSON.stringify(c.args ?? {})})`);
      return [text && `assistant: ${text}`, calls.length > 0 ? `assistant called ${calls.join(', ')}` : ''].filter(Boolean).join('\n');
    }
    case 'tool':
      return `tool result: ${text}`;
    default:
      return undefined; // system messages are instructions, not conversation
  }
}

/** Options of `langchainSummarizer`. */
export interface LangChainSummarizerOptions {
  /** The instructions the model gets. Default: core's `DEFAULT_SUMMARY_PROMPT`. */
  prompt?: string | undefined;
}

/**
 * A summarizer that asks a LangChain chat model (any Runnable from messages to a message) for the
 * new summary: the prompt as a system message, then one human message holding the summary so
 * far and the transcript of the runs to fold. Use a small, cheap model.
 */
export function langchainSummarizer(
  model: Pick<Runnable<BaseMessage[], BaseMessage>, 'invoke'>,
  options: LangChainSummarizerOptions = {},
): Summarizer {
  const prompt = options.prompt ?? DEFAULT_SUMMARY_PROMPT;
  return async (previous, runs, { signal }) => {
    const input = summaryInput(previous, runs, (item: StoredMessage) => langchainLine(item));
    const out = await model.invoke([new SystemMessage(prompt), new HumanMessage(input)], { signal });
    return textOf(out.content).trim();
  };
}
