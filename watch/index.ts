/**
 * Watching a folder (`fiscus watch DIR`, `fiscus serve --watch DIR`): files that
 * arrive are ingested, moved to `.fiscus-done/` or `.fiscus-failed/`, the rules re-run
 * once per burst, and the new alerts reach the live feed. No CLI or HTTP in here: the
 * commands are thin callers.
 */
export { startWatcher, STAGING_DIR, type Watcher, type WatchEvent, type WatchOptions } from './watcher.ts';
export { DONE_DIR, FAILED_DIR } from './archive.ts';
export { describeEvent, printable, type Lang } from './messages.ts';
export { isTransientName } from './scan.ts';
