// Every published package passes publint --strict and attw --pack, and its tarball holds only
// dist/, README.md, LICENSE and package.json (plus one `<entry>/package.json` per subpath entry, so
// resolvers without `exports` support, such as TypeScript's node10, find `pkg/store` too).
import { mkdtempSync, readdirSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { log, root, run } from './lib.mjs';

const dirs = readdirSync(join(root, 'packages')).filter((d) => existsSync(join(root, 'packages', d, 'package.json')));
let failed = false;
for (const d of dirs) {
  const cwd = join(root, 'packages', d);
  const pkg = JSON.parse(readFileSync(join(cwd, 'package.json'), 'utf8'));
  if (pkg.private) continue;
  for (const f of ['README.md', 'LICENSE']) {
    if (!existsSync(join(cwd, f))) {
      log(`${pkg.name}: ${f} is missing`);
      failed = true;
    }
  }
  run('pnpm', ['exec', 'publint', '--strict'], { cwd, quiet: true });
  const out = mkdtempSync(join(tmpdir(), 'as-pack-'));
  run('pnpm', ['pack', '--pack-destination', out], { cwd, quiet: true });
  const tgz = readdirSync(out).find((f) => f.endsWith('.tgz'));
  run('pnpm', ['exec', 'attw', '--pack', '.', '--format', 'table-flipped'], { cwd, quiet: true });
  const list = spawnSync('tar', ['-tzf', join(out, tgz)], { encoding: 'utf8' }).stdout.trim().split('\n');
  const extra = list.filter((f) => !/^package\/(dist\/.+|[a-z-]+\/package\.json|README\.md|LICENSE|package\.json)$/.test(f));
  if (extra.length > 0) {
    log(`${pkg.name}: the tarball holds files users do not need: ${extra.join(', ')}`);
    failed = true;
  }
  log(`${pkg.name}: publint, attw and pack contents ok (${list.length} files)`);
}
if (failed) process.exit(1);
