/** `fiscus flags`: the stored flags, in the FLAGS.md shape for jsonl/json. */
import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../../engine/errors.ts';
import { formatRows } from '../../engine/format.ts';
import { flagRowToJson, flagToFlat, queryFlags, type FlagJsonExtended } from '../../rules/run/flag-json.ts';
import type { Severity } from '../../rules/types.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('flags')
    .description('预警列表 / list flags (jsonl and json print the FLAGS.md contract shape)')
    .option('--rule <id...>', 'only these rules')
    .addOption(new Option('--severity <s...>', 'high | medium | low').choices(['high', 'medium', 'low'] as const))
    .option('--agency <code...>', 'only these agencies')
    .option('--status <s...>', 'tracker status, e.g. discovered, assigned')
    .addOption(new Option('--reproduced <bool>', 'true: raised by the last run; false: no longer reproduced').choices(['true', 'false'] as const))
    .option('--limit <n>', 'at most n flags')
    .addOption(new Option('--format <format>', 'table | jsonl | csv | json').choices(['table', 'jsonl', 'csv', 'json'] as const).default('table' as const))
    .option('--api <url>', 'read from a running `fiscus serve` (env FISCUS_API)')
    .option('--token <token>', 'API token for --api (env FISCUS_TOKEN)')
    .action(async (opts) => {
      let limit: number | undefined;
      if (opts.limit !== undefined) {
        limit = Number(opts.limit);
        if (!Number.isInteger(limit) || limit < 0) throw new UsageError(`--limit must be a whole number (got "${opts.limit}")`);
      }
      const api = apiTarget(opts);
      if (api) {
        const q = new URLSearchParams();
        for (const [k, v] of [['rule', opts.rule], ['severity', opts.severity], ['agency', opts.agency], ['status', opts.status]] as const) if (v?.length) q.set(k, v.join(','));
        if (opts.reproduced) q.set('reproduced', opts.reproduced);
        const items: FlagJsonExtended[] = [];
        let cursor: string | null = null;
        do {
          if (cursor) q.set('cursor', cursor);
          q.set('limit', String(Math.min(500, limit === undefined ? 500 : Math.max(1, limit - items.length))));
          const page: { items: FlagJsonExtended[]; next_cursor: string | null } = await apiCall(api, 'GET', `/v1/flags?${q}`);
          items.push(...page.items);
          cursor = page.next_cursor;
        } while (cursor && (limit === undefined || items.length < limit));
        const flags = limit === undefined ? items : items.slice(0, limit);
        if (opts.format === 'jsonl' || opts.format === 'json') {
          // The contract shape only (the API adds tracker fields).
          const plain = flags.map(({ reproduced: _r, last_seen_at: _l, evidence_query: _q, due_date: _d, assigned_to: _a, ...f }) => f);
          ctx.io.out(opts.format === 'json' ? `${JSON.stringify(plain, null, 2)}\n` : plain.map((f) => JSON.stringify(f)).join('\n') + (plain.length ? '\n' : ''));
        } else ctx.io.out(formatRows(flags.map(flagToFlat), opts.format));
        return;
      }
      const store = await ctx.open();
      const rows = await queryFlags(store, {
        rule: opts.rule,
        severity: opts.severity as Severity[] | undefined,
        agency: opts.agency,
        status: opts.status,
        reproduced: opts.reproduced === undefined ? undefined : opts.reproduced === 'true',
        limit,
      });
      if (opts.format === 'jsonl' || opts.format === 'json') {
        const flags = rows.map((r) => flagRowToJson(r));
        ctx.io.out(opts.format === 'json' ? `${JSON.stringify(flags, null, 2)}\n` : flags.map((f) => JSON.stringify(f)).join('\n') + (flags.length ? '\n' : ''));
        return;
      }
      const flat = rows.map((r) => flagToFlat(flagRowToJson(r, { extended: true })));
      ctx.io.out(formatRows(flat, opts.format));
    });
};
