import { randomUUID } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { vi } from 'vitest';

/** The TypeScript snippets of the README in `packageDir`, in order. */
export function readmeSnippets(packageDir: string): string[] {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  return [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/**
 * Runs a snippet as a module of its own, written beside the test in `dir` (so its imports resolve
 * as the published package names do), and removed afterwards.
 */
export async function runSnippet(dir: string, code: string): Promise<void> {
  const file = join(dir, `.snippet-${randomUUID()}.ts`);
  writeFileSync(file, code);
  try {
    await import(/* @vite-ignore */ file);
  } finally {
    rmSync(file, { force: true });
  }
}

/** What the code logs with `console.log` from now on (restored by `vi.restoreAllMocks()`). */
export function captureLog(): unknown[] {
  const logged: unknown[] = [];
  vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => void logged.push(...args));
  return logged;
}
