/**
 * Issue 15's leftovers, checked on the repository itself: `npm ci` on the Node
 * version package.json declares warns no EBADENGINE, every dependency is used,
 * no benchmark harness sits inside a library folder, dates and SQL strings go
 * through their one parser and quoter, and no export is dead.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { engines?: { node?: string } | string[]; dev?: boolean }>;
};
// semver is npm's own range logic (a dependency of the installed tree), the same npm ci applies.
const semver = createRequire(import.meta.url)('semver') as {
  minVersion(range: string): { version: string } | null;
  satisfies(version: string, range: string): boolean;
};

const tracked = execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n');
const sources = tracked.filter((f) => /\.(ts|mts|js|mjs|vue)$/.test(f));
const text = new Map(sources.map((f) => [f, readFileSync(join(ROOT, f), 'utf8')]));

describe('npm ci on the declared Node version', () => {
  const oldest = semver.minVersion(pkg.engines.node)!.version;

  it('no locked package refuses the oldest Node package.json allows (no EBADENGINE)', () => {
    expect(oldest).toMatch(/^20\./);
    const refusing = Object.entries(lock.packages)
      .filter(([name, p]) => name !== '' && p.engines && !Array.isArray(p.engines) && p.engines.node)
      .filter(([, p]) => !semver.satisfies(oldest, (p.engines as { node: string }).node))
      .map(([name, p]) => `${name} wants node ${(p.engines as { node: string }).node}`);
    expect(refusing).toEqual([]);
  });

  it('the console gets a @vueuse/core that runs on Node 20 (element-plus 2.14.8 asks for 15.0.0, which wants Node 22)', () => {
    const vueuse = Object.entries(lock.packages).filter(([name]) => name.endsWith('node_modules/@vueuse/core'));
    expect(vueuse.length).toBeGreaterThan(0);
    for (const [, p] of vueuse) expect((p as { version?: string }).version).toBe('14.4.0');
  });
});

describe('dependencies', () => {
  /** The package an import specifier names: `a/b/c` → `a`, `@s/a/b` → `@s/a`. */
  const packageOf = (spec: string) => spec.split('/').slice(0, spec.startsWith('@') ? 2 : 1).join('/');
  const imported = new Set<string>();
  for (const t of text.values()) {
    for (const m of t.matchAll(/(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+|\brequire\s*\(\s*)['"]([^'"./][^'"]*)['"]/g)) imported.add(packageOf(m[1]!));
  }
  /** Used without an import of their own, and why. */
  const notImported: Record<string, string> = {
    '@duckdb/node-bindings': 'the native binding @duckdb/node-api loads; pinned to the same release',
    typescript: 'npm run typecheck',
    commander: 'the peer of @commander-js/extra-typings, which the CLI imports; pinned to the same major',
    'axe-core': 'injected into the console pages by file path (test/console)',
  };

  it('every dependency is imported somewhere, or says why not', () => {
    const unused = Object.keys({ ...pkg.dependencies, ...pkg.devDependencies })
      .filter((d) => !d.startsWith('@types/') && !(d in notImported) && !imported.has(d));
    expect(unused).toEqual([]);
  });

  it('date-fns and simple-statistics do real work: dates are parsed and reference figures computed with them', () => {
    const users = (dep: string) => sources.filter((f) => new RegExp(`from ['"]${dep}['"]`).test(text.get(f)!) && !f.startsWith('test/'));
    expect(users('date-fns')).toContain('engine/dates.ts');
    expect(users('@date-fns/tz')).toContain('engine/dates.ts');
    expect(users('simple-statistics').length).toBeGreaterThan(0);
  });
});

describe('library folders', () => {
  const LIBRARY = ['engine', 'rules', 'tracker', 'api', 'report', 'cli', 'ingest', 'flags', 'projects', 'watch'];
  const library = sources.filter((f) => LIBRARY.includes(f.split('/')[0]!) && f.endsWith('.ts'));

  it('hold no benchmark harness (those live in bench/; cli/commands/bench.ts only starts them)', () => {
    expect(library.filter((f) => /^bench[-_]/.test(f.split('/').pop()!))).toEqual([]);
    expect(library.filter((f) => /(^|\/)(bench|autocannon)\b/.test(f.split('/').pop()!) && f !== 'cli/commands/bench.ts')).toEqual([]);
  });

  it('check dates with the one parser (engine/dates.ts) and quote SQL text with the one quoter (engine/sql-quote.ts)', () => {
    // A regex ending in a whole YYYY-MM-DD is a date validator of its own; timestamps' patterns go on past the day.
    const dateRegex = /\\d\{4\}-\\d\{2\}-\\d\{2\}\)?\$/;
    expect(dateRegex.test(String.raw`/^\d{4}-\d{2}-\d{2}$/`)).toBe(true);
    expect(library.filter((f) => f !== 'engine/dates.ts' && dateRegex.test(text.get(f)!))).toEqual([]);
    // Doubling single quotes by hand is a SQL string quoter of its own.
    const quoter = /replace(All)?\(\s*(\/'\/g|"'"|`'`)\s*,\s*("''"|`''`|'\\'\\'')/;
    expect(quoter.test(`s.replace(/'/g, "''")`)).toBe(true);
    expect(library.filter((f) => f !== 'engine/sql-quote.ts' && quoter.test(text.get(f)!))).toEqual([]);
    expect(quoter.test(text.get('engine/sql-quote.ts')!)).toBe(true);
  });

  it('export nothing that no file, not even their own, uses', () => {
    const dead: string[] = [];
    for (const f of library) {
      const own = text.get(f)!;
      const names = [...own.matchAll(/^export\s+(?:declare\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+([A-Za-z_$][\w$]*)/gm)].map((m) => m[1]!);
      for (const n of names) {
        const word = `\\b${n.replace(/\$/g, '\\$')}\\b`;
        if ((own.match(new RegExp(word, 'g')) ?? []).length > 1) continue; // used in its own file
        if ([...text].some(([g, t]) => g !== f && new RegExp(word).test(t))) continue;
        dead.push(`${f}: ${n}`);
      }
    }
    expect(dead).toEqual([]);
  });
});
