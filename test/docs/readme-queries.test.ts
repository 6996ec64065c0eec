// Every GraphQL operation the README shows (```graphql blocks, and the "query" of each curl example) is
// valid against the printed schema: a reader who copies one gets an answer, not a validation error.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const readme = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const schema = buildSchema(readFileSync(path.join(ROOT, 'schema.graphql'), 'utf8'));

const blocks = [...readme.matchAll(/```graphql\n([\s\S]*?)```/g)].map((m) => m[1]!);
const inCurl = [...readme.matchAll(/"query":\s*("(?:[^"\\]|\\.)*")/g)].map((m) => JSON.parse(m[1]!) as string);

describe('the README’s GraphQL', () => {
  it('has examples to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(4);
    expect(inCurl.length).toBeGreaterThanOrEqual(5);
  });

  it.each([...blocks, ...inCurl].map((text) => [text.replace(/\s+/g, ' ').slice(0, 70), text]))('is valid: %s…', (_name, text) => {
    const errors = validate(schema, parse(text)).map((e) => e.message);
    expect(errors).toEqual([]);
  });
});
