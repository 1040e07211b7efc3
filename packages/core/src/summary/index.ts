// Session summaries (issue 17): what leaves the window is folded into `header.summary`, once,
// off the hot path. Adapters wire `SummaryOptions` into their wrappers; see the core README.
export {
  DEFAULT_SUMMARY_MAX_RUNS,
  DEFAULT_SUMMARY_TIMEOUT_MS,
  validateSummary,
  type Summarizer,
  type SummarizerContext,
  type SummaryFailure,
  type SummaryOptions,
  type SummaryTrigger,
} from './options.js';
export { foldSummary, windowStart, type FoldInput, type SummaryOutcome } from './fold.js';
export { summaryWindow, summaryText, type SummaryItem } from './prefix.js';
export { DEFAULT_SUMMARY_PROMPT, summaryInput, summaryTranscript, type TranscriptLine } from './prompt.js';
