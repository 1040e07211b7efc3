import { STORES } from '../../../test/support/stores.js';
import { sdkSessionSuite } from './sdk-cases.js';

// The SDK's own session expectations on memory and on PostgreSQL (PGlite in memory).
for (const { name, open } of STORES) sdkSessionSuite(name, open);
