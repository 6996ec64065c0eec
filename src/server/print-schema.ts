// npm run schema:print — rewrites schema.graphql, webhooks.schema.json and clients/possibleTypes.json
// from the code.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printedWebhookSchema } from '../webhooks/schemas';
import { possibleTypesOf } from './possible-types';
import { buildSchema, printedSchema } from './schema';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
for (const [file, text] of [
  ['schema.graphql', printedSchema()],
  ['webhooks.schema.json', printedWebhookSchema()],
  ['clients/possibleTypes.json', `${JSON.stringify(possibleTypesOf(buildSchema()), null, 2)}\n`],
]) {
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${path.join(root, file)}`);
}
