// The command line as a function, for scripts and tests: `run(argv, io)` returns the exit status.
export { run, COMMANDS } from './main.js';
export { EXIT_CODES, exitCodeFor, UsageError } from './exit-codes.js';
export type { CliIO } from './io.js';
export type { Command } from './context.js';
