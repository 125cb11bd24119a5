/**
 * `fiscus restore DIR`: bring back a `fiscus backup` — the database to `--db`,
 * the log key and checkpoints to `--log-key` / `--checkpoints` (or their
 * defaults beside the database). Refuses a backup whose files do not match
 * its manifest, a database another process holds, and existing files unless
 * `--force`. Then runs verify-log on the restored copy.
 */
import { restoreFrom } from '../../engine/backup.ts';
import { FiscusError } from '../../engine/errors.ts';
import { logPathsFor } from '../../engine/log-key.ts';
import { verifyLog } from '../../tracker/verify.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('restore')
    .description('restore a backup (database, log key, checkpoints) after checking its manifest; then verify the log')
    .argument('<dir>', 'a directory written by fiscus backup')
    .option('--force', 'overwrite an existing database, key and checkpoint log (never one another process holds)')
    .option('--no-verify', 'skip verify-log on the restored copy')
    .action(async (dir, o) => {
      const paths = logPathsFor(ctx.dbPath, ctx.logConfig);
      const r = await restoreFrom(dir, { db: ctx.dbPath, paths }, { force: o.force });
      ctx.log(`fiscus restore: ${r.written.join(', ')} (backup of ${r.manifest.created_at}, log head #${r.manifest.log.head_seq})`);
      if (!o.verify) return;
      const store = await ctx.open();
      const c = await verifyLog(store);
      if (!c.ok) {
        ctx.io.out(`${c.problems.join('\n')}\n`);
        throw new FiscusError(`restored, but the event log does not verify: ${c.problems[0]}`, { code: 'LOG_BROKEN' });
      }
      ctx.io.out(`restored and verified: ${c.events} event(s), newest checkpoint #${c.checkpoints.newest?.seq ?? '-'}\n`);
    });
};
