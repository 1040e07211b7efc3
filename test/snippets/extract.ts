import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, relative } from 'node:path';

/** One TypeScript code block of a README. */
export interface Snippet {
  /** The README, relative to the repository root. */
  file: string;
  /** The line of the opening fence. */
  line: number;
  /** Words after the language in the fence: `run` executes it, `continue` appends it to the previous block. */
  flags: string[];
  code: string;
}

/** The READMEs whose snippets are code: the root's, every package's and every example's. */
export function readmes(root: string): string[] {
  const out = [join(root, 'README.md')];
  for (const dir of ['packages', 'examples']) {
    for (const name of readdirSync(join(root, dir))) {
      const p = join(root, dir, name, 'README.md');
      if (existsSync(p)) out.push(p);
    }
  }
  return out;
}

/** The ```ts / ```typescript blocks of a Markdown file, `continue` blocks joined to the one before. */
export function snippets(root: string, path: string): Snippet[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: Snippet[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^```(ts|typescript)\b(.*)$/.exec(lines[i] as string);
    if (!m) continue;
    const flags = (m[2] ?? '').trim().split(/\s+/).filter(Boolean);
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++) body.push(lines[i] as string);
    const prev = out[out.length - 1];
    if (flags.includes('continue') && prev) {
      prev.code += `\n${body.join('\n')}`;
      if (flags.includes('run') && !prev.flags.includes('run')) prev.flags.push('run');
      continue;
    }
    out.push({ file: relative(root, path), line: start + 1, flags, code: body.join('\n') });
  }
  return out;
}
