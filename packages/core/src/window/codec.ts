import type { JsonValue } from '../types.js';

/** What the window needs to know about one item; everything else about it is the framework's business. */
export interface ItemInfo {
  /** Ids of the tool calls this item makes (a function_call item, an AI message with tool_calls). */
  callIds?: readonly string[] | undefined;
  /** The id of the tool call this item is the result of. */
  resultFor?: string | undefined;
  /** A reasoning item: valid only directly before the item it belongs to. */
  reasoning?: boolean | undefined;
  /**
   * An instruction (a system or developer message): sent to the model on the turn that carries
   * it, never stored with the turn and never replayed from history.
   */
  instruction?: boolean | undefined;
}

/**
 * A framework's item format as the window sees it. Each adapter ships one, so core stays
 * framework-agnostic: it never looks inside an item except through `inspect`.
 */
export interface ItemCodec<Item = JsonValue> {
  /** The format tag stored on runs, e.g. `openai-agents`, `langchain`. */
  readonly format: string;
  inspect(item: Item): ItemInfo;
}

/** A codec for items with no tool calls or reasoning: every item is a plain message. */
export const plainCodec: ItemCodec<JsonValue> = {
  format: 'plain',
  inspect: () => ({}),
};
