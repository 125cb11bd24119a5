/**
 * `fiscus log …`: the event log's key and checkpoints (engine/log-key.ts,
 * engine/checkpoints.ts). `fiscus track verify-log` checks the log.
 *
 *   fiscus log rotate-key     add a key version, make it current, checkpoint signed by old and new
 *   fiscus log public-key     the Ed25519 public keys (what a portal verifies checkpoints with)
 *   fiscus log checkpoint     print the newest checkpoint; --write signs the current head now
 *   fiscus log where          where the key and the checkpoint log are
 */
import { latestCheckpoint, rotateLogKey, writeHeadCheckpoint } from '../../engine/checkpoints.ts';
import { FiscusError } from '../../engine/errors.ts';
import { resolve } from 'node:path';
import { loadKeyring, logPaths, logPathsFor, publicKeys } from '../../engine/log-key.ts';
import { verifyLog } from '../../tracker/verify.ts';
import type { RegisterCommand } from './index.ts';
import { isPostgresUrl, redactUrl } from '../../engine/pg-store.ts';

export const register: RegisterCommand = (program, ctx) => {
  const log = program.command('log').description('the event log key and signed checkpoints (rotate, publish, locate)');

  log
    .command('rotate-key')
    .description('add a new log key version and make it current; old versions stay for verification; writes a checkpoint signed by the old and the new key')
    .option('--force', 'rotate even if verify-log fails (the rotation checkpoint then vouches for a log that does not verify)')
    .action(async (o) => {
      const store = await ctx.open();
      const check = await verifyLog(store);
      if (!check.ok && !o.force) {
        throw new FiscusError(`the event log does not verify, so it is not re-signed: ${check.problems[0]} (fix it, or rotate with --force)`, { code: 'LOG_BROKEN' });
      }
      const r = await rotateLogKey(store);
      const { keyFile, checkpointsFile } = logPaths(store);
      ctx.io.out(`${JSON.stringify({ from: r.from.id, to: r.to.id, key_file: keyFile, checkpoints: checkpointsFile, checkpoint: r.checkpoint }, null, 2)}\n`);
      ctx.log(`fiscus: log key rotated ${r.from.id} → ${r.to.id} in ${keyFile ?? '(memory)'}; back up the key file now (fiscus backup DIR)`);
    });

  log
    .command('public-key')
    .description('the Ed25519 public keys of every key version (JSON), for a portal that verifies checkpoints')
    .action(async () => {
      const store = await ctx.open();
      ctx.io.out(`${JSON.stringify(publicKeys(loadKeyring(store)), null, 2)}\n`);
    });

  log
    .command('checkpoint')
    .description('print the newest signed checkpoint of the log head (JSON)')
    .option('--write', 'sign the current head now (after a crash between a commit and its checkpoint, or to key a log from before keying); verifies the log first')
    .action(async (o) => {
      const store = await ctx.open();
      if (o.write) {
        const check = await verifyLog(store, { allowNeverKeyed: true });
        if (!check.ok) throw new FiscusError(`the event log does not verify, so its head is not signed: ${check.problems[0]}`, { code: 'LOG_BROKEN' });
        ctx.io.out(`${JSON.stringify(await writeHeadCheckpoint(store))}\n`);
        return;
      }
      const cp = latestCheckpoint(store);
      if (!cp) throw new FiscusError(`no checkpoint yet in ${logPaths(store).checkpointsFile ?? '(memory)'}`, { code: 'NOT_FOUND' });
      ctx.io.out(`${JSON.stringify(cp)}\n`);
    });

  log
    .command('where')
    .description('where the log key and the checkpoint log are (JSON)')
    .action(() => {
      // Paths only: works while another process (fiscus serve) owns the database.
      const p = logPathsFor(ctx.dbPath, ctx.logConfig);
      ctx.io.out(`${JSON.stringify({ database: isPostgresUrl(ctx.dbPath) ? redactUrl(ctx.dbPath) : resolve(ctx.dbPath), key_file: p.keyFile, checkpoints: p.checkpointsFile }, null, 2)}\n`);
    });
};
