// The SDK's generated types (clients/sdk/src/generated) are part of the client kit: they must match
// schema.graphql and the SDK's operations. Run `npm run schema:print` (or `npm run codegen`) after a change.
import fs from 'node:fs/promises';
import path from 'node:path';
import { generate } from '@graphql-codegen/cli';
import { describe, expect, it } from 'vitest';
import config from '../../clients/codegen';

const root = path.resolve(import.meta.dirname, '../..');

describe('clients/codegen.ts', () => {
  it('maps the custom scalars to real types, not unknown', async () => {
    const generated = await fs.readFile(path.join(root, 'clients/sdk/src/generated/graphql.ts'), 'utf8');
    expect(generated).toMatch(/createdAt: string[,;]/); // DateTime
    expect(generated).toMatch(/results: Record<string, unknown>[,;]/); // JSON
    expect(config.generates).toBeDefined();
    const { scalars } = await import('../../clients/codegen');
    expect(scalars).toEqual({
      DateTime: { input: 'string | Date', output: 'string' },
      JSON: { input: 'Record<string, unknown>', output: 'Record<string, unknown>' },
      Upload: { input: 'File | Blob', output: 'never' },
    });
  });

  it('generated files are current (run `npm run codegen` after changing the schema or the SDK operations)', async () => {
    const outputs = await generate({ ...config, cwd: root, silent: true }, false);
    expect(outputs.length).toBeGreaterThan(0);
    for (const output of outputs) {
      const committed = await fs.readFile(path.resolve(root, output.filename), 'utf8');
      expect(committed, output.filename).toBe(output.content);
    }
  });
});
