import type { SessionStore } from '@agent-sessions/core';
import type { CliIO } from '../src/index.js';

export interface Captured {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the command line in-process over `store`, capturing what it prints. */
export async function cli(
  store: SessionStore | undefined,
  argv: string[],
  opts: { stdin?: string; tty?: boolean; env?: Record<string, string>; openStore?: CliIO['openStore'] } = {},
): Promise<Captured> {
  const { run } = await import('../src/index.js');
  let stdout = '';
  let stderr = '';
  const input = opts.stdin;
  const io: CliIO = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t), isTTY: opts.tty ?? false },
    stdin: Object.assign(
      (async function* () {
        if (input !== undefined) yield input;
      })(),
      { isTTY: opts.tty ?? false },
    ),
    env: opts.env ?? {},
    openStore: opts.openStore ?? (store ? async () => store : undefined),
    closeStore: false,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}
