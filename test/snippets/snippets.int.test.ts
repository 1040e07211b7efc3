import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readmes, snippets, type Snippet } from './extract.js';

// README snippets are code: every TypeScript block of every README is type-checked against the
// BUILT packages (their published entry points and .d.ts files, as a user's project sees them),
// and the blocks marked `run` are executed. `npm test` builds the packages first.
const root = fileURLToPath(new URL('../..', import.meta.url));
const out = join(root, 'test', 'snippets', '.generated');
const all: Snippet[] = readmes(root).flatMap((p) => snippets(root, p));
const name = (s: Snippet): string => `${s.file.replace(/[/.]/g, '_')}_L${s.line}.ts`;

describe('README snippets', () => {
  it('there are snippets to check', () => {
    expect(all.length).toBeGreaterThan(20);
  });

  it('every TypeScript snippet compiles against the built packages', () => {
    rmSync(out, { recursive: true, force: true });
    mkdirSync(out, { recursive: true });
    for (const s of all) writeFileSync(join(out, name(s)), `// ${s.file}:${s.line}\n${s.code}\nexport {};\n`);
    writeFileSync(
      join(out, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          target: 'ES2022',
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          lib: ['ES2022', 'DOM'],
          types: ['node'],
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          esModuleInterop: true,
        },
        include: ['*.ts'],
      }),
    );
    const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(out, 'tsconfig.json')], {
      encoding: 'utf8',
    });
    // Each error names the generated file, whose first line names the README and line.
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
  }, 120_000);

  for (const s of all.filter((x) => x.flags.includes('run'))) {
    it(`${s.file}:${s.line} runs`, () => {
      const file = join(out, name(s));
      const run = spawnSync(process.execPath, ['--import', 'tsx', file], {
        cwd: join(root, 'test'),
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, SESSIONS_URL: '', DEMO_DATA_DIR: join(out, 'data') },
      });
      expect(run.stderr).not.toMatch(/Error/);
      expect(run.status).toBe(0);
    }, 90_000);
  }
});
