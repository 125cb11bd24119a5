/**
 * `fiscus serve`: the HTTP API (api/server.ts) over this database.
 *
 * The server owns the database file for as long as it runs; other `fiscus` commands
 * reach it with `--api http://HOST:PORT --token TOKEN` (or env FISCUS_API / FISCUS_TOKEN).
 * SIGINT/SIGTERM close gracefully: no new requests, in-flight ones finish, SSE streams
 * end, DuckDB closes; after 10 s the process exits regardless. With `--watch DIR` the
 * folder watcher of `fiscus watch` runs inside the server (stopped before DuckDB closes).
 */
import closeWithGrace from 'close-with-grace';
import { UsageError } from '../../engine/errors.ts';
import { buildServer } from '../../api/server.ts';
import { loadTokensFile } from '../../api/tokens.ts';
import { consoleBuilt } from '../../api/console-static.ts';
import { checkWebhookTarget, TargetAllowList, WebhookTargetError } from '../../api/webhook-target.ts';
import { loadWebhooksFile } from '../../api/webhooks.ts';
import { allowEntries, collect } from './webhooks.ts';
import { checkIsoDate } from '../../engine/dates.ts';
import { parseDays, parseLang, parseMs } from './watch.ts';
import type { RegisterCommand } from './index.ts';

