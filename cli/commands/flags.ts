/** `fiscus flags`: the stored flags, in the FLAGS.md shape for jsonl/json. */
import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../../engine/errors.ts';
import { formatRows } from '../../engine/format.ts';
import { money } from '../../engine/numbers.ts';
import { WorkCalendar, todayInShanghai } from '../../engine/calendar.ts';
import { flagFilterQuery, normalizeFilter } from '../../flags/filter.ts';
import { FLAG_SORTS, listFlags } from '../../flags/list.ts';
import { overdueCutoff } from '../../tracker/deadlines.ts';
import { contractFlag, flagToFlat } from '../../flags/row.ts';
import { shortFlagId } from '../../flags/short-id.ts';
import { SEVERITIES, type FlagRecordJson } from '../../flags/schema.ts';
import { STATUSES } from '../../tracker/states.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import type { CliContext } from '../context.ts';
import { fitTable, outputWidth } from '../table.ts';
import { checkChoices, checkKnown, knownAgencyCodes, knownRegionCodes, knownRuleIds, splitList } from '../validate.ts';
import type { RegisterCommand } from './index.ts';

/**
 * The table people read: one line a flag, the short id every flag-id argument accepts
 * (flags/short-id.ts), the amount in yuan grouped with 2 decimals, the title cut to the
 * terminal width. The full id, the exact amount and the whole title are in --format csv/json.
 */
const TABLE_COLUMNS = ['id', 'severity', 'status', 'rule_id', 'agency_code', 'amount', 'title'];
function printTable(ctx: CliContext, flags: readonly FlagRecordJson[]): void {
  const rows = flags.map((f) => ({ ...flagToFlat(f), id: shortFlagId(f.flag_id), amount: f.amount === null ? '' : money(f.amount) }));
  ctx.io.out(
    fitTable(rows, TABLE_COLUMNS, {
      width: outputWidth(ctx.io.columns),
      flex: 'title',
      alsoShrink: [{ column: 'rule_id', min: 14 }],
      labels: { agency_code: 'agency', amount: 'amount (元)' },
      right: ['amount'],
    }),
  );
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('flags')
    .description('预警列表 / list flags (jsonl and json print the FLAGS.md contract shape)')
    .option('--rule <id...>', 'only these rules (repeat or comma-separate)')
    .option('--severity <s...>', 'high | medium | low (repeat or comma-separate)')
    .option('--agency <code...>', 'only these agencies (repeat or comma-separate)')
    .option('--status <s...>', `tracker status: ${STATUSES.join(' | ')} (repeat or comma-separate, e.g. assigned,rectifying)`)
    .option('--region <code...>', 'regions, with the regions below them (repeat or comma-separate)')
    .option('--fiscal-year <year>', 'only this fiscal year')
    .option('--period-from <date>', 'flags whose period ends on or after this day (YYYY-MM-DD)')
    .option('--period-to <date>', 'flags whose period starts on or before this day (YYYY-MM-DD)')
    .option('--overdue', 'only overdue flags (assigned/rectifying past their deadline, judged today)')
    .option('--text <words>', 'words in the title or entity name, an exact entity id, or a flag id or its first 6+ characters')
    .addOption(new Option('--reproduced <bool>', 'true: raised by the last run; false: no longer reproduced').choices(['true', 'false'] as const))
    .addOption(new Option('--sort <order>', 'rule (default) | newest | oldest | severity | amount | due').choices(FLAG_SORTS).default('rule' as const))
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
      // Unknown values are usage errors with a did-you-mean, never a silent "(no rows)".
      const rule = splitList(opts.rule);
      const agency = splitList(opts.agency);
      const severity = checkChoices('--severity', splitList(opts.severity), SEVERITIES);
      const status = checkChoices('--status', splitList(opts.status), STATUSES);
      const region = splitList(opts.region);
      // The filter's one text form (flags/filter.ts): the same names GET /v1/flags reads.
      const text: Record<string, string> = {};
      for (const [k, v] of [['rule', rule], ['severity', severity], ['agency', agency], ['status', status], ['region', region]] as const) if (v?.length) text[k] = v.join(',');
      for (const [k, v] of [['fiscal_year', opts.fiscalYear], ['period_from', opts.periodFrom], ['period_to', opts.periodTo], ['q', opts.text], ['reproduced', opts.reproduced]] as const) if (v !== undefined) text[k] = v;
      if (opts.overdue) text.overdue = 'true';
      const parsed = flagFilterQuery.safeParse(text);
      if (!parsed.success) {
        const i = parsed.error.issues[0]!;
        const key = String(i.path[0] ?? '');
        throw new UsageError(`--${key === 'q' ? 'text' : key.replace('_', '-')}: ${i.message}`);
      }
      const filter = normalizeFilter(parsed.data);
      const api = apiTarget(opts);
      if (api) {
        // The same filter names and text form as the local query (flags/filter.ts), and the same order.
        const q = new URLSearchParams({ ...text, sort: opts.sort });
        const items: FlagRecordJson[] = [];
        let cursor: string | null = null;
        do {
          if (cursor) q.set('cursor', cursor);
          q.set('limit', String(Math.min(500, limit === undefined ? 500 : Math.max(1, limit - items.length))));
          const page: { items: FlagRecordJson[]; next_cursor: string | null } = await apiCall(api, 'GET', `/v1/flags?${q}`);
          items.push(...page.items);
          cursor = page.next_cursor;
        } while (cursor && (limit === undefined || items.length < limit));
        const flags = limit === undefined ? items : items.slice(0, limit);
        if (opts.format === 'jsonl' || opts.format === 'json') {
          // The contract shape only (the API adds the stored row's fields).
          const plain = flags.map(contractFlag);
          ctx.io.out(opts.format === 'json' ? `${JSON.stringify(plain, null, 2)}\n` : plain.map((f) => JSON.stringify(f)).join('\n') + (plain.length ? '\n' : ''));
        } else if (opts.format === 'table') printTable(ctx, flags);
        else ctx.io.out(formatRows(flags.map(flagToFlat), opts.format));
        return;
      }
      const store = await ctx.open();
      if (rule) checkKnown('--rule', rule, await knownRuleIds(store), 'rule', 'fiscus rules list shows the rule ids');
      if (agency) checkKnown('--agency', agency, await knownAgencyCodes(store), 'agency', 'codes of ref.agencies or of a flag');
      if (region) checkKnown('--region', region, await knownRegionCodes(store), 'region', 'codes of ref.regions or of a flag');
      const cutoff = filter.overdue === undefined ? undefined : overdueCutoff(await WorkCalendar.load(store), todayInShanghai());
      const { items: extended } = await listFlags(store, filter, { sort: opts.sort, limit, overdueCutoff: cutoff });
      if (opts.format === 'jsonl' || opts.format === 'json') {
        const flags = extended.map(contractFlag);
        ctx.io.out(opts.format === 'json' ? `${JSON.stringify(flags, null, 2)}\n` : flags.map((f) => JSON.stringify(f)).join('\n') + (flags.length ? '\n' : ''));
        return;
      }
      if (opts.format === 'table') printTable(ctx, extended);
      else ctx.io.out(formatRows(extended.map(flagToFlat), opts.format));
    });
};
