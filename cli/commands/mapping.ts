/**
 * `fiscus mapping suggest FILE [--table T]`: draft a mapping profile from a
 * file's headers and sample values (ingest/suggest.ts). The draft goes to
 * stdout (or --out FILE); check it with `fiscus ingest FILE --mapping P --dry-run`.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { UsageError } from '../../engine/errors.ts';
import { FEEDS } from '../../engine/feeds.ts';
import { parseMappingProfile } from '../../ingest/mapping.ts';
import { suggestProfile } from '../../ingest/suggest.ts';
import type { RegisterCommand } from './index.ts';

export const register: RegisterCommand = (program, ctx) => {
  const mapping = program.command('mapping').description('mapping profiles for exports that do not speak FEEDS.md — 映射配置');
  mapping
    .command('suggest')
    .description("draft a mapping profile from a file's headers and sample values — 生成映射配置草稿")
    .argument('<file>', 'a CSV, Excel (.xlsx), JSON or JSON Lines export')
    .option('--table <table>', `the target table (default: the one whose columns the headers name best): ${FEEDS.map((f) => f.name).join(', ')}`)
    .option('--sheet <sheet>', 'Excel: sheet name or 1-based index')
    .option('--records <path>', 'JSON document: path of the record array, e.g. $.data.items (default: the first array of objects)')
    .option('--out <file>', 'write the draft to this file instead of stdout (refuses to overwrite)')
    .action(async (file, opts) => {
      if (opts.table && !FEEDS.some((f) => f.name === opts.table)) {
        throw new UsageError(`unknown table "${opts.table}". Known tables: ${FEEDS.map((f) => f.name).join(', ')}`);
      }
      if (!existsSync(file)) throw new UsageError(`cannot read ${file}: no such file`);
      const sheet = opts.sheet === undefined ? undefined : /^\d+$/.test(opts.sheet) ? Number(opts.sheet) : opts.sheet;
      const s = await suggestProfile(file, { table: opts.table, sheet, records: opts.records });
      parseMappingProfile(s.yaml, 'draft.yaml'); // the draft is always a valid profile
      if (opts.out) {
        if (existsSync(opts.out)) throw new UsageError(`${opts.out} exists; not overwriting a profile (choose another --out)`);
        writeFileSync(opts.out, s.yaml);
        ctx.log(`draft profile for ${s.table} written to ${opts.out} (header on row ${s.headerRow}); check it, then: fiscus ingest ${file} --mapping ${opts.out} --dry-run`);
      } else {
        ctx.io.out(s.yaml);
        ctx.log(`draft profile for ${s.table} (header on row ${s.headerRow}); check every line, then try it with --dry-run`);
      }
    });
};
