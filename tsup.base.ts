import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Options } from 'tsup';

/**
 * The one build config every package shares. Entry points are read from the package's
 * `exports` map: `"./foo"` builds `src/foo.ts`, `"."` builds `src/index.ts`.
 */
export function packageConfig(dir: string, overrides: Options = {}): Options {
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
    exports: Record<string, unknown>;
  };
  const entry: Record<string, string> = {};
  for (const key of Object.keys(pkg.exports)) {
    if (key === './package.json') continue;
    const name = key === '.' ? 'index' : key.replace(/^\.\//, '');
    entry[name] = `src/${name}.ts`;
  }
  return {
    entry,
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: false,
    clean: true,
    target: 'node20',
    splitting: false,
    treeshake: true,
    ...overrides,
  };
}
