/** `fiscus fixtures generate`: a deterministic synthetic dataset in the canonical feed format. */
import { UsageError } from '../../engine/errors.ts';
import { DEFAULT_YEAR, generateFixtures } from '../../fixtures/generate/index.ts';
import type { RegisterCommand } from './index.ts';

function intOption(name: string, value: string): number {
  const clean = value.replace(/_/g, '');
  const m = /^(\d+)([kKmM]?)$/.exec(clean);
  if (!m) throw new UsageError(`${name} wants a whole number such as 100000, 100k or 10M (got "${value}")`);
  const mult = m[2] === '' ? 1 : m[2]!.toLowerCase() === 'k' ? 1_000 : 1_000_000;
  return Number(m[1]) * mult;
}

export const register: RegisterCommand = (program, ctx) => {
  const fixtures = program.command('fixtures').description('synthetic datasets for tests and benchmarks');
  fixtures
    .command('generate')
    .description('write one CSV per feed table (FEEDS.md format) and manifest.json into --out; same seed, same bytes')
    .requiredOption('--out <dir>', 'output folder (created if missing)')
    .requiredOption('--payments <n>', 'number of treasury payments, e.g. 100000, 1M, 10M')
    .option('--seed <seed>', 'PRNG seed (any string)', '1')
    .option('--year <year>', `fiscal year under review; the year before is generated too (${DEFAULT_YEAR})`, String(DEFAULT_YEAR))
    .option('--increment <pct>', 'also write a later batch of new payments, this percent of --payments, into <out>/increment/', '0')
    .action(async (opts) => {
      const payments = intOption('--payments', opts.payments);
      const year = Number(opts.year);
      const incrementPct = Number(opts.increment);
      if (!Number.isFinite(incrementPct) || incrementPct < 0 || incrementPct > 100) throw new UsageError(`--increment wants a percent between 0 and 100 (got "${opts.increment}")`);
      const started = Date.now();
      const manifest = await generateFixtures({ out: opts.out, payments, seed: opts.seed, year, incrementPct, log: (l) => ctx.log(l) });
      const rss = Math.round(process.resourceUsage().maxRSS / 1024);
      ctx.log(`wrote ${Object.keys(manifest.tables).length} tables and ${manifest.planted.length} planted findings to ${opts.out} in ${((Date.now() - started) / 1000).toFixed(1)} s (peak RSS ${rss} MB)`);
      ctx.io.out(`${JSON.stringify({ out: opts.out, payments, seed: opts.seed, year: manifest.year, as_of: manifest.as_of, rows: Object.fromEntries(Object.entries(manifest.tables).map(([t, s]) => [t, s.rows])), planted: manifest.planted.length, peak_rss_mb: rss }, null, 2)}\n`);
    });
};
