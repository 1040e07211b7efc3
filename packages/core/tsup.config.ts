import { defineConfig } from 'tsup';
import { packageConfig } from '../../tsup.base';

// Three entries (app, store authors, adapter authors) share one copy of each class through
// split chunks, so `SessionStore` and the errors are the same objects whichever entry they come from.
export default defineConfig(packageConfig(__dirname, { splitting: true }));
