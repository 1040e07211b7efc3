import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { exportSession, forkSession, importSession } from '@agent-sessions/core';
import { int, ONE_SESSION, SESSION_OPTIONS, sessionRef, str } from '../args.js';
import { writeAll, type Command } from '../context.js';
import { UsageError } from '../exit-codes.js';

const MB = 1024 * 1024;
const runs = (n: number) => `${n} run${n === 1 ? '' : 's'}`;
const size = (bytes: number) => (bytes >= MB ? `${(bytes / MB).toFixed(1)} MB` : `${Math.ceil(bytes / 1024)} KB`);

export const exportCommand: Command = {
  name: 'export',
  usage: '<sessionId> --agent <agentId> [--user <userId>] [--out <file>] [--through-seq N]',
  summary: 'the session as JSON Lines (a header line, then one run a line) to stdout or a file',
  help: [
    '--out <file>      write here instead of stdout; the file appears only once the export is whole',
    '--through-seq N   only runs 1..N',
  ],
  options: {
    ...SESSION_OPTIONS,
    out: { type: 'string', short: 'o' },
    'through-seq': { type: 'string' },
  },
  positionals: ONE_SESSION.positionals,
  async run(ctx) {
    const ref = sessionRef(ctx);
    const throughSeq = int(ctx.values, 'through-seq', 0);
    const file = str(ctx.values, 'out');
    const store = await ctx.store();
    // A file is written under a temporary name and renamed at the end, so a failed export
    // never leaves a truncated document that looks whole.
    const partial = file ? `${file}.partial` : undefined;
    const sink = partial ? createWriteStream(partial, { encoding: 'utf8' }) : undefined;
    const opened = sink ? new Promise<void>((resolve, reject) => sink.once('open', () => resolve()).once('error', reject)) : undefined;
    let total = 0;
    let runs = 0;
    try {
      await opened;
      for await (const line of exportSession(store, ref, { throughSeq })) {
        if (total === 0 && runs === 0) total = (JSON.parse(line) as { session: { lastSeq: number } }).session.lastSeq;
        else runs += 1;
        if (sink) await writeAll(sink, line);
        else await ctx.out(line);
        ctx.progress.update(`exported ${runs} of ${total} runs`);
      }
      if (sink && partial && file) {
        await new Promise<void>((resolve, reject) => sink.end((err?: Error | null) => (err ? reject(err) : resolve())));
        await rename(partial, file);
      }
    } catch (err) {
      if (sink && partial) {
        sink.destroy();
        await rm(partial, { force: true });
      }
      throw err;
    } finally {
      ctx.progress.done();
    }
    if (file) ctx.note(`exported session '${ref.sessionId}' (${runs === 1 ? '1 run' : `${runs} runs`}) to ${file}\n`);
  },
};

/** A file's (or stdin's) text in chunks, with read progress. */
async function* chunks(source: AsyncIterable<string | Uint8Array>, onRead: (bytes: number) => void): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let bytes = 0;
  for await (const chunk of source) {
    if (typeof chunk === 'string') {
      bytes += Buffer.byteLength(chunk);
      onRead(bytes);
      yield chunk;
    } else {
      bytes += chunk.byteLength;
      onRead(bytes);
      yield decoder.decode(chunk, { stream: true });
    }
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

export const importCommand: Command = {
  name: 'import',
  usage: '[<file> | -] [--agent <agentId>] [--session <sessionId>] [--user <userId>]',
  summary: "writes an exported session into the store (the document's agent and id unless given)",
  help: [
    'Reads the file, or standard input with - or no file. The whole document is checked first:',
    'a newer format version, a broken line or a seq gap fails naming the line, and nothing is written.',
    'An existing session with the same id fails with conflict (exit 4).',
  ],
  options: {
    agent: { type: 'string', short: 'a' },
    session: { type: 'string', short: 's' },
    user: { type: 'string', short: 'u' },
  },
  positionals: { min: 0, max: 1, names: '<file>' },
  async run(ctx) {
    const file = ctx.positionals[0] === '-' ? undefined : ctx.positionals[0];
    let source: AsyncIterable<string | Uint8Array>;
    let total: number | undefined;
    if (file) {
      try {
        const info = await stat(file);
        if (!info.isFile()) throw new Error('not a file');
        total = info.size;
      } catch (err) {
        throw new UsageError(`cannot read '${file}': ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
      }
      source = createReadStream(file);
    } else {
      if (ctx.io.stdin.isTTY) throw new UsageError('give a file to import, or pipe a document into standard input');
      source = ctx.io.stdin;
    }
    const store = await ctx.store();
    const read = (bytes: number) => ctx.progress.update(total ? `read ${size(bytes)} of ${size(total)} (${Math.floor((100 * bytes) / total)}%)` : `read ${size(bytes)}`);
    let header;
    try {
      header = await importSession(store, chunks(source, read), {
        agentId: str(ctx.values, 'agent'),
        sessionId: str(ctx.values, 'session'),
        userId: str(ctx.values, 'user'),
      });
    } finally {
      ctx.progress.done();
    }
    await ctx.out(`imported session '${header.sessionId}' of agent '${header.agentId}' (${runs(header.runCount)})\n`);
  },
};

export const fork: Command = {
  name: 'fork',
  usage: '<sessionId> --agent <agentId> [--user <userId>] [--through-seq N] [--new-id <sessionId>]',
  summary: 'copies a session (up to a run) under a new id; the source is untouched',
  help: ['Prints the new session id on stdout.'],
  options: {
    ...SESSION_OPTIONS,
    'through-seq': { type: 'string' },
    'new-id': { type: 'string' },
  },
  positionals: ONE_SESSION.positionals,
  async run(ctx) {
    const ref = sessionRef(ctx);
    const store = await ctx.store();
    const header = await forkSession(store, ref, {
      throughSeq: int(ctx.values, 'through-seq', 0),
      newSessionId: str(ctx.values, 'new-id'),
    });
    ctx.note(`forked session '${ref.sessionId}' into '${header.sessionId}' (${runs(header.runCount)})\n`);
    await ctx.out(`${header.sessionId}\n`);
  },
};
