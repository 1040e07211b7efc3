#!/usr/bin/env node
// The `agent-sessions` bin: `npx agent-sessions <command> --url <store-url>`.
import { run } from './main.js';

process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  // `agent-sessions list | head` closes the pipe early: that is not a failure.
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

run(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  columns: process.stdout.isTTY ? process.stdout.columns : undefined,
}).then((code) => {
  // Exit once what was written has been flushed; a store driver's idle timer must not keep the
  // process alive after the command is done.
  process.stdout.write('', () => process.exit(code));
});
