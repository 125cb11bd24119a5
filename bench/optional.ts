/**
 * Other parts of fiscus that a scenario needs may not exist yet (they are
 * built concurrently). A scenario imports them through here: a missing module
 * or export becomes a reason to skip, never a fake number.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..');

export class Missing extends Error {}

/** `rel` from the repo root, e.g. 'ingest/index.ts'; throws Missing with the reason. */
export async function need<T>(rel: string, exportName: string): Promise<T> {
  const abs = join(REPO, rel);
  if (!existsSync(abs)) throw new Missing(`${rel} does not exist yet`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (err) {
    throw new Missing(`${rel} fails to load: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (!(exportName in mod)) throw new Missing(`${rel} has no export ${exportName}`);
  return mod[exportName] as T;
}

/** Whether a module with that export is available (for choosing a loader). */
export async function has(rel: string, exportName: string): Promise<boolean> {
  try {
    await need(rel, exportName);
    return true;
  } catch {
    return false;
  }
}
