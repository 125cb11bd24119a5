/** `fiscus flags`: the stored flags, in the FLAGS.md shape for jsonl/json. */
import { Option } from '@commander-js/extra-typings';
import { UsageError } from '../../engine/errors.ts';
import { formatRows } from '../../engine/format.ts';
import { listFlags } from '../../flags/list.ts';
import { contractFlag, flagToFlat } from '../../flags/row.ts';
import { SEVERITIES, type FlagRecordJson } from '../../flags/schema.ts';
import { STATUSES } from '../../tracker/states.ts';
import { apiCall, apiTarget } from '../api-client.ts';
import type { CliContext } from '../context.ts';
import { fitTable, outputWidth } from '../table.ts';
import { checkChoices, checkKnown, knownAgencyCodes, knownRuleIds, splitList } from '../validate.ts';
import type { RegisterCommand } from './index.ts';

/** The table people read: one line a flag, the title cut to the terminal width (full text in --format csv/json). */
const TABLE_COLUMNS = ['flag_id', 'severity', 'status', 'rule_id', 'agency_code', 'title'];
function printTable(ctx: CliContext, flags: readonly FlagRecordJson[]): void {
  ctx.io.out(fitTable(flags.map(flagToFlat), TABLE_COLUMNS, { width: outputWidth(ctx.io.columns), flex: 'title', alsoShrink: [{ column: 'rule_id', min: 14 }], labels: { agency_code: 'agency' } }));
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('flags')
    .description('预警列表 / list flags (jsonl and json print the FLAGS.md contract shape)')
    .option('--rule <id...>', 'only these rules (repeat or comma-separate)')
    .option('--severity <s...>', 'high | medium | low (repeat or comma-separate)')
    .option('--agency <code...>', 'only these agencies (repeat or comma-separate)')
    .option('--status <s...>', `tracker status: ${STATUSES.join(' | ')} (repeat or comma-separate, e.g. assigned,rectifying)`)
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
      // Unknown values are usage errors with a did-you-mean, never a silent "(no rows)".
      const rule = splitList(opts.rule);
      const agency = splitList(opts.agency);
      const severity = checkChoices('--severity', splitList(opts.severity), SEVERITIES);
      const status = checkChoices('--status', splitList(opts.status), STATUSES);
      const api = apiTarget(opts);
      if (api) {
        // The same filter names and text form as the local query (flags/filter.ts), and the same order.
        const q = new URLSearchParams({ sort: 'rule' });
        for (const [k, v] of [['rule', rule], ['severity', severity], ['agency', agency], ['status', status]] as const) if (v?.length) q.set(k, v.join(','));
        if (opts.reproduced) q.set('reproduced', opts.reproduced);
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
      const { items: extended } = await listFlags(
        store,
        { rule, severity, agency, status, reproduced: opts.reproduced === undefined ? undefined : opts.reproduced === 'true' },
        { sort: 'rule', limit },
      );
      if (opts.format === 'jsonl' || opts.format === 'json') {
        const flags = extended.map(contractFlag);
        ctx.io.out(opts.format === 'json' ? `${JSON.stringify(flags, null, 2)}\n` : flags.map((f) => JSON.stringify(f)).join('\n') + (flags.length ? '\n' : ''));
        return;
      }
      if (opts.format === 'table') printTable(ctx, extended);
      else ctx.io.out(formatRows(extended.map(flagToFlat), opts.format));
    });
};
