import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { activeAllowEntries, loadConfig, matchAllow, parseConfig, resolveConfigPath } from '../../../rules/run/config.ts';
import type { RuleResultRow } from '../../../rules/types.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

function row(over: Partial<RuleResultRow> = {}): RuleResultRow {
  return {
    entity_type: 'payee', entity_id: 'A0101|6222020200112233', entity_name: null, region_code: '370811', agency_code: 'A0101',
    fiscal_year: 2025, period_start: '2025-03-03', period_end: '2025-03-07', severity: null, measure_name: 'window_total',
    measure_value: '612000.00', threshold: '200000.00', amount: '612000.00', evidence: [], evidence_query: null, vars: {}, ...over,
  };
}

describe('deployment config', () => {
  it('loads the shipped example', () => {
    const c = loadConfig(join(ROOT, 'fixtures/fiscus.config.example.yaml'));
    expect(c.rules['treasury.benford']).toEqual({ enabled: false });
    expect(c.allow).toHaveLength(3);
    expect(c.allow[0]!.until).toBe('2026-06-30'); // dates stay strings
  });

  it('names the file, line and key path of every error', () => {
    const text = `rules:
  treasury.split_payment:
    severity: critical
    params: { max_single: { a: 1 } }
allow:
  - rule: treasury.split_payment
    until: 2026-02-30
  - reason: nothing named
    until: 2026-01-01
`;
    let msg = '';
    try {
      parseConfig(text, 'deploy.yaml');
    } catch (e) {
      msg = (e as Error).message;
    }
    expect(msg).toMatch(/deploy\.yaml:3: rules\.treasury\.split_payment\.severity: /);
    expect(msg).toMatch(/deploy\.yaml:4: rules\.treasury\.split_payment\.params\.max_single: /);
    expect(msg).toMatch(/deploy\.yaml:6: allow\[0\]\.reason: is required/);
    expect(msg).toMatch(/deploy\.yaml:7: allow\[0\]\.until: is not a real date/);
    expect(msg).toMatch(/allow\[1\]: an allow entry must name at least one of/);
    expect(() => parseConfig('rules: [1', 'broken.yaml')).toThrow(/^broken\.yaml:1:\d+: YAML error/);
    expect(() => parseConfig('rulez: {}', 'typo.yaml')).toThrow(/typo\.yaml:\d*:? ?\(root\)|rulez/);
  });

  it('resolves --config, then FISCUS_CONFIG, then ./fiscus.config.yaml', () => {
    const dir = mkdtempSync(join(tmpdir(), 'fiscus-cfg-'));
    expect(resolveConfigPath(undefined, {}, dir)).toBeUndefined();
    writeFileSync(join(dir, 'fiscus.config.yaml'), 'rules: {}\n');
    expect(resolveConfigPath(undefined, {}, dir)).toBe(join(dir, 'fiscus.config.yaml'));
    expect(resolveConfigPath(undefined, { FISCUS_CONFIG: '/etc/f.yaml' }, dir)).toBe('/etc/f.yaml');
    expect(resolveConfigPath('/x/y.yaml', { FISCUS_CONFIG: '/etc/f.yaml' }, dir)).toBe('/x/y.yaml');
    expect(() => loadConfig(join(dir, 'missing.yaml'))).toThrow(/cannot read config .*missing\.yaml: ENOENT/);
  });

  it('matches allow entries on every given field and drops expired ones', () => {
    const c = parseConfig(
      `allow:
  - { rule: treasury.split_payment, agency: A0101, payee_account: "6222020200112233", reason: 分期合同, until: 2026-06-30 }
  - { agency: A0202, reason: 其他单位, until: 2026-06-30 }
  - { flag_id: abc, reason: 已审议, until: 2025-01-01 }
`,
      'a.yaml',
    );
    const active = activeAllowEntries(c, 'treasury.split_payment', '2025-12-31');
    expect(active.map((a) => a.reason)).toEqual(['分期合同', '其他单位']);
    expect(matchAllow(active, { flag_id: 'x', row: row() })?.reason).toBe('分期合同');
    expect(matchAllow(active, { flag_id: 'x', row: row({ entity_id: 'A0101|999' }) })).toBeUndefined();
    // a payment-level finding names its payee account in vars
    expect(matchAllow(active, { flag_id: 'x', row: row({ entity_type: 'payment', entity_id: 'P1', vars: { payee_account: '6222020200112233' } }) })?.reason).toBe('分期合同');
    expect(activeAllowEntries(c, 'treasury.no_budget', '2025-12-31').map((a) => a.reason)).toEqual(['其他单位']);
    expect(activeAllowEntries(c, 'x.y', '2024-12-31').map((a) => a.reason)).toEqual(['其他单位', '已审议']);
    expect(activeAllowEntries(c, 'x.y', '2026-07-01')).toEqual([]);
  });
});
