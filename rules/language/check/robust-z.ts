/** robust_z — robust z-score of a row's value within its peer group (median and MAD). */
import type { IR, RobustZPlan } from '../plan/types.ts';
import type { KindChecker } from './kind.ts';

export const checkRobustZ: KindChecker<RobustZPlan> = (c, m) => {
  c.needs(c.y.get(m, 'peer_group'), 'median', '`robust_z` (median and MAD of each peer group)');
  let src = c.source(m, '`robust_z`', (s) => c.globals(s), ['peer_group', 'value', 'min_size', 'scale', 'having']);
  src = c.where(m, src);
  const s = src.scope;
  const groups = c.namedExprs(c.y.required(m, 'peer_group', '`robust_z`'), '`peer_group`', s);
  const value = c.expr(c.y.required(m, 'value', '`robust_z`'), s, '`value`', 'numeric');
  const minSize = c.expr(c.y.required(m, 'min_size', '`robust_z`'), s, '`min_size`', 'integer');
  const scaleNode = c.y.get(m, 'scale');
  const info = { agg: false, span: value.span };
  const scale: IR = scaleNode ? c.expr(scaleNode, s, '`scale`', 'numeric') : { k: 'num', raw: '1.4826', type: 'number', ...info };
  const slot = (name: string, type: IR['type']): IR => ({ k: 'slot', rel: 'zs', name, quoted: false, type, ...info });
  const asDouble: IR = { k: 'call', fn: 'to_double', args: [value], distinct: false, type: 'number', ...info };
  const z: IR = {
    k: 'call', fn: 'nullif_div', distinct: false, type: 'number', ...info,
    args: [
      { k: 'binary', op: '-', left: asDouble, right: slot('__med', 'number'), type: 'number', ...info },
      { k: 'binary', op: '*', left: scale, right: slot('__mad', 'number'), type: 'number', ...info },
    ],
  };
  s.names.set('z', { kind: 'ir', ir: z });
  s.names.set('peer_median', { kind: 'ir', ir: slot('__med', 'number') });
  s.names.set('peer_mad', { kind: 'ir', ir: slot('__mad', 'number') });
  s.names.set('peer_n', { kind: 'ir', ir: slot('__n', 'integer') });
  c.lets(s);
  const h = c.y.get(m, 'having');
  const having = h ? c.expr(h, s, '`having`', 'boolean') : undefined;
  return { plan: { kind: 'robust_z', source: src.plan, groups, value, minSize, scale, ...(having ? { having } : {}) }, scope: s };
};
