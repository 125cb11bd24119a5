// `npm run build:console` and the `prepare` script (npm ci runs it): build the console
// bundle with Vite. Without Vite (npm ci --omit=dev) it says how to build and exits 0, so
// a production install of the API alone does not fail; `fiscus serve` then explains too.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('console: vite is not installed (dev dependencies omitted); the console is not built. Run `npm install && npm run build:console`.');
  process.exit(0);
}
const t = Date.now();
await vite.build({ configFile: `${here}vite.config.ts`, logLevel: 'warn' });
if (!existsSync(`${here}dist/index.html`)) {
  console.error('console: the build wrote no dist/index.html');
  process.exit(1);
}
console.log(`console: built console/dist in ${((Date.now() - t) / 1000).toFixed(1)} s`);
