import { isAgentSessionsError, type SessionStore } from '@agent-sessions/core';
import { int, parseCommand } from './args.js';
import { list } from './commands/list.js';
import { deleteCommand, deleteUser, migrate, prune } from './commands/maintain.js';
import { reencrypt } from './commands/reencrypt.js';
import { show } from './commands/show.js';
import { exportCommand, fork, importCommand } from './commands/transfer.js';
import { writeAll, type Command, type Context } from './context.js';
import { EXIT_CODES, UsageError, exitCodeFor } from './exit-codes.js';
import { Progress, type CliIO } from './io.js';
import { ENCRYPTION_ENV, encryptionFromEnv, installHint, openStore } from './open.js';
import { scrubberFor } from './redact.js';

export const COMMANDS: readonly Command[] = [list, show, exportCommand, importCommand, fork, deleteCommand, deleteUser, prune, migrate, reencrypt];

const URL_HELP = [
  'Global options:',
  '  --url <store-url>   memory://, pglite://<dir>, postgres://…, redis://…, redis+cluster://…, mongodb://…',
  '                      (default: the AGENT_SESSIONS_URL environment variable)',
  '  --timeout-ms N      the bound of each store call (default 10000)',
  `  ${ENCRYPTION_ENV}  (environment) the store's encryption key, or a JSON key ring`,
  '                      {"current": id, "keys": {id: key}}: values are opened for show and export',
  '  -h, --help          this help',
];

const EXIT_HELP = [
  'Exit codes: 0 ok, 1 internal, 2 usage or invalid_input, 3 not_found, 4 conflict, 5 unavailable,',
  '            6 access_denied, 7 not_implemented (e.g. the store package is not installed)',
];

function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    'Usage: agent-sessions <command> [options] --url <store-url>',
    '',
    'Commands:',
    ...COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    ...URL_HELP,
    '',
    ...EXIT_HELP,
    '',
    "Run 'agent-sessions <command> --help' for a command's options.",
    '',
  ].join('\n');
}

function commandUsage(c: Command): string {
  return [`Usage: agent-sessions ${c.name} ${c.usage}`.trimEnd(), '', c.summary, ...(c.help.length ? ['', ...c.help] : []), '', ...URL_HELP, ''].join('\n');
}

/** The URL as given on the command line (`--url x` or `--url=x`), for scrubbing messages before parsing. */
function rawUrl(argv: string[], env: CliIO['env']): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] ?? '';
    if (a === '--url') return argv[i + 1];
    if (a.startsWith('--url=')) return a.slice(6);
  }
  return env.AGENT_SESSIONS_URL;
}

/** A stream whose writes are scrubbed; `once('drain')` still reaches the real stream. */
function scrubbed(stream: CliIO['stdout'], scrub: (t: string) => string): CliIO['stdout'] {
  const s = stream as CliIO['stdout'] & { once?: (event: string, f: () => void) => unknown };
  return {
    write: (text: string) => s.write(scrub(text)),
    ...(typeof s.once === 'function' ? { once: (event: string, f: () => void) => s.once?.(event, f) } : {}),
  };
}

/**
 * Runs one command line (without `node` and the script) and returns the exit status. Never
 * throws: failures are printed on stderr as the error's message, with credentials scrubbed.
 */
export async function run(argv: string[], io: CliIO): Promise<number> {
  const scrub = scrubberFor(rawUrl(argv, io.env));
  const safe: CliIO = { ...io, stdout: scrubbed(io.stdout, scrub), stderr: { ...scrubbed(io.stderr, scrub), isTTY: io.stderr.isTTY } };
  let store: SessionStore | undefined;
  let command: Command | undefined;
  let url: string | undefined;
  try {
    const [name, ...rest] = argv;
    if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
      (name === undefined ? safe.stderr : safe.stdout).write(usage());
      return name === undefined ? EXIT_CODES.invalid_input : EXIT_CODES.ok;
    }
    command = COMMANDS.find((c) => c.name === name);
    if (!command) throw new UsageError(`unknown command '${name}'`);
    const { values, positionals } = parseCommand(rest, command.options, command.positionals);
    if (values.help) {
      safe.stdout.write(commandUsage(command));
      return EXIT_CODES.ok;
    }
    url = (typeof values.url === 'string' ? values.url : undefined) ?? io.env.AGENT_SESSIONS_URL;
    const timeoutMs = int(values, 'timeout-ms', 1);
    const storeUrl = url;
    const encryption = encryptionFromEnv(io.env);
    const ctx: Context = {
      io: safe,
      values,
      positionals,
      progress: new Progress(safe),
      encrypted: encryption !== undefined,
      store: async () => {
        if (!storeUrl) throw new UsageError('no store: pass --url <store-url> or set AGENT_SESSIONS_URL');
        store ??= await (io.openStore ?? openStore)(storeUrl, {
          ...(timeoutMs === undefined ? {} : { timeoutMs }),
          ...(encryption === undefined ? {} : { encryption }),
        });
        return store;
      },
      out: (text) => writeAll(safe.stdout, text),
      note: (text) => void safe.stderr.write(text),
    };
    await command.run(ctx);
    return EXIT_CODES.ok;
  } catch (err) {
    const code = exitCodeFor(err);
    const message = err instanceof Error ? err.message : String(err);
    if (err instanceof UsageError) {
      safe.stderr.write(`[agent-sessions] ${message}\n`);
      safe.stderr.write(command ? `usage: agent-sessions ${command.name} ${command.usage}\n` : "run 'agent-sessions --help' for the commands\n");
    } else if (isAgentSessionsError(err)) {
      safe.stderr.write(`${message}\n`);
      const hint = err.code === 'not_implemented' && message.includes('URLs need') ? installHint(url) : undefined;
      if (hint) safe.stderr.write(`${hint}\n`);
    } else {
      safe.stderr.write(`[agent-sessions] internal error: ${message}\n`);
    }
    return code;
  } finally {
    if (store && io.closeStore !== false) await store.close().catch(() => {});
  }
}
