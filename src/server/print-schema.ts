// npm run schema:print — rewrites schema.graphql and webhooks.schema.json from the code.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { printedWebhookSchema } from '../webhooks/schemas';
import { printedSchema } from './schema';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
for (const [file, text] of [
  ['schema.graphql', printedSchema()],
  ['webhooks.schema.json', printedWebhookSchema()],
]) {
  writeFileSync(path.join(root, file), text);
  console.log(`wrote ${path.join(root, file)}`);
}
