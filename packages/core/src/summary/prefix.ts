import type { SessionHeader } from '../types.js';
import type { WindowOptions } from '../window/window.js';
import type { SummaryOptions } from './options.js';

/** The summary as one item in the framework's format (a system message, for both adapters). */
export type SummaryItem<Item> = (summary: string, session: SessionHeader) => Item;

/** How the adapters introduce the summary to the model. */
export function summaryText(summary: string): string {
  return `Summary of the earlier conversation (older turns are not shown):\n${summary}`;
}

/**
 * The window with the summary placed before the history, after the caller's own `prefix`
 * items: read with the window (the header comes in the same round trip), counted by
 * `maxTokens` like every prefix item, never cut. Unchanged without a summary option or with
 * `summary.prefix: false`.
 */
export function summaryWindow<Item>(
  window: WindowOptions<Item>,
  summary: SummaryOptions | undefined,
  item: SummaryItem<Item>,
): WindowOptions<Item> {
  if (!summary || summary.prefix === false) return window;
  const own = window.prefix;
  return {
    ...window,
    prefix: (session: SessionHeader | null): readonly Item[] => {
      const mine = typeof own === 'function' ? own(session) : (own ?? []);
      return session?.summary ? [...mine, item(session.summary, session)] : mine;
    },
  };
}
