// Issue 15 item 9: forgetting the adapter import. Compiles a small program that imports only
// `@agent-sessions/core` (so no adapter's declaration merging is in it, as in an app that forgot
// the import) with the TypeScript compiler, and reads the error the user would see.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..', '..');

const APP = `
import { MemoryStore, withSessionStorage } from '@agent-sessions/core';
import { fakeModel } from '@langchain/core/testing';
import { Agent } from '@openai/agents';

const store = new MemoryStore();
export const chat = withSessionStorage(fakeModel(), { store });
export const agent = withSessionStorage(new Agent({ name: 'a', instructions: 'x' }), { store });
`;

function diagnostics(source: string): string[] {
  // A file beside this test, so '@langchain/core' and '@openai/agents' resolve from this package.
  const file = join(here, '__forgot_import__.ts');
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    types: [],
    lib: ['lib.es2022.d.ts'],
    baseUrl: root,
    paths: {
      '@agent-sessions/core/store': ['packages/core/src/store.ts'],
      '@agent-sessions/core/adapter': ['packages/core/src/adapter.ts'],
      '@agent-sessions/*': ['packages/*/src/index.ts'],
    },
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, onError, create) =>
    name === file ? ts.createSourceFile(name, source, version) : getSourceFile(name, version, onError, create);
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => name === file || fileExists(name);
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program, program.getSourceFile(file))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

describe('forgetting the adapter import', () => {
  it('the type error names the import to add, for a LangChain model and an OpenAI Agents agent', () => {
    const errors = diagnostics(APP);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toContain("add import '@agent-sessions/langchain'");
    expect(errors[1]).toContain("add import '@agent-sessions/openai-agents'");
    for (const e of errors) expect(e).not.toContain("parameter of type 'never'");
  }, 120_000);

  it('with the import there is no error', () => {
    const errors = diagnostics(`import '@agent-sessions/langchain';\nimport '@agent-sessions/openai-agents';\n${APP}`);
    expect(errors).toEqual([]);
  }, 120_000);
});
