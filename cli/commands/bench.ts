/** `fiscus bench` (npm run bench [-- --quick]): scenarios vs baselines, written to bench-results.json. */
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UsageError } from '../../engine/errors.ts';
import { formatTable } from '../../bench/results.ts';
import { FULL_SIZES, QUICK_SIZES, runBench } from '../../bench/run.ts';
import type { RegisterCommand } from './index.ts';

const SCENARIOS = ['ingest_payments', 'rules_pack', 'rules_incremental', 'api_alerts', 'api_flags', 'api_flags_query_load', 'watch_arrival_to_alert'];

export function parseSizes(text: string): number[] {
  const sizes = text.split(',').map((s) => {
    const m = /^(\d+(?:\.\d+)?)([kKmM]?)$/.exec(s.trim().replace(/_/g, ''));
    if (!m) throw new UsageError(`--sizes wants a comma list such as 20k,50k,100k (got "${s}")`);
    const n = Math.round(Number(m[1]) * (m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1e3 : 1e6));
    if (n < 1000) throw new UsageError(`--sizes: each size must be at least 1000 payments (got ${n})`);
    return n;
  });
  return sizes;
}

export const register: RegisterCommand = (program, ctx) => {
  program
    .command('bench')
    .description('benchmark ingest, the rule pack, incremental runs and the API against baselines; writes bench-results.json')
    .option('--quick', `small sizes (${QUICK_SIZES.join('/')}) and short API loads: about four minutes`)
    .option('--sizes <list>', `payments per size, e.g. 100k,1M,10M (full default ${FULL_SIZES.join(',')})`)
    .option('--only <names>', `comma list of scenarios: ${SCENARIOS.join(', ')}`)
    .option('--out <file>', 'results file', 'bench-results.json')
    .option('--work-dir <dir>', 'scratch folder for fixtures and databases', join(tmpdir(), 'fiscus-bench'))
    .option('--api-seconds <n>', 'load duration per API route and side (quick 1, full 10)')
    .option('--connections <n>', 'concurrent connections of the API load', '10')
    .option('--pairs <n>', 'measured pairs (ours, then the baseline) per timed scenario and size, reported by their medians (default: 5 when a pair takes under 2 s, 3 under 6 s, else 1)')
    .option('--keep', 'keep the generated fixtures and databases')
    .action(async (opts) => {
      const quick = Boolean(opts.quick);
      const sizes = opts.sizes ? parseSizes(opts.sizes) : quick ? QUICK_SIZES : FULL_SIZES;
      const only = opts.only ? opts.only.split(',').map((s) => s.trim()) : undefined;
      for (const n of only ?? []) if (!SCENARIOS.includes(n)) throw new UsageError(`--only: unknown scenario "${n}" (known: ${SCENARIOS.join(', ')})`);
      const apiSeconds = opts.apiSeconds ? Number(opts.apiSeconds) : quick ? 1 : 10;
      const connections = Number(opts.connections);
      if (!(apiSeconds > 0) || !(connections > 0)) throw new UsageError('--api-seconds and --connections must be positive numbers');
      const pairs = opts.pairs === undefined ? undefined : Number(opts.pairs);
      if (pairs !== undefined && !(Number.isInteger(pairs) && pairs >= 1)) throw new UsageError(`--pairs must be a whole number from 1 (got "${opts.pairs}")`);
      const resultsFile = resolve(opts.out);
      const results = await runBench({
        sizes,
        mode: opts.sizes ? 'custom' : quick ? 'quick' : 'full',
        workDir: resolve(opts.workDir),
        resultsFile,
        apiSeconds,
        connections,
        keep: Boolean(opts.keep),
        only,
        pairs,
        log: (l) => ctx.log(l),
      });
      ctx.io.out(formatTable(results));
      ctx.log(`results written to ${resultsFile}`);
    });
};
