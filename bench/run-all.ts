// `npm run bench`: every benchmark, one after the other (they would disturb each other side by side),
// each in a process of its own. `npm run bench -- graphql jobs` runs only those. Each prints its own
// figures, ratios and whether they meet their targets; this sums up how each ended (graphql and webhooks
// also exit non-zero below their target).
import { spawn } from 'node:child_process';
import path from 'node:path';

const ALL = ['graphql', 'uploads', 'tus-s3', 'jobs', 'events', 'webhooks', 'hls', 'source-fetch'];
const chosen = process.argv.slice(2);
const unknown = chosen.filter((name) => !ALL.includes(name));
if (unknown.length > 0) {
  console.error(`Unknown benchmark ${unknown.join(', ')}. Choose from: ${ALL.join(', ')}.`);
  process.exit(2);
}

function run(name: string): Promise<number> {
  const script = path.join(import.meta.dirname, `${name}.ts`);
  const child = spawn(process.execPath, ['--import', 'tsx', script], { stdio: 'inherit' });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

const results: Array<[string, number]> = [];
for (const name of chosen.length > 0 ? chosen : ALL) {
  console.log(`\n=== bench/${name}.ts ===`);
  results.push([name, await run(name)]);
}
console.log('\n=== summary ===');
for (const [name, code] of results) console.log(`${name.padEnd(10)} ${code === 0 ? 'finished' : `exit ${code}: failed or below target`}`);
process.exit(results.some(([, code]) => code !== 0) ? 1 : 0);
