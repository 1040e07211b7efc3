import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

// The library entry (`run`, exit codes) in both module formats, and the `bin` as one ESM file.
// The first build cleans dist/ but keeps the bin, which the second build writes beside it.
export default defineConfig([
  packageConfig(__dirname, { clean: ['!cli.js'] }),
  { entry: { cli: 'src/cli.ts' }, format: ['esm'], dts: false, clean: false, target: 'node20', splitting: false, treeshake: true, sourcemap: false },
]);
