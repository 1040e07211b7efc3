import { afterAll, beforeAll, describe, it } from 'vitest';
import { MemoryStore } from '@agent-sessions/core';
import { runConformanceSuite } from '@agent-sessions/conformance';

// One MemoryStore shared by every instance the suite asks for: "another instance over the
// same backend" is the same process memory.
const shared = new MemoryStore();

runConformanceSuite({
  name: 'memory',
  createStore: () => shared,
  destroyStore: async () => {},
  test: { describe, it, beforeAll, afterAll },
});
