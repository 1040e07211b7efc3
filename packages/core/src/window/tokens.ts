/** Counts the tokens an item costs the model. */
export type TokenCounter<Item> = (item: Item) => number;

/**
 * The default estimate: about four characters of serialized JSON per token. Cheap and
 * deliberately rough; pass a real tokenizer as `tokenCounter` when budgets are tight.
 */
export function estimateTokens(item: unknown): number {
  const text = typeof item === 'string' ? item : JSON.stringify(item) ?? '';
  return Math.ceil(text.length / 4);
}