function int(name: string, v: string, min: number): number {
  if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${name} must be a whole number ≥ ${min} (got "${v}")`);
  return Number(v);
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('serve')
    .description('HTTP API for analysts, agencies and the portal alert feed (docs at /docs, OpenAPI at /openapi.json)')
    .requiredOption('--tokens <file>', 'JSON array of {token | token_sha256, role, agency_code?, name?}')
    .option('--port <n>', 'TCP port (0 = any free port)', '8080')
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--webhooks <file>', 'JSON array of webhook endpoints {id, url, secret, agency_code?, event_types?, from?}')
    .option(
      '--webhook-allow <list>',
      'CIDRs or host names webhooks may reach beyond public addresses, comma-separated, repeatable (e.g. 10.1.2.0/24,127.0.0.1/32)',
      collect,
    )
    .option('--ingest-dir <dir>', 'the only directory DuckDB may read files from while serving')
    .option('--documents-dir <dir>', 'where uploaded documents are archived by SHA-256 (default: documents/ beside the database file)')
    .option('--document-max-bytes <n>', 'largest document upload (413 beyond it)', String(20 * 1024 * 1024))
    .option('--backup-dir <dir>', 'root for POST /v1/admin/backup (fiscus backup DIR --api …); outside --ingest-dir')
    .option('--query-timeout <ms>', 'time limit of POST /v1/query', '10000')
    .option('--query-max-rows <n>', 'row limit of POST /v1/query', '100000')
    .option('--query-max-bytes <n>', 'byte limit of a POST /v1/query result (422 QUERY_TOO_LARGE beyond it)', String(64 * 1024 * 1024))
    .option('--query-max-concurrent <n>', 'analyst queries at once (429 QUERY_BUSY beyond it; default: CPU cores − 1, 1…4; kept below UV_THREADPOOL_SIZE minus the read pool)')
    .option('--rate-limit <n>', 'requests per token per minute (0 = unlimited)', '600')
    .option('--config <file>', 'deployment config for POST /v1/rules/run (env FISCUS_CONFIG, default ./fiscus.config.yaml)')
    .option('--scan-interval <minutes>', 'append overdue / due-soon events every N minutes (0 = off)', '60')
    .option('--watch <dir>', 'watch a drop folder as `fiscus watch DIR` does: arriving files are ingested, the rules re-run, new alerts reach SSE and webhooks')
    .option('--watch-settle <ms>', "with --watch: how long a file's size and mtime must stay unchanged before it is read", '500')
    .option('--watch-prune-done <days>', 'with --watch: delete files from .fiscus-done/ this many days after they were moved there (default: keep them)')
    .option('--watch-as-of <date>', 'with --watch: rule runs as of this date (default: today in Asia/Shanghai, at each run)')
    .option('--lang <lang>', 'language of the --watch event lines in the log: zh | en', 'zh')
    .option('--log-level <level>', 'fatal | error | warn | info | debug', 'info')
    .action(async (o) => {
      const tokens = loadTokensFile(o.tokens);
      const webhooks = o.webhooks ? loadWebhooksFile(o.webhooks) : undefined;
      const webhookAllowTargets = allowEntries(o.webhookAllow);
      // Resolve every target now so a bad one stops the start; each delivery checks again when it connects.
      const allow = new TargetAllowList(webhookAllowTargets);
      for (const ep of webhooks ?? []) {
        try {
          await checkWebhookTarget(ep.url, allow);
        } catch (err) {
          if (err instanceof WebhookTargetError) throw err;
          ctx.log(`fiscus serve: webhook ${ep.id}: ${new URL(ep.url).host} does not resolve now (${err instanceof Error ? err.message : String(err)}); deliveries will retry`);
        }
      }
      const port = int('--port', o.port, 0);
      const rate = int('--rate-limit', o.rateLimit, 0);
      const lang = parseLang(o.lang);
      const watch = o.watch
        ? {
            dir: o.watch,
            settleMs: parseMs('--watch-settle', o.watchSettle, 0),
            rules: { asOf: o.watchAsOf === undefined ? undefined : checkIsoDate(o.watchAsOf, '--watch-as-of') },
            pruneDoneAfterDays: o.watchPruneDone === undefined ? undefined : parseDays('--watch-prune-done', o.watchPruneDone),
            lang,
          }
        : undefined;
      const store = await ctx.open();
      const app = await buildServer({
        watch,
        store,
        tokens,
        webhooks,
        webhookAllowTargets,
        ingestDir: o.ingestDir,
        backupDir: o.backupDir,
        documentsDir: o.documentsDir,
        documentMaxBytes: int('--document-max-bytes', o.documentMaxBytes, 1),
        queryTimeoutMs: int('--query-timeout', o.queryTimeout, 100),
        queryMaxRows: int('--query-max-rows', o.queryMaxRows, 1),
        queryMaxBytes: int('--query-max-bytes', o.queryMaxBytes, 1024),
        queryMaxConcurrent: o.queryMaxConcurrent === undefined ? undefined : int('--query-max-concurrent', o.queryMaxConcurrent, 1),
        rateLimitPerMinute: rate === 0 ? false : rate,
        rulesConfigPath: o.config,
        deadlineScanMs: int('--scan-interval', o.scanInterval, 0) * 60_000,
        closeStore: true,
        // Logs are JSON lines on stderr (stdout is for data); tokens are never logged.
        logger: { level: o.logLevel, stream: process.stderr, redact: ['req.headers.authorization', 'req.headers.cookie'] },
      });
      const closed = new Promise<void>((resolve) => app.addHook('onClose', async () => resolve()));
      const grace = closeWithGrace({ delay: 10_000, logger: false }, async ({ signal, err }) => {
        if (err) app.log.error({ err }, 'closing after an error');
        else app.log.info({ signal }, 'closing');
        await app.close();
      });
      let address: string;
      try {
        address = await app.listen({ port, host: o.host });
      } catch (err) {
        // A start that fails (port in use, a --watch folder that is not one) must keep its exit code:
        // close-with-grace would otherwise close on beforeExit and exit 0.
        grace.uninstall();
        await app.close().catch(() => undefined);
        throw err;
      }
      ctx.log(`fiscus serve: listening on ${address} (PID ${process.pid}, database ${store.path}, ${tokens.size} token(s)); docs at ${address}/docs`);
      ctx.log(consoleBuilt() ? `fiscus serve: committee console at ${address}/ (sign in with a token from ${o.tokens})` : 'fiscus serve: the console is not built (run npm ci or npm run build:console, then restart); the API works meanwhile');
      await closed;
    });
};
