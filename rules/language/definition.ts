/**
 * The rule envelope: id, titles, params, reads, … read from YAML with
 * positions. The logic and the envelope expressions are compiled (and so
 * checked) by compile.ts.
 */
import { formatIsoDate, isIsoDate } from '../../engine/dates.ts';
import type { EntityType, RuleMeta, RuleParamDef, RuleStatus, Severity } from '../types.ts';
import { RuleError } from './errors.ts';
import { YamlFile, isMap, isScalar, isSeq, type Node, type YAMLMap } from './yaml-doc.ts';

export const LOGIC_KINDS = ['match', 'aggregate', 'window', 'sequence', 'cluster', 'compare', 'deadline', 'benford', 'robust_z'] as const;
export type LogicKind = (typeof LOGIC_KINDS)[number];

export const ENTITY_TYPES: EntityType[] = [
  'agency', 'budget_line', 'payment', 'payee', 'region', 'bond', 'allocation', 'debt_service', 'transfer', 'asset', 'asset_change', 'enterprise',
  'project',
];
const SEVERITIES: Severity[] = ['high', 'medium', 'low'];
const STATUSES: RuleStatus[] = ['experimental', 'test', 'stable'];
const PARAM_TYPES: RuleParamDef['type'][] = ['money', 'number', 'integer', 'percent', 'days', 'string', 'date', 'boolean', 'list'];

export const ENVELOPE_FIELDS = [
  'id', 'version', 'status', 'severity', 'severity_if', 'name', 'title', 'description', 'references', 'params', 'reads',
  'scope', 'lookup', 'let', 'entity', 'region_code', 'agency_code', 'fiscal_year', 'period', 'measure', 'amount', 'evidence',
  'skip_reason', ...LOGIC_KINDS,
];

export interface RuleDefinition {
  meta: RuleMeta;
  file: string;
  kind: LogicKind;
  /** The parsed YAML with positions (used by the compiler). */
  yaml: YamlFile;
  /** Where each param was declared, to point errors at it. */
  paramNodes: Map<string, Node>;
  /** Warnings of the check (set by parseRuleText). */
  warnings?: RuleError[];
}

/** Parse the envelope; the caller then compiles the logic to check it. */
export function readDefinition(y: YamlFile, builtin: boolean): RuleDefinition {
  const root = y.root();
  y.keys(root, ENVELOPE_FIELDS, 'a rule');
  const idNode = y.required(root, 'id', 'a rule');
  const id = y.str(idNode, '`id`');
  if (!/^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/.test(id)) {
    throw y.err(idNode, `rule id \`${id}\` must look like area.name (lowercase, e.g. treasury.split_payment)`);
  }
  const vNode = y.required(root, 'version', 'a rule');
  const version = Number(y.str(vNode, '`version`'));
  if (!Number.isInteger(version) || version < 1) throw y.err(vNode, '`version` must be a whole number ≥ 1');
  const status = oneOf(y, root, 'status', STATUSES, 'experimental') as RuleStatus;
  const severity = oneOf(y, root, 'severity', SEVERITIES, undefined) as Severity;

  const titleTemplate = zhEn(y, y.required(root, 'title', 'a rule'), 'title');
  let title = { zh: shortTitle(titleTemplate.zh), en: shortTitle(titleTemplate.en) };
  const nameNode = y.get(root, 'name');
  if (nameNode) title = zhEn(y, nameNode, 'name');
  const description: RuleMeta['description'] = {};
  const dNode = y.get(root, 'description');
  if (dNode) {
    const m = y.map(dNode, '`description`');
    y.keys(m, ['zh', 'en'], '`description`');
    const zh = y.optStr(m, 'zh', '`description.zh`');
    const en = y.optStr(m, 'en', '`description.en`');
    if (zh) description.zh = zh.trim();
    if (en) description.en = en.trim();
  }
  const rNode = y.get(root, 'references');
  const references = rNode ? y.strList(rNode, 'a reference').map((r) => r.value) : [];

  const params: RuleParamDef[] = [];
  const paramNodes = new Map<string, Node>();
  const pNode = y.get(root, 'params');
  if (pNode && !(isScalar(pNode) && pNode.value === null)) {
    const pm = y.map(pNode, '`params`');
    for (const item of pm.items) {
      const name = String((item.key as { value: unknown }).value);
      const keyNode = item.key as Node;
      if (!/^[a-z][a-z0-9_]*$/.test(name)) throw y.err(keyNode, `parameter name \`${name}\` must be lowercase letters, digits and _`);
      const def = y.map(item.value as Node, `parameter \`${name}\``);
      y.keys(def, ['type', 'default', 'description'], `parameter \`${name}\``);
      const type = oneOf(y, def, 'type', PARAM_TYPES, undefined) as RuleParamDef['type'];
      const dn = y.required(def, 'default', `parameter \`${name}\``);
      const raw = isSeq(dn) ? dn.items.map((i) => y.str(i as Node, 'a list item')) : (y.scalar(dn, 'a default').value as unknown);
      const value = checkParamValue(type, raw);
      if (typeof value === 'string' && value.startsWith('!')) throw y.err(dn, `default of \`${name}\`: ${value.slice(1)}`);
      const p: RuleParamDef = { name, type, default: value };
      const desc = y.optStr(def, 'description', 'a description');
      if (desc) p.description = desc;
      params.push(p);
      paramNodes.set(name, item.value as Node);
    }
  }

  const readsNode = y.required(root, 'reads', 'a rule');
  const reads = y.strList(readsNode, 'a table name').map((r) => r.value);

  const kinds = LOGIC_KINDS.filter((k) => y.get(root, k) !== undefined);
  if (kinds.length !== 1) {
    throw y.err(root, kinds.length === 0 ? `a rule needs its logic: one of ${LOGIC_KINDS.map((k) => `\`${k}:\``).join(', ')}` : `a rule has one logic block; found ${kinds.join(' and ')}`);
  }
  const entityNode = y.map(y.required(root, 'entity', 'a rule'), '`entity`');
  y.keys(entityNode, ['type', 'id', 'name'], '`entity`');
  const entityType = oneOf(y, entityNode, 'type', ENTITY_TYPES, undefined) as EntityType;

  const meta: RuleMeta = {
    id, version, status, severity, title, titleTemplate, description, references, params, reads, entityType,
    ...measureLabel(y, root),
    source: { file: y.file, builtin },
  };
  return { meta, file: y.file, kind: kinds[0], yaml: y, paramNodes };
}

/** `measure.label` (zh and en), what a reader calls the measure; the envelope check reads the rest of `measure`. */
function measureLabel(y: YamlFile, root: YAMLMap): Pick<RuleMeta, 'measureLabel'> {
  const m = y.get(root, 'measure');
  const l = m && isMap(m) ? y.get(m, 'label') : undefined;
  return l ? { measureLabel: zhEn(y, l, 'measure.label') } : {};
}

/** A text in both languages (`title`, `name`, `measure.label`): a map of exactly `zh` and `en`, both required. */
function zhEn(y: YamlFile, node: Node, field: string): { zh: string; en: string } {
  const m = y.map(node, `\`${field}\``);
  y.keys(m, ['zh', 'en'], `\`${field}\``);
  return { zh: y.str(y.required(m, 'zh', `\`${field}\``), `\`${field}.zh\``), en: y.str(y.required(m, 'en', `\`${field}\``), `\`${field}.en\``) };
}

