/**
 * Watching a folder (`fiscus watch DIR`, `fiscus serve --watch DIR`): files that
 * arrive are ingested, the rules re-run, the new alerts reach the live feed.
 * No CLI or HTTP in here: the commands are thin callers.
 */
export { startWatcher, STATE_DIR, type Watcher, type WatchEvent, type WatchOptions } from './watcher.ts';
export { describeEvent, printable, type Lang } from './messages.ts';
export { isTransientName } from './scan.ts';
