import type { Run } from '../types.js';

/**
 * The prompt of the ready-made summarizers (`langchainSummarizer`, `openAIAgentsSummarizer`).
 * The model gets it as its instructions, and as input the previous summary and the transcript
 * of the runs to fold (see `summaryInput`).
 */
export const DEFAULT_SUMMARY_PROMPT = [
  'You maintain the running summary of a conversation between a user and an AI assistant.',
  'You are given the summary so far (possibly empty) and the next part of the conversation.',
  'Write the updated summary: keep every fact, name, number, preference, decision and open task',
  'from both, drop small talk, and write it in the third person ("The user ...", "The assistant ...").',
  'Answer with the summary only, at most 300 words.',
].join(' ');

/** How one stored item reads in a transcript: `user: ...`, or nothing for an item that says nothing. */
export type TranscriptLine<Item> = (item: Item) => string | undefined;

/** The runs as a plain transcript, one line per item that says something. */
export function summaryTranscript<Item>(runs: readonly Run[], line: TranscriptLine<Item>): string {
  const lines: string[] = [];
  for (const run of runs) {
    for (const item of run.items as unknown as Item[]) {
      const text = line(item);
      if (text !== undefined && text.trim() !== '') lines.push(text);
    }
  }
  return lines.join('\n');
}

/** The input the ready-made summarizers give the model after `DEFAULT_SUMMARY_PROMPT`. */
export function summaryInput<Item>(previousSummary: string | null, runs: readonly Run[], line: TranscriptLine<Item>): string {
  return `Summary so far:\n${previousSummary ?? '(none)'}\n\nNext part of the conversation:\n${summaryTranscript(runs, line)}`;
}
