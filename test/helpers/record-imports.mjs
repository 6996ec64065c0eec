// Preloaded with `node --import` (through NODE_OPTIONS): appends the URL of every module the process
// resolves to the file named by VIDQ_RECORD_IMPORTS, so that a test can see what a process loaded.
import { appendFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const out = process.env.VIDQ_RECORD_IMPORTS;
if (out) {
  registerHooks({
    resolve(specifier, context, nextResolve) {
      const resolved = nextResolve(specifier, context);
      appendFileSync(out, `${resolved.url}\n`);
      return resolved;
    },
  });
}
