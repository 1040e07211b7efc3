/**
 * Sizes the batches of bulk deletes so that one command holds the server for about `targetMs`.
 *
 * It fits `time = fixed + perDoc * n` from the last two batches of different sizes. Where the time
 * grows with the batch (MongoDB: index lookups per document), the batch is sized to the target.
 * Where the fixed part alone exceeds the target (FerretDB 1.x on SQLite scans the collection for
 * every delete, so 50 or 500 documents cost about the same), smaller batches would only multiply
 * the scans: the pacer then uses the largest batch, and a call's overall time box (deleteSession's
 * budget, the inline cleanup of an append) is what bounds the work.
 */
export class DeletePacer {
  private n: number;
  private prev: { n: number; ms: number } | null = null;
  /** The longest delete command seen, in ms (for tests and diagnostics). */
  longestMs = 0;

  constructor(
    readonly targetMs = 100,
    readonly min = 10,
    readonly max = 500,
    start = 100,
  ) {
    this.n = start;
  }

  /** The size of the next batch. */
  get size(): number {
    return this.n;
  }

  /** Records how long a delete of `n` documents took. */
  record(n: number, ms: number): void {
    this.longestMs = Math.max(this.longestMs, ms);
    const prev = this.prev;
    if (n !== prev?.n) this.prev = { n, ms };
    if (ms <= this.targetMs) {
      if (n >= this.n) this.n = Math.min(this.max, this.n * 2);
      return;
    }
    if (!prev || prev.n === n) {
      this.n = Math.max(this.min, Math.floor(n / 4)); // try smaller, to learn how time scales
      return;
    }
    const perDoc = (ms - prev.ms) / (n - prev.n);
    const fixed = ms - perDoc * n;
    if (perDoc <= 0 || fixed >= this.targetMs * 0.8) this.n = this.max;
    else this.n = Math.max(this.min, Math.min(this.max, Math.floor((this.targetMs - fixed) / perDoc)));
  }
}
