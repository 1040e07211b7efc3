import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from './exit-codes.js';

export type OptionSpec = NonNullable<ParseArgsConfig['options']>;
export type Values = Record<string, string | boolean | string[] | undefined>;

/** Options every command takes. */
export const GLOBAL_OPTIONS = {
  url: { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies OptionSpec;

/** Parses one command's arguments; any mistake is a UsageError (exit 2). */
export function parseCommand(args: string[], options: OptionSpec, positionals: { min: number; max: number; names: string }): { values: Values; positionals: string[] } {
  let parsed: { values: Values; positionals: string[] };
  try {
    parsed = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (parsed.values.help) return parsed;
  const n = parsed.positionals.length;
  if (n < positionals.min) throw new UsageError(`missing ${positionals.names}`);
  if (n > positionals.max) throw new UsageError(`unexpected argument '${parsed.positionals[positionals.max]}'`);
  return parsed;
}

export function str(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function required(values: Values, name: string): string {
  const v = str(values, name);
  if (v === undefined || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

/** A whole number option (`--limit 20`), checked here so the message names the option. */
export function int(values: Values, name: string, min: number): number | undefined {
  const v = str(values, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(Number(v)) || Number(v) < min) {
    throw new UsageError(`--${name} must be a whole number ≥ ${min}, got '${v}'`);
  }
  return Number(v);
}

/** `--agent` and `--user`: the options of every command that names sessions. */
export const SESSION_OPTIONS = {
  agent: { type: 'string', short: 'a' },
  user: { type: 'string', short: 'u' },
} as const satisfies OptionSpec;

/** The usage, options and positional of a command on one session. */
export const ONE_SESSION = {
  usage: '<sessionId> --agent <agentId> [--user <userId>]',
  options: SESSION_OPTIONS,
  positionals: { min: 1, max: 1, names: '<sessionId>' },
} as const;

/** The session a command on one session names: `<sessionId> --agent <agentId> [--user <userId>]`. */
export function sessionRef(ctx: { values: Values; positionals: string[] }): { agentId: string; sessionId: string; userId: string | undefined } {
  return { agentId: required(ctx.values, 'agent'), sessionId: ctx.positionals[0] ?? '', userId: str(ctx.values, 'user') };
}
