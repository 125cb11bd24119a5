/**
 * `fiscus backup DIR`: everything a deployment needs to come back — the
 * database, the event log key, the checkpoint log — and a manifest of their
 * SHA-256 (engine/backup.ts). While `fiscus serve` owns the database, add
 * `--api URL --token T` (admin): the server writes the backup into DIR under
 * its `--backup-dir` root.
 */
import { backupTo, type BackupManifest } from '../../engine/backup.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('backup')
    .description('back up the database, the log key and the checkpoints into a new directory, with a SHA-256 manifest')
    .argument('<dir>', 'new or empty directory (with --api: a directory under the server\'s --backup-dir)')
    .option('--api <url>', 'ask a running fiscus serve to write the backup (env FISCUS_API)')
    .option('--token <token>', 'admin token for --api (env FISCUS_TOKEN)')
    .action(async (dir, o) => {
      const api = apiTarget(o);
      let manifest: BackupManifest;
      let where: string;
      if (api) {
        const r = await apiCall<{ dir: string; manifest: BackupManifest }>(api, 'POST', '/v1/admin/backup', { dir });
        manifest = r.manifest;
        where = `${r.dir} (on the server)`;
      } else {
        const store = await ctx.open();
        manifest = await backupTo(store, dir);
        where = dir;
      }
      ctx.io.out(`${JSON.stringify(manifest, null, 2)}\n`);
      ctx.log(
        `fiscus backup: ${manifest.files.map((f) => `${f.name} (${f.role}, ${f.bytes} bytes)`).join(', ')} → ${where}; ` +
          `log head #${manifest.log.head_seq}. The directory holds the log key: keep it as secret as the key.`,
      );
    });
};