function shortTitle(t: string): string {
  const m = /^([^：:{]+)[：:]/.exec(t);
  return (m ? m[1] : t.replace(/\{[^}]*\}/g, '')).trim();
}

function oneOf(y: YamlFile, map: YAMLMap, key: string, allowed: readonly string[], dflt: string | undefined): string {
  const n = y.get(map, key);
  if (n === undefined) {
    if (dflt !== undefined) return dflt;
    throw y.err(map, `missing \`${key}:\` (one of ${allowed.join(', ')})`);
  }
  const v = y.str(n, `\`${key}\``);
  if (!allowed.includes(v)) throw y.err(n, `\`${key}: ${v}\` is not one of ${allowed.join(', ')}`);
  return v;
}

/**
 * Check a parameter value (default or override) against its declared type.
 * Returns the normalised value, or a string starting with `!` describing the problem.
 * Money and numbers are kept as decimal strings/numbers exactly as written.
 */
export function checkParamValue(type: RuleParamDef['type'], v: unknown): RuleParamDef['default'] {
  const bad = (what: string) => `!expected ${what}, got ${JSON.stringify(v)}`;
  switch (type) {
    case 'money': {
      const s = typeof v === 'number' ? String(v) : typeof v === 'string' ? v.replaceAll(',', '').trim() : '';
      return /^-?\d+(\.\d{1,2})?$/.test(s) ? s : bad('an amount in yuan with at most 2 decimals (e.g. 200000 or 1234.50)');
    }
    case 'number':
    case 'percent': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      return Number.isFinite(n) ? n : bad('a number');
    }
    case 'integer':
    case 'days': {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n)) return bad('a whole number');
      if (type === 'days' && n < 0) return bad('a number of days ≥ 0');
      return n;
    }
    case 'string':
      return typeof v === 'string' ? v : typeof v === 'number' ? String(v) : bad('text');
    case 'date': {
      const s = v instanceof Date && !Number.isNaN(v.getTime()) ? formatIsoDate(v) : typeof v === 'string' ? v : '';
      return isIsoDate(s) ? s : bad('a date YYYY-MM-DD');
    }
    case 'boolean':
      return typeof v === 'boolean' ? v : v === 'true' || v === 'false' ? v === 'true' : bad('true or false');
    case 'list':
      if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v.map(String);
      return bad('a list of values');
  }
}

export { isMap };
