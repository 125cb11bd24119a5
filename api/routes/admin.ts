/**
 * Admin endpoints: run the rules, ingest a server-side file or a URL.
 *
 * Ingestion reads files through DuckDB, which the lockdown confines to the
 * server's ingest directory: a path must resolve inside it, and transcodes and
 * downloads are staged in its `.tmp` folder. One admin job runs at a time, in the Store's
 * exclusive section (the lock tracker actions, deadline scans and the CLI take too).
 */
import { existsSync, mkdirSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { backupTo } from '../../engine/backup.ts';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { todayInShanghai } from '../../engine/calendar.ts';
import { ingestSources, isUrl } from '../../ingest/index.ts';
import { compileRuleSet } from '../../rules/run/catalog.ts';
import { runRules } from '../../rules/run/runner.ts';
import type { ApiContext } from '../context.ts';
import { isoDateSchema } from '../../engine/dates.ts';
import { HttpProblem } from '../problem.ts';
import { CAN } from '../scope.ts';
import { problemResponses } from './schemas.ts';

const isoDate = isoDateSchema('YYYY-MM-DD');

export function adminRoutes(app: FastifyInstance, ctx: ApiContext, opts: { ingestDir?: string; rulesConfigPath?: string; backupDir?: string }): void {
  const r = app.withTypeProvider<ZodTypeProvider>();

  r.post('/v1/rules/run', {
    config: { roles: CAN.admin },
    schema: {
      tags: ['admin'],
      summary: 'Evaluate the rules as of a date and store the flags (the built-in pack and the deployment config)',
      security: [{ bearer: [] }],
      body: z
        .object({ as_of: isoDate.optional(), rules: z.array(z.string().max(200)).max(500).optional(), full: z.boolean().optional() })
        .strict()
        .default({}),
      response: { 200: z.unknown(), ...problemResponses },
    },
  }, async (req) => {
    const body = req.body ?? {};
    const asOf = body.as_of ?? todayInShanghai();
    // The Store's exclusive section: no tracker action, scan or ingest interleaves (runRules takes it too).
    const summary = await ctx.store.exclusive(async () => {
      const { rules: compiled, config } = await compileRuleSet({ configPath: opts.rulesConfigPath, ids: body.rules }, ctx.store.engine);
      return runRules(ctx.store, compiled, { asOf, config, full: body.full ?? false, actor: req.principal.name });
    });
    return summary;
  });

  r.post('/v1/ingest', {
    config: { roles: CAN.admin },
    schema: {
      tags: ['admin'],
      summary: 'Ingest a file or folder inside the server ingest directory, or a URL (one batch per file, with its report)',
      security: [{ bearer: [] }],
      body: z
        .object({
          source: z.string().min(1).max(4000).describe('path relative to the ingest directory, or an http(s) URL'),
          table: z.string().max(100).optional().describe('feed table, e.g. treasury.payments (default: from the file name)'),
        })
        .strict(),
      response: { 200: z.object({ reports: z.array(z.unknown()) }), ...problemResponses },
    },
  }, async (req) => {
    if (!opts.ingestDir) throw new HttpProblem(403, 'FORBIDDEN', 'ingestion through the API is not enabled (start the server with --ingest-dir DIR)');
    const root = realpathSync(opts.ingestDir);
    let source = req.body.source;
    if (!isUrl(source)) {
      const abs = resolve(root, source);
      let real: string;
      try {
        real = realpathSync(abs);
      } catch {
        throw new HttpProblem(404, 'NOT_FOUND', `no file ${source} in the ingest directory`);
      }
      const rel = relative(root, real);
      if (rel.startsWith('..') || isAbsolute(rel) || rel.split(/[\\/]/)[0] === '.tmp') {
        throw new HttpProblem(403, 'FORBIDDEN', 'the path must be inside the server ingest directory');
      }
      source = real;
    }
    const tmpDir = join(root, '.tmp');
    mkdirSync(tmpDir, { recursive: true });
    // Every file is a batch in the Store's exclusive section; the whole request holds it, so a folder lands
    // without tracker actions in between. Its commits move the Store's generation (cached pages drop).
    const reports = await ctx.store.exclusive(() => ingestSources(ctx.store, [source], { table: req.body.table, tmpDir }));
    return { reports };
  });

  r.post('/v1/admin/backup', {
    config: { roles: CAN.admin },
    schema: {
      tags: ['admin'],
      summary: 'Back up the database, the log key and the checkpoints (with a SHA-256 manifest) into a new directory under the server backup root',
      security: [{ bearer: [] }],
      body: z.object({ dir: z.string().min(1).max(500).describe('new directory, relative to the server --backup-dir') }).strict(),
      response: { 200: z.object({ dir: z.string(), manifest: z.unknown() }), ...problemResponses },
    },
  }, async (req) => {
    if (!opts.backupDir) throw new HttpProblem(403, 'FORBIDDEN', 'backups through the API are not enabled (start the server with --backup-dir DIR)');
    const root = realpathSync(opts.backupDir);
    const abs = resolve(root, req.body.dir);
    const rel = relative(root, abs);
    const outside = (r: string) => r === '' || r === '..' || r.startsWith(`..${sep}`) || isAbsolute(r);
    if (outside(rel)) throw new HttpProblem(403, 'FORBIDDEN', 'the backup directory must be a new directory inside the server backup root');
    // A symlink on the way must not lead out of the root either: check the nearest existing ancestor.
    let anc = dirname(abs);
    while (!existsSync(anc)) anc = dirname(anc);
    const realAnc = relative(root, realpathSync(anc));
    if (realAnc !== '' && outside(realAnc)) throw new HttpProblem(403, 'FORBIDDEN', 'the backup directory must be a new directory inside the server backup root');
    if (existsSync(abs)) throw new HttpProblem(409, 'CONFLICT', `${rel} already exists in the backup root: choose a new name`);
    const manifest = await backupTo(ctx.store, abs);
    req.log.info({ dir: rel, files: manifest.files.length, head_seq: manifest.log.head_seq }, 'backup written');
    return { dir: rel, manifest };
  });
}
