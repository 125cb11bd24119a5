/**
 * Give back native memory that only a garbage collection frees.
 *
 * DuckDB result chunks (and the strings in them) live in native memory owned by
 * their JS wrappers, freed by finalizers when V8 collects the wrappers. V8 does not
 * see that memory, so after a query whose chunks were large but produced little JS
 * (a 300 MB value refused by the byte cap) nothing prompts a collection: measured
 * here, five `SELECT repeat('x', 300000000)` grew RSS from 0.4 to 1.9 GB, and stayed
 * at 0.4 GB with a collection after each. `requestCollection()` runs one, at most
 * every 500 ms (a full collection of a small heap takes a few milliseconds).
 */
import v8 from 'node:v8';
import vm from 'node:vm';

type Gc = () => void;

function findGc(): Gc | undefined {
  const existing = (globalThis as { gc?: Gc }).gc;
  if (typeof existing === 'function') return existing;
  try {
    // Exposes `gc` to contexts created from now on; the main context is unchanged.
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as unknown;
    return typeof gc === 'function' ? (gc as Gc) : undefined;
  } catch {
    return undefined;
  }
}

const gc = findGc();
const MIN_INTERVAL_MS = 500;
let last = 0;
let pending: NodeJS.Timeout | undefined;

function collect(): void {
  pending = undefined;
  last = Date.now();
  gc?.();
}

/** Ask for a collection soon (coalesced; a no-op where `gc` cannot be reached). */
export function requestCollection(): void {
  if (!gc || pending) return;
  const wait = Math.max(0, last + MIN_INTERVAL_MS - Date.now());
  pending = setTimeout(collect, wait);
  pending.unref();
}
