import type { JsonValue } from './types.js';

/** What a session list shows of one item: who said it and its text, or undefined for a non-message item. */
export type ItemText<Item = JsonValue> = (item: Item) => { role: string; text: string } | undefined;

/**
 * The title and preview a turn gives its session: the title is the run's first user text (kept
 * only by the session's first titled run), the preview the run's last message text. Core bounds
 * both (whitespace folded, cut at 200 and 500 characters).
 */
export function turnLabels<Item>(items: readonly Item[], text: ItemText<Item>): { title?: string; preview?: string } {
  let title: string | undefined;
  let preview: string | undefined;
  for (const item of items) {
    const t = text(item);
    if (!t || t.text.trim() === '') continue;
    if (title === undefined && t.role === 'user') title = t.text;
    if (t.role === 'user' || t.role === 'assistant') preview = t.text;
  }
  const out: { title?: string; preview?: string } = {};
  if (title !== undefined) out.title = title;
  if (preview !== undefined) out.preview = preview;
  return out;
}

/** The text of a message's content: a string, or the text parts of a list of content parts. */
export function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts: string[] = [];
  for (const part of content) {
    if (typeof part === 'string') parts.push(part);
    else if (part && typeof part === 'object' && typeof (part as { text?: unknown }).text === 'string') {
      parts.push((part as { text: string }).text);
    }
  }
  return parts.length > 0 ? parts.join(' ') : undefined;
}
