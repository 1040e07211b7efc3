import type { EncryptionOption, SessionStore } from '@agent-sessions/core';

/** What the command line opens a store with. */
export interface StoreOpenOptions {
  timeoutMs?: number | undefined;
  /** From `AGENT_SESSIONS_ENCRYPTION`, when set. */
  encryption?: EncryptionOption | undefined;
}

/** Where a command reads and writes: the process's streams by default, buffers in tests. */
export interface CliIO {
  stdout: { write(text: string): unknown };
  stderr: { write(text: string): unknown; isTTY?: boolean | undefined };
  /** Standard input, for `import -` and the `delete-user` confirmation. */
  stdin: AsyncIterable<string | Uint8Array> & { isTTY?: boolean | undefined };
  env: Record<string, string | undefined>;
  /** Opens the store for a URL. Default: `createStore` (the store package is loaded on demand). */
  openStore?: ((url: string, options: StoreOpenOptions) => Promise<SessionStore>) | undefined;
  /** The store is closed after the command unless this is false (a test that shares one store). */
  closeStore?: boolean | undefined;
  /** The terminal width for tables; default 100 when stdout is not a terminal. */
  columns?: number | undefined;
}

/** Progress on stderr, only when it is a terminal: one line redrawn in place, cleared at the end. */
export class Progress {
  readonly #io: CliIO;
  #shown = false;
  #last = 0;

  constructor(io: CliIO) {
    this.#io = io;
  }

  get enabled(): boolean {
    return this.#io.stderr.isTTY === true;
  }

  /** Redraws the line, at most every 100 ms unless `force`. */
  update(text: string, force = false): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (!force && now - this.#last < 100) return;
    this.#last = now;
    this.#io.stderr.write(`\r\x1b[2K${text}`);
    this.#shown = true;
  }

  done(): void {
    if (this.#shown) this.#io.stderr.write('\r\x1b[2K');
    this.#shown = false;
  }
}
